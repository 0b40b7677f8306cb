//! The gateway's clients of the services (each service's typed client from its contract,
//! sharing one connection pool) and what every call carries: the caller's token, the request
//! id and a child trace context — and, to matching only, the anonymous client's address,
//! sealed ([`Services::for_matching`]).

use crate::config::ServiceUrls;
use async_graphql::dataloader::Loader;
use cafeia_api::client::{Call, Http};
use cafeia_catalogue_api::CatalogueClient;
use cafeia_events_api::EventsClient;
use cafeia_facilitators_api::FacilitatorsClient;
use cafeia_matching_api::{
    MatchingClient,
    client_address::{self, AddressSeal},
};
use cafeia_outreach_api::OutreachClient;
use cafeia_platform::{AppError, health::ReadinessReport, telemetry::RequestContext};
use std::{collections::HashMap, net::IpAddr, sync::Arc};

/// Who a call is made for: the caller's token and the request it belongs to.
#[derive(Clone, Default)]
pub struct CallContext {
    pub token: Option<Arc<str>>,
    pub request: Option<RequestContext>,
    /// The client's address, as admission found it (behind trusted proxies).
    pub client: Option<IpAddr>,
}

impl CallContext {
    /// What one call to a service carries: the token, the request id and a child
    /// `traceparent` of its own.
    pub fn call(&self) -> Call {
        Call {
            token: self.token.clone(),
            headers: self
                .request
                .as_ref()
                .map(RequestContext::outgoing_headers)
                .unwrap_or_default(),
        }
    }
}

/// The typed client of every service, sharing one connection pool.
#[derive(Clone)]
pub struct Services {
    pub catalogue: CatalogueClient,
    pub facilitators: FacilitatorsClient,
    pub events: EventsClient,
    pub matching: MatchingClient,
    pub outreach: OutreachClient,
    /// Seals the client address for matching (`client_address.key`); `None` without a key.
    pub client_seal: Option<AddressSeal>,
}

impl Services {
    pub fn new(urls: &ServiceUrls) -> Result<Self, reqwest::Error> {
        let pool = Http::pool()?;
        let http = |base: &str| Http::new(pool.clone(), base);
        Ok(Self {
            catalogue: CatalogueClient::new(http(&urls.catalogue)),
            facilitators: FacilitatorsClient::new(http(&urls.facilitators)),
            events: EventsClient::new(http(&urls.events)),
            matching: MatchingClient::new(http(&urls.matching)),
            outreach: OutreachClient::new(http(&urls.outreach)),
            client_seal: None,
        })
    }

    /// With the seal of the client addresses forwarded to matching.
    pub fn sealing_addresses(mut self, seal: Option<AddressSeal>) -> Self {
        self.client_seal = seal;
        self
    }

    /// What a search or a recommendation carries: the call of `ctx`, plus, for an anonymous
    /// caller, their address sealed for matching's unmet-demand count (which tells people
    /// apart by it; a signed-in caller counts by their token). Nothing without a key.
    pub fn for_matching(&self, ctx: &CallContext) -> Call {
        let mut call = ctx.call();
        if let (None, Some(seal), Some(ip)) = (&ctx.token, &self.client_seal, ctx.client) {
            call.headers.push((client_address::HEADER, seal.seal(ip)));
        }
        call
    }
}

/// The services behind the gateway.
#[derive(async_graphql::Enum, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ServiceName {
    /// Training programmes, providers, educational modules.
    Catalogue,
    /// Facilitators (animateurs), their organisations and venues.
    Facilitators,
    /// AI Café sessions, registrations, attendance.
    Events,
    /// Search and recommendations.
    Matching,
    /// Reach toward the 2,000,000 goal.
    Outreach,
}

impl ServiceName {
    pub const ALL: [ServiceName; 5] = [
        ServiceName::Catalogue,
        ServiceName::Facilitators,
        ServiceName::Events,
        ServiceName::Matching,
        ServiceName::Outreach,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ServiceName::Catalogue => "catalogue",
            ServiceName::Facilitators => "facilitators",
            ServiceName::Events => "events",
            ServiceName::Matching => "matching",
            ServiceName::Outreach => "outreach",
        }
    }
}

impl Services {
    fn http(&self, name: ServiceName) -> &Http {
        match name {
            ServiceName::Catalogue => self.catalogue.http(),
            ServiceName::Facilitators => self.facilitators.http(),
            ServiceName::Events => self.events.http(),
            ServiceName::Matching => self.matching.http(),
            ServiceName::Outreach => self.outreach.http(),
        }
    }

    /// `/readyz` of a service; an unreachable one is reported as not ready.
    pub async fn readiness(&self, name: ServiceName, call: &Call) -> ReadinessReport {
        self.http(name)
            .any_status("/readyz", call)
            .await
            .unwrap_or(ReadinessReport {
                ready: false,
                checks: Default::default(),
            })
    }
}

/// Batches readiness look-ups of one GraphQL request. Built per request: it carries that
/// request's caller, which must never leak into another's batch.
pub struct ReadinessLoader {
    pub services: Services,
    pub ctx: CallContext,
}

impl Loader<ServiceName> for ReadinessLoader {
    type Value = ReadinessReport;
    type Error = Arc<AppError>;

    async fn load(
        &self,
        keys: &[ServiceName],
    ) -> Result<HashMap<ServiceName, Self::Value>, Self::Error> {
        let reports = futures::future::join_all(
            keys.iter()
                .map(|k| async move { (*k, self.services.readiness(*k, &self.ctx.call()).await) }),
        )
        .await;
        Ok(reports.into_iter().collect())
    }
}

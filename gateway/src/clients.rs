//! Calls from the gateway to the services: JSON over HTTP, forwarding the caller's token, the
//! request id and the trace context; problem documents come back as the same `AppError`.

use crate::config::ServiceUrls;
use async_graphql::dataloader::Loader;
use cafeia_api::client::{Call, Http};
use cafeia_catalogue_api::CatalogueClient;
use cafeia_events_api::EventsClient;
use cafeia_facilitators_api::FacilitatorsClient;
use cafeia_matching_api::MatchingClient;
use cafeia_outreach_api::OutreachClient;
use cafeia_platform::{
    AppError, errors::Problem, health::ReadinessReport, telemetry::RequestContext,
};
use serde::de::DeserializeOwned;
use std::{collections::HashMap, sync::Arc, time::Duration};

#[derive(Clone)]
pub struct ServiceClient {
    http: reqwest::Client,
    urls: Arc<ServiceUrls>,
}

/// Who a call is made for: the caller's token and the request it belongs to.
#[derive(Clone, Default)]
pub struct CallContext {
    pub token: Option<Arc<str>>,
    pub request: Option<RequestContext>,
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
        })
    }
}

impl ServiceClient {
    pub fn new(urls: ServiceUrls) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()?;
        Ok(Self {
            http,
            urls: Arc::new(urls),
        })
    }

    fn url(&self, service: &str, path: &str) -> Result<String, AppError> {
        let base = self
            .urls
            .get(service)
            .ok_or_else(|| AppError::invalid("service", format!("service inconnu : {service}")))?;
        Ok(format!("{}{}", base.trim_end_matches('/'), path))
    }

    fn request(
        &self,
        builder: reqwest::RequestBuilder,
        ctx: &CallContext,
    ) -> reqwest::RequestBuilder {
        let mut builder = builder;
        if let Some(token) = &ctx.token {
            builder = builder.bearer_auth(token);
        }
        if let Some(request) = &ctx.request {
            for (name, value) in request.outgoing_headers() {
                builder = builder.header(name, value);
            }
        }
        builder
    }

    /// GET `path` on `service` and read the JSON answer.
    pub async fn get<T: DeserializeOwned>(
        &self,
        service: &str,
        path: &str,
        ctx: &CallContext,
    ) -> Result<T, AppError> {
        let url = self.url(service, path)?;
        let response = self
            .request(self.http.get(url), ctx)
            .send()
            .await
            .map_err(AppError::unavailable)?;
        read(response).await
    }

    /// Sends `body` (JSON) with `method`; `Ok(None)` for an empty answer (204).
    pub async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        service: &str,
        path: &str,
        ctx: &CallContext,
        body: Option<&serde_json::Value>,
    ) -> Result<Option<T>, AppError> {
        let url = self.url(service, path)?;
        let mut builder = self.request(self.http.request(method, url), ctx);
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(AppError::unavailable)?;
        if response.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(None);
        }
        read(response).await.map(Some)
    }

    /// Sends a raw body (a file to import) with its content type.
    pub async fn upload<T: DeserializeOwned>(
        &self,
        service: &str,
        path: &str,
        ctx: &CallContext,
        content_type: &str,
        body: String,
    ) -> Result<T, AppError> {
        let url = self.url(service, path)?;
        let response = self
            .request(self.http.post(url), ctx)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .map_err(AppError::unavailable)?;
        read(response).await
    }

    /// GET that treats 404 as absence.
    pub async fn find<T: DeserializeOwned>(
        &self,
        service: &str,
        path: &str,
        ctx: &CallContext,
    ) -> Result<Option<T>, AppError> {
        match self.get(service, path, ctx).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == cafeia_platform::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `/readyz` of a service; an unreachable service is reported as not ready.
    pub async fn readiness(&self, service: &str, ctx: &CallContext) -> ReadinessReport {
        let Ok(url) = self.url(service, "/readyz") else {
            return ReadinessReport {
                ready: false,
                checks: Default::default(),
            };
        };
        match self.request(self.http.get(url), ctx).send().await {
            Ok(resp) => resp.json().await.unwrap_or(ReadinessReport {
                ready: false,
                checks: Default::default(),
            }),
            Err(_) => ReadinessReport {
                ready: false,
                checks: Default::default(),
            },
        }
    }
}

async fn read<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, AppError> {
    let status = response.status();
    if status.is_success() {
        return response.json().await.map_err(AppError::internal);
    }
    match response.json::<Problem>().await {
        Ok(problem) => Err(problem.into()),
        Err(e) => Err(AppError::unavailable(std::io::Error::other(format!(
            "service answered {status} without a problem document: {e}"
        )))),
    }
}

/// Batches readiness look-ups of one GraphQL request. Built per request: it carries that
/// request's caller, which must never leak into another's batch.
pub struct ReadinessLoader {
    pub client: ServiceClient,
    pub ctx: CallContext,
}

impl Loader<String> for ReadinessLoader {
    type Value = ReadinessReport;
    type Error = Arc<AppError>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let reports = futures::future::join_all(
            keys.iter()
                .map(|k| async move { (k.clone(), self.client.readiness(k, &self.ctx).await) }),
        )
        .await;
        Ok(reports.into_iter().collect())
    }
}

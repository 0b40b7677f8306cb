//! The gateway's own part of the schema: who is calling, and how the services are doing.

use crate::{
    clients::{CallContext, ReadinessLoader, ServiceName, Services},
    errors::gql,
};
use async_graphql::{
    Context, Enum, Object, Result, SimpleObject, Subscription, dataloader::DataLoader,
};
use cafeia_platform::{
    AppError,
    auth::{Caller, Role},
};
use futures::Stream;
use std::time::Duration;

/// The caller of the current request, if signed in.
#[derive(Clone, Default)]
pub struct Viewer(pub Option<Caller>);

impl Viewer {
    pub fn of<'a>(ctx: &'a Context<'_>) -> Option<&'a Caller> {
        ctx.data_opt::<Viewer>().and_then(|v| v.0.as_ref())
    }

    pub fn require(ctx: &Context<'_>, role: Role) -> Result<Caller> {
        let caller = Self::of(ctx)
            .cloned()
            .ok_or_else(|| gql(AppError::unauthenticated("connexion requise")))?;
        caller.require(role).map_err(gql)?;
        Ok(caller)
    }
}

/// What a signed-in user may do.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "Role")]
pub enum RoleGql {
    /// A person finding and joining cafés and trainings.
    Citizen,
    /// An animateur·rice who runs cafés (verified by staff before publishing).
    Facilitator,
    /// A training provider (organisme de formation) publishing programmes for its SIRET.
    Provider,
    /// CNNum staff, or a regional coordinator when the token carries a territory.
    Staff,
}

impl From<Role> for RoleGql {
    fn from(role: Role) -> Self {
        match role {
            Role::Citizen => RoleGql::Citizen,
            Role::Facilitator => RoleGql::Facilitator,
            Role::Provider => RoleGql::Provider,
            Role::Staff => RoleGql::Staff,
        }
    }
}

/// The signed-in user as the API sees them.
#[derive(SimpleObject)]
pub struct Me {
    /// Stable subject identifier from the identity provider.
    pub sub: String,
    /// What they may do.
    pub roles: Vec<RoleGql>,
    /// Staff scope: `national`, or a coordinator's territory (`region:84`,
    /// `departement:69`); null for everyone else.
    pub territory: Option<String>,
}

/// One dependency a service checked to say it is ready.
#[derive(SimpleObject, Clone)]
pub struct HealthCheck {
    /// What was checked: `database`, `bus` or `cache`.
    pub name: String,
    /// `ok`, or why not.
    pub status: String,
}

/// Readiness of one service, as its `/readyz` reports it.
#[derive(SimpleObject, Clone)]
pub struct ServiceStatus {
    /// The service.
    pub name: ServiceName,
    /// Whether it answers and every dependency it needs does.
    pub ready: bool,
    /// Each dependency it checked.
    pub checks: Vec<HealthCheck>,
}

fn status(
    name: ServiceName,
    report: Option<cafeia_platform::health::ReadinessReport>,
) -> ServiceStatus {
    let report = report.unwrap_or(cafeia_platform::health::ReadinessReport {
        ready: false,
        checks: Default::default(),
    });
    ServiceStatus {
        name,
        ready: report.ready,
        checks: report
            .checks
            .into_iter()
            .map(|(name, status)| HealthCheck { name, status })
            .collect(),
    }
}

#[derive(Default)]
pub struct SystemQuery;

#[Object]
impl SystemQuery {
    /// The signed-in caller; null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> Option<Me> {
        Viewer::of(ctx).map(|c| Me {
            sub: c.sub.clone(),
            roles: c.roles.iter().map(|r| RoleGql::from(*r)).collect(),
            territory: c.scope(),
        })
    }

    /// Readiness of every service (staff only).
    async fn services(&self, ctx: &Context<'_>) -> Result<Vec<ServiceStatus>> {
        Viewer::require(ctx, Role::Staff)?;
        let loader = ctx.data::<DataLoader<ReadinessLoader>>()?;
        let reports = loader
            .load_many(ServiceName::ALL)
            .await
            .map_err(|e| gql(AppError::new(e.code, e.detail.clone())))?;
        Ok(ServiceName::ALL
            .into_iter()
            .map(|n| status(n, reports.get(&n).cloned()))
            .collect())
    }
}

#[derive(Default)]
pub struct SystemSubscription;

#[Subscription]
impl SystemSubscription {
    /// Readiness of one service, every `everySeconds` seconds (staff only).
    #[graphql(complexity = "crate::cost::subscription(child_complexity)")]
    async fn service_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The service to watch.")] service: ServiceName,
        #[graphql(default = 5, desc = "Seconds between two reports (1 to 60).")] every_seconds: i32,
    ) -> Result<impl Stream<Item = ServiceStatus> + use<>> {
        let caller = Viewer::require(ctx, Role::Staff)?;
        if !(1..=60).contains(&every_seconds) {
            return Err(gql(AppError::invalid(
                "everySeconds",
                "doit être entre 1 et 60",
            )));
        }
        let services = ctx.data::<Services>()?.clone();
        let call = CallContext {
            token: Some(caller.token().into()),
            ..CallContext::default()
        }
        .call();
        let period = Duration::from_secs(u64::try_from(every_seconds).unwrap_or(5));
        Ok(futures::stream::unfold(true, move |first| {
            let (services, call) = (services.clone(), call.clone());
            async move {
                if !first {
                    tokio::time::sleep(period).await;
                }
                let report = services.readiness(service, &call).await;
                Some((status(service, Some(report)), false))
            }
        }))
    }
}

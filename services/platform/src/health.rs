//! Liveness and readiness: `/livez` says the process runs, `/readyz` that its database, bus
//! and cache answer right now.

use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use serde::Serialize;
use std::{collections::BTreeMap, sync::Arc, time::Duration};

use crate::{bus::Bus, cache::Cache};

#[async_trait]
pub trait Probe: Send + Sync {
    fn name(&self) -> &'static str;
    async fn check(&self) -> Result<(), String>;
}

struct DatabaseProbe(DatabaseConnection);
struct BusProbe(Arc<dyn Bus>);
struct CacheProbe(Arc<dyn Cache>);

#[async_trait]
impl Probe for DatabaseProbe {
    fn name(&self) -> &'static str {
        "database"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.ping().await.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl Probe for BusProbe {
    fn name(&self) -> &'static str {
        "bus"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.check().await.map_err(|e| e.to_string())
    }
}

#[async_trait]
impl Probe for CacheProbe {
    fn name(&self) -> &'static str {
        "cache"
    }
    async fn check(&self) -> Result<(), String> {
        self.0.check().await.map_err(|e| e.to_string())
    }
}

/// What `/readyz` checks.
#[derive(Clone, Default)]
pub struct Readiness {
    probes: Vec<Arc<dyn Probe>>,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ReadinessReport {
    pub ready: bool,
    pub checks: BTreeMap<String, String>,
}

impl Readiness {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn database(self, db: DatabaseConnection) -> Self {
        self.with(Arc::new(DatabaseProbe(db)))
    }

    pub fn bus(self, bus: Arc<dyn Bus>) -> Self {
        self.with(Arc::new(BusProbe(bus)))
    }

    pub fn cache(self, cache: Arc<dyn Cache>) -> Self {
        self.with(Arc::new(CacheProbe(cache)))
    }

    pub fn with(mut self, probe: Arc<dyn Probe>) -> Self {
        self.probes.push(probe);
        self
    }

    /// Runs every probe concurrently, each bounded to 2 s. Failure details go to the log only.
    pub async fn report(&self) -> ReadinessReport {
        let results = futures::future::join_all(self.probes.iter().map(|probe| async move {
            let outcome = tokio::time::timeout(Duration::from_secs(2), probe.check()).await;
            let status = match outcome {
                Ok(Ok(())) => "ok",
                Ok(Err(e)) => {
                    tracing::warn!(check = probe.name(), error = %e, "readiness check failed");
                    "failing"
                }
                Err(_) => {
                    tracing::warn!(check = probe.name(), "readiness check timed out");
                    "timeout"
                }
            };
            (probe.name().to_owned(), status.to_owned())
        }))
        .await;
        ReadinessReport {
            ready: results.iter().all(|(_, s)| s == "ok"),
            checks: results.into_iter().collect(),
        }
    }
}

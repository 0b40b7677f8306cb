//! Facilitators' names, read when a view shows one. Names do not travel on the bus: a message
//! outlives an erasure in places nobody can reach (sent outbox rows, dead-letter queues,
//! consumers' histories), so the replica holds none. A view that names facilitators asks the
//! facilitators service for their public profiles (`GET /v1/facilitators/profiles/batch`,
//! through its typed client) once for all of them, and so always shows the current name; an
//! erased or unverified facilitator has no public profile, hence no name. When that service
//! does not answer in time, the view leaves the names out rather than failing.

use cafeia_api::client::{Call, Http};
use cafeia_facilitators_api::FacilitatorsClient;
use cafeia_platform::telemetry;
use std::{collections::HashMap, time::Duration};
use uuid::Uuid;

/// How long a view waits for the names before it goes without them: a name is not worth a
/// slow page.
const TIMEOUT: Duration = Duration::from_secs(2);
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// Where names are asked for: the facilitators service.
#[derive(Clone)]
pub struct Directory {
    client: FacilitatorsClient,
}

impl Directory {
    /// The directory of the facilitators service at `base` (`services.facilitators`).
    pub fn new(base: &str) -> Result<Self, reqwest::Error> {
        let pool = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .pool_idle_timeout(cafeia_api::client::POOL_IDLE)
            .build()?;
        Ok(Self {
            client: FacilitatorsClient::new(Http::new(pool, base)),
        })
    }

    /// The public names of `ids` (repeats asked once); those without a public profile, or all
    /// of them when the service cannot say, are absent.
    pub async fn names(&self, ids: impl IntoIterator<Item = Uuid>) -> Names {
        let mut ids: Vec<Uuid> = ids.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Names::default();
        }
        // Public profiles are for anyone: the call carries no token, only the trace.
        let call = Call {
            token: None,
            headers: telemetry::current()
                .map(|c| c.outgoing_headers())
                .unwrap_or_default(),
        };
        match self.client.facilitator_profiles(&call, &ids).await {
            Ok(profiles) => profiles
                .into_iter()
                .map(|p| (p.id, p.display_name))
                .collect(),
            Err(e) => {
                tracing::warn!(error = %e, "facilitators' names unavailable: shown without them");
                Names::default()
            }
        }
    }

    /// The public name of one facilitator, if any.
    pub async fn name(&self, id: Uuid) -> Option<String> {
        self.names([id]).await.0.remove(&id)
    }
}

/// Facilitators' public names by id.
#[derive(Clone, Debug, Default)]
pub struct Names(HashMap<Uuid, String>);

impl Names {
    pub fn of(&self, id: Uuid) -> Option<String> {
        self.0.get(&id).cloned()
    }
}

impl FromIterator<(Uuid, String)> for Names {
    fn from_iter<I: IntoIterator<Item = (Uuid, String)>>(pairs: I) -> Self {
        Self(pairs.into_iter().collect())
    }
}

//! Loaders of the events service's entities: sessions by id, and the upcoming published
//! sessions of venues and of facilitators. Each batch is one call to the events service
//! (`GET /v1/sessions/batch`, `/by-venue`, `/by-facilitator`), made for the request's caller,
//! so a loader returns only what that caller may see (drafts and online links for insiders).

use crate::{
    clients::{CallContext, Services},
    errors::client,
    events::Session,
};
use async_graphql::dataloader::{DataLoader, Loader};
use cafeia_api::batch::MAX_BATCH;
use cafeia_events_api::SessionGroup;
use std::collections::HashMap;
use uuid::Uuid;

/// Sessions by id; ids unknown (or not visible to the caller) are absent.
pub struct SessionLoader {
    pub services: Services,
    pub call: CallContext,
}

impl Loader<Uuid> for SessionLoader {
    type Value = Session;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Session>, Self::Error> {
        let found = self
            .services
            .events
            .sessions_by_ids(&self.call.call(), keys)
            .await
            .map_err(client)?;
        Ok(found
            .into_iter()
            .map(|s| (s.id, Session::from(s)))
            .collect())
    }
}

/// The upcoming published sessions of each venue, soonest first, at most 20 each (empty for
/// a venue without any).
pub struct VenueSessionsLoader {
    pub services: Services,
    pub call: CallContext,
}

impl Loader<Uuid> for VenueSessionsLoader {
    type Value = Vec<Session>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Session>>, Self::Error> {
        let groups = self
            .services
            .events
            .sessions_by_venue(&self.call.call(), keys)
            .await
            .map_err(client)?;
        Ok(by_key(keys, groups))
    }
}

/// The upcoming published sessions each facilitator runs or co-runs, soonest first, at most
/// 20 each (empty for a facilitator without any).
pub struct FacilitatorSessionsLoader {
    pub services: Services,
    pub call: CallContext,
}

impl Loader<Uuid> for FacilitatorSessionsLoader {
    type Value = Vec<Session>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<Session>>, Self::Error> {
        let groups = self
            .services
            .events
            .sessions_by_facilitator(&self.call.call(), keys)
            .await
            .map_err(client)?;
        Ok(by_key(keys, groups))
    }
}

/// Every key asked for, with its group's sessions (none when the service had no group).
fn by_key(keys: &[Uuid], groups: Vec<SessionGroup>) -> HashMap<Uuid, Vec<Session>> {
    let mut out: HashMap<Uuid, Vec<Session>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for group in groups {
        out.insert(
            group.id,
            group.sessions.into_iter().map(Session::from).collect(),
        );
    }
    out
}

/// Adds the events loaders to a request about to be executed. Batches never exceed what the
/// service takes in one call.
pub fn attach(data: &mut async_graphql::Data, services: &Services, call: &CallContext) {
    let sessions = SessionLoader {
        services: services.clone(),
        call: call.clone(),
    };
    let venues = VenueSessionsLoader {
        services: services.clone(),
        call: call.clone(),
    };
    let facilitators = FacilitatorSessionsLoader {
        services: services.clone(),
        call: call.clone(),
    };
    data.insert(DataLoader::new(sessions, tokio::spawn).max_batch_size(MAX_BATCH));
    data.insert(DataLoader::new(venues, tokio::spawn).max_batch_size(MAX_BATCH));
    data.insert(DataLoader::new(facilitators, tokio::spawn).max_batch_size(MAX_BATCH));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_gets_a_list_even_without_sessions() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let out = by_key(
            &[a, b],
            vec![SessionGroup {
                id: a,
                sessions: Vec::new(),
            }],
        );
        assert_eq!(out.len(), 2);
        assert!(out[&b].is_empty());
    }
}

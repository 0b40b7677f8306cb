//! Loaders of the facilitators service's entities: venues and facilitators' public profiles
//! by id, each batch one call to the service's batch endpoint, made for the request's caller
//! (so a private venue is found only by staff and its author).

use crate::{
    clients::{CallContext, Services},
    errors,
    facilitators::{FacilitatorProfile, Venue},
};
use async_graphql::dataloader::{DataLoader, Loader};
use cafeia_api::batch::MAX_BATCH;
use cafeia_facilitators_api::FacilitatorsClient;
use std::collections::HashMap;
use uuid::Uuid;

/// Venues by id (`Venue`), as `venue(id)` shows them.
pub struct VenueLoader {
    client: FacilitatorsClient,
    call: CallContext,
}

impl Loader<Uuid> for VenueLoader {
    type Value = Venue;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Venue>, Self::Error> {
        let found = self
            .client
            .venues_by_ids(&self.call.call(), keys)
            .await
            .map_err(errors::client)?;
        Ok(found.into_iter().map(|v| (v.id, Venue::from(v))).collect())
    }
}

/// Facilitators' public profiles by id (`FacilitatorProfile`), for anyone; erased
/// facilitators have none.
pub struct FacilitatorProfileLoader {
    client: FacilitatorsClient,
    call: CallContext,
}

impl Loader<Uuid> for FacilitatorProfileLoader {
    type Value = FacilitatorProfile;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, FacilitatorProfile>, Self::Error> {
        let found = self
            .client
            .facilitator_profiles(&self.call.call(), keys)
            .await
            .map_err(errors::client)?;
        Ok(found
            .into_iter()
            .map(|p| (p.id, FacilitatorProfile::from(p)))
            .collect())
    }
}

/// Adds the facilitators service's loaders to a request, built for its caller. A batch holds
/// at most what one call to the service takes.
pub fn attach(data: &mut async_graphql::Data, services: &Services, call: &CallContext) {
    let client = || services.facilitators.clone();
    data.insert(
        DataLoader::new(
            VenueLoader {
                client: client(),
                call: call.clone(),
            },
            tokio::spawn,
        )
        .max_batch_size(MAX_BATCH),
    );
    data.insert(
        DataLoader::new(
            FacilitatorProfileLoader {
                client: client(),
                call: call.clone(),
            },
            tokio::spawn,
        )
        .max_batch_size(MAX_BATCH),
    );
}

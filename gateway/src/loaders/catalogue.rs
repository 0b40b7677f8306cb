//! Loaders of the catalogue service's entities: programmes, providers and educational modules
//! by id, each batch one call to the service's `…/batch` endpoint, made for the request's
//! caller (so an unpublished programme or module is found only by whoever may see it).

use crate::{
    catalogue::{EducationalModule, Provider, Training},
    clients::{CallContext, Services},
    errors,
};
use async_graphql::dataloader::{DataLoader, Loader};
use cafeia_api::batch::MAX_BATCH;
use cafeia_catalogue_api::CatalogueClient;
use std::collections::HashMap;
use uuid::Uuid;

/// Programmes by id (`Training`), as `training(id)` shows them.
pub struct TrainingLoader {
    client: CatalogueClient,
    call: CallContext,
}

impl Loader<Uuid> for TrainingLoader {
    type Value = Training;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Training>, Self::Error> {
        let found = self
            .client
            .trainings_by_ids(&self.call.call(), keys)
            .await
            .map_err(errors::client)?;
        Ok(found
            .into_iter()
            .map(|data| (data.id, Training { data }))
            .collect())
    }
}

/// Training providers by id (`Provider`); every provider is public.
pub struct ProviderLoader {
    client: CatalogueClient,
    call: CallContext,
}

impl Loader<Uuid> for ProviderLoader {
    type Value = Provider;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Provider>, Self::Error> {
        let found = self
            .client
            .providers_by_ids(&self.call.call(), keys)
            .await
            .map_err(errors::client)?;
        Ok(found
            .into_iter()
            .map(|data| (data.id, Provider { data }))
            .collect())
    }
}

/// Educational modules by id (`EducationalModule`), as `educationalModule(id)` shows them.
pub struct ModuleLoader {
    client: CatalogueClient,
    call: CallContext,
}

impl Loader<Uuid> for ModuleLoader {
    type Value = EducationalModule;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, EducationalModule>, Self::Error> {
        let found = self
            .client
            .modules_by_ids(&self.call.call(), keys)
            .await
            .map_err(errors::client)?;
        Ok(found
            .into_iter()
            .map(|data| (data.module.id, EducationalModule { data }))
            .collect())
    }
}

/// Adds the catalogue's loaders to a request, built for its caller. A batch holds at most what
/// one call to the service takes.
pub fn attach(data: &mut async_graphql::Data, services: &Services, call: &CallContext) {
    let client = || services.catalogue.clone();
    data.insert(
        DataLoader::new(
            TrainingLoader {
                client: client(),
                call: call.clone(),
            },
            tokio::spawn,
        )
        .max_batch_size(MAX_BATCH),
    );
    data.insert(
        DataLoader::new(
            ProviderLoader {
                client: client(),
                call: call.clone(),
            },
            tokio::spawn,
        )
        .max_batch_size(MAX_BATCH),
    );
    data.insert(
        DataLoader::new(
            ModuleLoader {
                client: client(),
                call: call.clone(),
            },
            tokio::spawn,
        )
        .max_batch_size(MAX_BATCH),
    );
}

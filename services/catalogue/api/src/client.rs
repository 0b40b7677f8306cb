//! Typed calls to the catalogue service, one method per endpoint.

use cafeia_api::client::Http;

/// The catalogue service over HTTP.
#[derive(Clone)]
pub struct CatalogueClient {
    http: Http,
}

impl CatalogueClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }
}

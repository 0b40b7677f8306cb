//! Typed calls to the facilitators service, one method per endpoint.

use cafeia_api::client::Http;

/// The facilitators service over HTTP.
#[derive(Clone)]
pub struct FacilitatorsClient {
    http: Http,
}

impl FacilitatorsClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }
}

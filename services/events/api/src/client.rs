//! Typed calls to the events service, one method per endpoint.

use cafeia_api::client::Http;

/// The events service over HTTP.
#[derive(Clone)]
pub struct EventsClient {
    http: Http,
}

impl EventsClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }
}

//! Typed calls to the matching service, one method per endpoint.

use cafeia_api::client::Http;

/// The matching service over HTTP.
#[derive(Clone)]
pub struct MatchingClient {
    http: Http,
}

impl MatchingClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }
}

//! Typed calls to the outreach service, one method per endpoint.

use cafeia_api::client::Http;

/// The outreach service over HTTP.
#[derive(Clone)]
pub struct OutreachClient {
    http: Http,
}

impl OutreachClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }
}

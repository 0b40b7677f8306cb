//! Settings matching reads beyond the platform's: `[client_address]`
//! (`CAFEIA_CLIENT_ADDRESS__KEY`), the key the gateway seals the client address of a search
//! or recommendation with ([`cafeia_matching_api::client_address`]), the same as the
//! gateway's. Checked before the process starts: a bad one exits 2, naming the key.

use cafeia_matching_api::client_address::{AddressSeal, ClientAddressConfig};
use cafeia_platform::config::{Validate, Violations};
use serde::Deserialize;

pub use cafeia_matching_api::client_address::SECTION;

/// The shared section, checked as this service reads it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct ClientAddress(pub ClientAddressConfig);

impl Validate for ClientAddress {
    fn validate(&self, v: &mut Violations) {
        if let Some(why) = self.0.problem() {
            v.add("client_address.key", why);
        }
    }
}

impl ClientAddress {
    pub fn seal(&self) -> Option<AddressSeal> {
        self.0.seal()
    }
}

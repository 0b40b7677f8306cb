//! The client address the gateway forwards with a search or a recommendation, so that
//! matching's unmet-demand count tells anonymous people apart: every call reaches matching
//! from the gateway, whose own address would make them all one caller.
//!
//! Services trust no caller: as a caller's identity travels in a token the service verifies
//! itself, the address travels sealed — `<address> <HMAC-SHA256 of it, hex>` in
//! [`HEADER`], under a key the gateway and matching share (`client_address.key`). Matching
//! believes the address only when the seal opens with its key; a header anyone else writes is
//! ignored, and the connecting address counts as before.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use std::{fmt, net::IpAddr};

/// The header carrying the sealed address.
pub const HEADER: &str = "x-cafeia-client-address";
/// The shortest key accepted, in bytes.
pub const MIN_KEY_BYTES: usize = 32;
/// Keeps these seals apart from anything else the key might ever sign.
const CONTEXT: &[u8] = b"cafeia client address v1\n";

/// The configuration section both the gateway and matching read.
pub const SECTION: &str = "client_address";

/// `[client_address]` (`CAFEIA_CLIENT_ADDRESS__KEY`), the same for the gateway and matching.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientAddressConfig {
    /// The shared key, [`MIN_KEY_BYTES`] or more (never logged). Unset: the gateway forwards
    /// no address, and matching counts every anonymous caller by the connecting address.
    pub key: Option<SecretString>,
}

impl ClientAddressConfig {
    /// What is wrong with the setting, if anything (the key is `client_address.key`).
    pub fn problem(&self) -> Option<&'static str> {
        self.key
            .as_ref()
            .filter(|k| k.expose_secret().len() < MIN_KEY_BYTES)
            .map(|_| "must be at least 32 bytes")
    }

    /// The seal, when a valid key is set.
    pub fn seal(&self) -> Option<AddressSeal> {
        AddressSeal::new(self.key.as_ref()?.expose_secret().as_bytes())
    }
}

/// Seals and opens client addresses with the shared key.
#[derive(Clone)]
pub struct AddressSeal {
    keyed: Hmac<Sha256>,
}

impl fmt::Debug for AddressSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AddressSeal(<key>)")
    }
}

impl AddressSeal {
    /// A seal under `key`; `None` when the key is shorter than [`MIN_KEY_BYTES`].
    pub fn new(key: &[u8]) -> Option<Self> {
        if key.len() < MIN_KEY_BYTES {
            return None;
        }
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(key).ok()?;
        Some(Self { keyed })
    }

    fn tag(&self, address: &str) -> Hmac<Sha256> {
        let mut mac = self.keyed.clone();
        mac.update(CONTEXT);
        mac.update(address.as_bytes());
        mac
    }

    /// The header value naming `address`.
    pub fn seal(&self, address: IpAddr) -> String {
        let text = address.to_canonical().to_string();
        let tag = self.tag(&text).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{text} {hex}")
    }

    /// The address a header value names, if this key sealed it.
    pub fn open(&self, value: &str) -> Option<IpAddr> {
        let (text, hex) = value.trim().split_once(' ')?;
        let tag = unhex(hex)?;
        self.tag(text).verify_slice(&tag).ok()?;
        text.parse().ok()
    }
}

fn unhex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) || !hex.is_ascii() {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn a_sealed_address_opens_with_its_key_only() {
        let seal = AddressSeal::new(KEY).expect("key long enough");
        let ip: IpAddr = "203.0.113.7".parse().expect("ip");
        let value = seal.seal(ip);
        assert!(value.starts_with("203.0.113.7 "), "{value}");
        assert_eq!(seal.open(&value), Some(ip));
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(seal.open(&seal.seal(v6)), Some(v6));

        let other = AddressSeal::new(b"another key, also long enough!!!").expect("key");
        assert_eq!(other.open(&value), None, "another key");
        let (_, tag) = value.split_once(' ').expect("two parts");
        assert_eq!(
            seal.open(&format!("198.51.100.9 {tag}")),
            None,
            "another address"
        );
        for forged in ["203.0.113.7", "203.0.113.7 00", "203.0.113.7 zz", ""] {
            assert_eq!(seal.open(forged), None, "{forged:?}");
        }
    }

    #[test]
    fn a_short_key_is_refused() {
        assert!(AddressSeal::new(b"short").is_none());
    }
}

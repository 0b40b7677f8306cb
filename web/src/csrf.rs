//! Cross-site request forgery: every form carries a token bound to the visitor's session, and
//! every POST is refused unless it brings the same one back.

use actix_session::Session;
use sha2::{Digest, Sha256};

const KEY: &str = "csrf";

/// The visitor's token, created on first use.
pub fn token(session: &Session) -> String {
    if let Ok(Some(token)) = session.get::<String>(KEY) {
        return token;
    }
    let token = random_token();
    // A cookie that cannot be written only means the next POST is refused, asking to retry.
    let _ = session.insert(KEY, &token);
    token
}

/// Whether `submitted` is the visitor's token, compared in constant time.
pub fn valid(session: &Session, submitted: &str) -> bool {
    match session.get::<String>(KEY) {
        Ok(Some(expected)) => {
            // Comparing digests keeps the time independent of where the strings differ.
            Sha256::digest(expected.as_bytes()) == Sha256::digest(submitted.as_bytes())
        }
        _ => false,
    }
}

/// 32 random bytes, URL-safe hexadecimal.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system has no entropy");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! Who is visiting: anonymous, or signed in with an access token kept in the encrypted
//! session cookie (never in a page, never in a log).

use actix_session::{Session, SessionExt};
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::{Deserialize, Serialize};
use std::future::{Ready, ready};

const KEY: &str = "who";

/// A signed-in person, as the session remembers them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SignedIn {
    /// The access token the API is called with.
    pub token: String,
    /// What the header shows ("Camille, animatrice").
    pub label: String,
    pub roles: Vec<String>,
    /// Unix seconds; past it the person is signed out.
    pub expires_at: i64,
    /// The identity provider's ID token, the hint of its sign-out (development sign-in: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl SignedIn {
    pub fn has(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

/// The visitor of this request.
pub struct Visitor {
    pub session: Session,
    pub signed_in: Option<SignedIn>,
}

impl Visitor {
    pub fn bearer(&self) -> Option<&str> {
        self.signed_in.as_ref().map(|s| s.token.as_str())
    }

    pub fn csrf(&self) -> String {
        crate::csrf::token(&self.session)
    }

    pub fn sign_in(&self, who: SignedIn) {
        // A new session identifier on sign-in: a cookie planted before cannot ride it.
        self.session.renew();
        let _ = self.session.insert(KEY, who);
    }

    pub fn sign_out(&self) {
        self.session.purge();
    }

    pub fn is(&self, role: &str) -> bool {
        self.signed_in.as_ref().is_some_and(|s| s.has(role))
    }
}

impl FromRequest for Visitor {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = req.get_session();
        let now = chrono::Utc::now().timestamp();
        let signed_in = match session.get::<SignedIn>(KEY) {
            Ok(Some(who)) if who.expires_at > now => Some(who),
            Ok(Some(_)) => {
                session.remove(KEY);
                None
            }
            _ => None,
        };
        ready(Ok(Visitor { session, signed_in }))
    }
}

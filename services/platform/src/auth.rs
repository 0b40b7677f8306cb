//! Who is calling: JWT verification, roles, territory scope, and the actix extractor.
//!
//! Every service verifies tokens itself (services trust no caller). One asymmetric algorithm is
//! pinned by configuration; `exp`, `iss`, `aud` and `sub` are required and checked, `nbf` is
//! checked when present. Keys come from a PEM, a JWKS endpoint, or — in embedded mode only —
//! the local development issuer.

use crate::config::AuthConfig;
use crate::errors::AppError;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey, spki::der::pem::LineEnding};
use jsonwebtoken::{
    Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind, jwk::JwkSet,
};
use serde::{Deserialize, Serialize};
use std::{
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    str::FromStr,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::{Mutex, RwLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Citizen,
    Facilitator,
    Provider,
    Staff,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Citizen,
        Role::Facilitator,
        Role::Provider,
        Role::Staff,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::Facilitator => "facilitator",
            Role::Provider => "provider",
            Role::Staff => "staff",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?} (expected citizen, facilitator, provider or staff)")
            })
    }
}

/// The `territory` claim of staff who act everywhere. National scope is never implied: a staff
/// token must carry this or a [`Territory`], or it is refused for every staff action.
pub const NATIONAL: &str = "national";

/// The territory a regional coordinator may act on (INSEE codes).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Territory {
    Region(String),
    Departement(String),
}

impl FromStr for Territory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, code) = s
            .split_once(':')
            .ok_or_else(|| format!("territory {s:?} must look like region:84 or departement:69"))?;
        let valid_code =
            |c: &str| (2..=3).contains(&c.len()) && c.bytes().all(|b| b.is_ascii_alphanumeric());
        if !valid_code(code) {
            return Err(format!("territory code {code:?} is not an INSEE code"));
        }
        match kind {
            "region" => Ok(Territory::Region(code.to_owned())),
            "departement" => Ok(Territory::Departement(code.to_owned())),
            _ => Err(format!(
                "territory kind {kind:?} must be region or departement"
            )),
        }
    }
}

impl std::fmt::Display for Territory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Territory::Region(c) => write!(f, "region:{c}"),
            Territory::Departement(c) => write!(f, "departement:{c}"),
        }
    }
}

/// `aud` may be one string or a list.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

/// The claims we read. Unknown roles (an identity provider's own) are ignored.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iss: String,
    pub aud: Audience,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default)]
    pub roles: Vec<String>,
    /// Staff scope: [`NATIONAL`], or a coordinator's territory such as `region:84`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory: Option<String>,
    /// Providers' scope: the SIRET they publish for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub siret: Option<String>,
    /// The account's email address (OpenID Connect `email`), trusted only with
    /// `email_verified: true`. A value of another type is ignored rather than refusing the
    /// token: it only ever withholds the address.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_string"
    )]
    pub email: Option<String>,
    /// Whether the identity provider checked that the account owns `email` (OpenID Connect
    /// `email_verified`; some providers send `"true"`, which counts too).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_bool"
    )]
    pub email_verified: Option<bool>,
}

fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match value {
        Some(serde_json::Value::Bool(b)) => Some(b),
        Some(serde_json::Value::String(s)) => Some(s == "true"),
        _ => None,
    })
}

/// The authenticated caller handed to handlers.
#[derive(Clone)]
pub struct Caller {
    pub sub: String,
    /// `Staff` only when the token also says where they act (national or a territory).
    pub roles: Vec<Role>,
    /// A coordinator's territory; `None` for everyone else, national staff included.
    pub territory: Option<Territory>,
    pub siret: Option<String>,
    /// The token says `territory: national` (meaningful for staff only).
    national: bool,
    /// The token claims the staff role with no scope at all: the role is not granted, and
    /// staff actions say why.
    unscoped_staff: bool,
    /// The address the identity provider verified (`email` with `email_verified: true`).
    verified_email: Option<String>,
    /// The bearer token, so the gateway can forward it to services.
    token: Arc<str>,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("sub", &self.sub)
            .field("roles", &self.roles)
            .field("territory", &self.territory)
            .finish_non_exhaustive()
    }
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Forbidden unless the caller holds `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.has(role) {
            Ok(())
        } else if role == Role::Staff && self.unscoped_staff {
            Err(unscoped_staff())
        } else {
            Err(AppError::forbidden(format!(
                "cette action demande le rôle {}",
                role.as_str()
            )))
        }
    }

    pub fn require_any(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.iter().any(|r| self.has(*r)) {
            Ok(())
        } else if roles.contains(&Role::Staff) && self.unscoped_staff {
            Err(unscoped_staff())
        } else {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::forbidden(format!(
                "cette action demande l'un des rôles {}",
                names.join(", ")
            )))
        }
    }

    /// Staff whose token says `territory: national`: they act everywhere.
    pub fn is_national_staff(&self) -> bool {
        self.has(Role::Staff) && self.national
    }

    /// The staff scope as the token says it: `national`, `region:84`… (`None` for others).
    pub fn scope(&self) -> Option<String> {
        if !self.has(Role::Staff) {
            None
        } else if self.national {
            Some(NATIONAL.to_owned())
        } else {
            self.territory.as_ref().map(ToString::to_string)
        }
    }

    /// Whether a staff caller may act on something located in (`region`, `departement`).
    pub fn covers(&self, region: Option<&str>, departement: Option<&str>) -> bool {
        if !self.has(Role::Staff) {
            return false;
        }
        match &self.territory {
            None => self.national,
            Some(Territory::Region(r)) => region == Some(r.as_str()),
            Some(Territory::Departement(d)) => departement == Some(d.as_str()),
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// This caller's [`account_key`].
    pub fn account(&self) -> String {
        account_key(&self.sub)
    }

    /// The email address the identity provider verified for this account, if it says one
    /// (`email` with `email_verified: true`); an unverified address is never given.
    pub fn verified_email(&self) -> Option<&str> {
        self.verified_email.as_deref()
    }
}

fn unscoped_staff() -> AppError {
    AppError::forbidden(format!(
        "jeton staff sans périmètre : le claim territory doit valoir « {NATIONAL} », \
         « region:<code> » ou « departement:<code> »"
    ))
}

/// A one-way digest (SHA-256, hex) of a token subject. Services recognise an account across
/// the bus with it (a facilitator's replica in the events service) without the identifier
/// itself travelling or being stored elsewhere.
pub fn account_key(sub: &str) -> String {
    sha256_hex(sub)
}

/// SHA-256 of `text`, in lower-case hex: account keys, stored digests of secret tokens, cache
/// keys.
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A new secret token: 32 random bytes in lower-case hex (64 characters, URL-safe), for the
/// links mailed to people; services keep only its [`sha256_hex`].
pub fn new_secret() -> Result<String, crate::AppError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| crate::AppError::internal(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `token` could be one [`new_secret`] made: anything else is unknown without a
/// lookup.
pub fn is_secret_shaped(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed Authorization header")]
    MalformedHeader,
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued by an unexpected issuer")]
    WrongIssuer,
    #[error("token is meant for another audience")]
    WrongAudience,
    #[error("token uses a refused algorithm")]
    WrongAlgorithm,
    #[error("token signature is invalid")]
    BadSignature,
    #[error("token claim {0} is missing or malformed")]
    BadClaim(String),
    #[error("token is malformed")]
    Malformed,
    /// The key id is not in the key set, or the set could not be refreshed: either way the
    /// caller learns no more than that (the log has the fetch error).
    #[error("no key to verify this token")]
    UnknownKey,
}

impl From<AuthError> for AppError {
    fn from(err: AuthError) -> Self {
        AppError::unauthenticated(err.to_string())
    }
}

fn map_jwt(err: jsonwebtoken::errors::Error) -> AuthError {
    match err.kind() {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::UnsupportedAlgorithm => AuthError::WrongAlgorithm,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::MissingRequiredClaim(c) | ErrorKind::InvalidClaimFormat(c) => {
            AuthError::BadClaim(c.clone())
        }
        _ => AuthError::Malformed,
    }
}

enum Keys {
    Static(DecodingKey),
    Jwks(JwksKeys),
}

/// The identity provider's key set, refreshed when a token names a key id it does not hold
/// (the provider may have rotated its keys). Refreshes are bounded so that tokens with random
/// `kid`s cannot turn the verifier into an amplifier against the provider, or stall on it:
/// one fetch at a time (the others wait for it, then look again), and at most one per
/// `min_interval`, counted from the last attempt whether it worked or not.
struct JwksKeys {
    url: String,
    http: reqwest::Client,
    set: RwLock<JwkSet>,
    /// When the last fetch started; held across the fetch, so it is also the single flight.
    last_fetch: Mutex<Instant>,
    min_interval: Duration,
}

impl JwksKeys {
    /// The set, or why it could not be had (for the log and start-up errors only: this
    /// names the URL and the transport error, which a caller must not see).
    async fn fetch(http: &reqwest::Client, url: &str) -> Result<JwkSet, String> {
        http.get(url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .json::<JwkSet>()
            .await
            .map_err(|e| e.to_string())
    }

    async fn find(&self, kid: &str) -> Option<Result<DecodingKey, AuthError>> {
        let set = self.set.read().await;
        set.find(kid)
            .map(|jwk| DecodingKey::from_jwk(jwk).map_err(|_| AuthError::UnknownKey))
    }

    async fn key_for(&self, kid: Option<&str>) -> Result<DecodingKey, AuthError> {
        let kid = kid.ok_or(AuthError::UnknownKey)?;
        if let Some(key) = self.find(kid).await {
            return key;
        }
        let mut last_fetch = self.last_fetch.lock().await;
        // Whoever held the lock before may just have fetched the key this token needs.
        if let Some(key) = self.find(kid).await {
            return key;
        }
        if last_fetch.elapsed() < self.min_interval {
            return Err(AuthError::UnknownKey);
        }
        *last_fetch = Instant::now();
        match Self::fetch(&self.http, &self.url).await {
            Ok(fresh) => *self.set.write().await = fresh,
            // Keep the keys we have; tokens signed with them still verify.
            Err(e) => tracing::warn!(error = %e, url = %self.url, "JWKS refresh failed"),
        }
        drop(last_fetch);
        self.find(kid).await.unwrap_or(Err(AuthError::UnknownKey))
    }
}

/// Verifies bearer tokens. Cheap to clone.
#[derive(Clone)]
pub struct Verifier {
    validation: Arc<Validation>,
    keys: Arc<Keys>,
}

impl Verifier {
    /// Builds the verifier the configuration names; `data_dir` holds the dev issuer's key.
    pub async fn from_config(config: &AuthConfig, data_dir: &Path) -> Result<Self, String> {
        let algorithm = Algorithm::from_str(&config.algorithm)
            .map_err(|_| format!("auth.algorithm: unknown algorithm {}", config.algorithm))?;
        let key_from_pem = |pem: &[u8]| -> Result<DecodingKey, String> {
            match algorithm {
                Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
                Algorithm::ES256 | Algorithm::ES384 => DecodingKey::from_ec_pem(pem),
                _ => DecodingKey::from_rsa_pem(pem),
            }
            .map_err(|e| format!("auth.public_key_pem: not a {algorithm:?} public key: {e}"))
        };
        let keys = if config.dev_issuer {
            let issuer = DevIssuer::load_or_create(data_dir, config)?;
            Keys::Static(key_from_pem(issuer.public_pem.as_bytes())?)
        } else if let Some(pem) = &config.public_key_pem {
            Keys::Static(key_from_pem(pem.as_bytes())?)
        } else if let Some(file) = &config.public_key_file {
            let pem = std::fs::read(file).map_err(|e| {
                format!("auth.public_key_file: cannot read {}: {e}", file.display())
            })?;
            Keys::Static(key_from_pem(&pem)?)
        } else if let Some(url) = &config.jwks_url {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .map_err(|e| format!("auth.jwks_url: {e}"))?;
            let set = JwksKeys::fetch(&http, url)
                .await
                .map_err(|e| format!("auth.jwks_url: cannot fetch the key set: {e}"))?;
            Keys::Jwks(JwksKeys {
                url: url.clone(),
                http,
                set: RwLock::new(set),
                last_fetch: Mutex::new(Instant::now()),
                min_interval: Duration::from_secs(config.jwks_min_refresh_secs),
            })
        } else {
            return Err("auth.jwks_url: no verification key configured".into());
        };
        Ok(Self::with_key_source(config, algorithm, keys))
    }

    fn with_key_source(config: &AuthConfig, algorithm: Algorithm, keys: Keys) -> Self {
        // Exactly one algorithm: a token cannot pick a weaker one (or `none`, or HS256 keyed
        // with our public key).
        let mut validation = Validation::new(algorithm);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_issuer(&[config.issuer.as_str()]);
        validation.set_audience(&[config.audience.as_str()]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = config.leeway_secs;
        Self {
            validation: Arc::new(validation),
            keys: Arc::new(keys),
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Caller, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(map_jwt)?;
        if !self.validation.algorithms.contains(&header.alg) {
            return Err(AuthError::WrongAlgorithm);
        }
        let key = match self.keys.as_ref() {
            Keys::Static(key) => key.clone(),
            Keys::Jwks(jwks) => jwks.key_for(header.kid.as_deref()).await?,
        };
        // Decode loosely first so the registered claims are validated (and a wrongly typed
        // `exp` reported as such) before our own claim types are read.
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &self.validation)
            .map_err(map_jwt)?;
        let claims: Claims = serde_path_to_error::deserialize(data.claims)
            .map_err(|e| AuthError::BadClaim(e.path().to_string()))?;
        if claims.sub.is_empty() || claims.sub.len() > 255 {
            return Err(AuthError::BadClaim("sub".into()));
        }
        let (territory, national) = match claims.territory.as_deref() {
            None => (None, false),
            Some(NATIONAL) => (None, true),
            Some(scope) => (
                Some(
                    Territory::from_str(scope)
                        .map_err(|_| AuthError::BadClaim("territory".into()))?,
                ),
                false,
            ),
        };
        let mut roles: Vec<Role> = claims.roles.iter().filter_map(|r| r.parse().ok()).collect();
        roles.sort();
        roles.dedup();
        // National scope must be said, never implied by a missing claim (fail closed).
        let unscoped_staff = roles.contains(&Role::Staff) && territory.is_none() && !national;
        if unscoped_staff {
            roles.retain(|r| *r != Role::Staff);
        }
        let verified_email = claims
            .email
            .filter(|e| claims.email_verified == Some(true) && !e.trim().is_empty());
        Ok(Caller {
            sub: claims.sub,
            roles,
            territory,
            siret: claims.siret,
            national,
            unscoped_staff,
            verified_email,
            token: Arc::from(token),
        })
    }

    /// Reads `Authorization: Bearer …`; `Ok(None)` when the header is absent.
    pub async fn from_request(&self, req: &HttpRequest) -> Result<Option<Caller>, AuthError> {
        match bearer(req)? {
            Some(token) => self.verify(&token).await.map(Some),
            None => Ok(None),
        }
    }
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, AuthError> {
    let Some(value) = req.headers().get(actix_web::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let (scheme, token) = value.split_once(' ').ok_or(AuthError::MalformedHeader)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::MalformedHeader);
    }
    Ok(Some(token.trim().to_owned()))
}

fn verifier_of(req: &HttpRequest) -> Result<Verifier, AppError> {
    req.app_data::<web::Data<Verifier>>()
        .map(|v| v.get_ref().clone())
        .ok_or_else(|| {
            AppError::internal(std::io::Error::other("no Verifier registered in app data"))
        })
}

/// Extractor: the request must carry a valid token.
impl FromRequest for Caller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let verifier = verifier_of(&req)?;
            verifier
                .from_request(&req)
                .await?
                .ok_or_else(|| AuthError::Missing.into())
        })
    }
}

/// Extractor for endpoints open to everyone: `None` without a token, an error for a bad one.
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequest for MaybeCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let verifier = verifier_of(&req)?;
            Ok(MaybeCaller(verifier.from_request(&req).await?))
        })
    }
}

/// The local development issuer: an Ed25519 key pair kept in the data directory. Embedded mode
/// only — production keys belong to the identity provider.
pub struct DevIssuer {
    private_pem: String,
    pub public_pem: String,
    issuer: String,
    audience: String,
}

impl DevIssuer {
    pub const PRIVATE_FILE: &'static str = "dev-issuer.key.pem";
    pub const PUBLIC_FILE: &'static str = "dev-issuer.pub.pem";

    pub fn load_or_create(data_dir: &Path, config: &AuthConfig) -> Result<Self, String> {
        let private_path = data_dir.join(Self::PRIVATE_FILE);
        let public_path = data_dir.join(Self::PUBLIC_FILE);
        if !private_path.exists() {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| format!("data_dir: cannot create {}: {e}", data_dir.display()))?;
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed)
                .map_err(|e| format!("no entropy for the dev issuer: {e}"))?;
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let private_pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| e.to_string())?;
            let public_pem = key
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .map_err(|e| e.to_string())?;
            write_private(&private_path, private_pem.as_bytes())?;
            std::fs::write(&public_path, public_pem.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", public_path.display()))?;
        }
        let read = |p: &PathBuf| {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        Ok(Self {
            private_pem: read(&private_path)?,
            public_pem: read(&public_path)?,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
        })
    }

    /// Signs a token for `sub` with `roles`, valid for `ttl`. Staff without a `territory` get
    /// the explicit national scope (`territory: national`).
    pub fn issue(
        &self,
        sub: &str,
        roles: &[Role],
        territory: Option<&Territory>,
        ttl: Duration,
    ) -> Result<String, String> {
        self.issue_scoped(sub, roles, territory, None, ttl)
    }

    /// Like [`issue`](Self::issue), with a provider's SIRET scope.
    pub fn issue_scoped(
        &self,
        sub: &str,
        roles: &[Role],
        territory: Option<&Territory>,
        siret: Option<&str>,
        ttl: Duration,
    ) -> Result<String, String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp: now + ttl.as_secs(),
            nbf: Some(now),
            iat: Some(now),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            territory: territory
                .map(ToString::to_string)
                .or_else(|| roles.contains(&Role::Staff).then(|| NATIONAL.to_owned())),
            siret: siret.map(str::to_owned),
            email: None,
            email_verified: None,
        };
        self.sign(&claims)
    }

    /// Like [`issue`](Self::issue), for an account whose email the provider verified
    /// (`email`, `email_verified: true`), as an OpenID Connect provider would say it.
    pub fn issue_with_email(
        &self,
        sub: &str,
        roles: &[Role],
        email: &str,
        ttl: Duration,
    ) -> Result<String, String> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            sub: sub.to_owned(),
            iss: self.issuer.clone(),
            aud: Audience::One(self.audience.clone()),
            exp: now + ttl.as_secs(),
            nbf: Some(now),
            iat: Some(now),
            roles: roles.iter().map(|r| r.as_str().to_owned()).collect(),
            territory: roles.contains(&Role::Staff).then(|| NATIONAL.to_owned()),
            siret: None,
            email: Some(email.to_owned()),
            email_verified: Some(true),
        };
        self.sign(&claims)
    }

    /// Signs arbitrary claims (tests use it to forge bad tokens).
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, String> {
        let key =
            EncodingKey::from_ed_pem(self.private_pem.as_bytes()).map_err(|e| e.to_string())?;
        jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &key)
            .map_err(|e| e.to_string())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    file.write_all(bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_counts_only_when_verified_and_odd_types_never_refuse_the_token() {
        let claims = |extra: serde_json::Value| -> Claims {
            let mut base = serde_json::json!({
                "sub": "s", "iss": "i", "aud": "a", "exp": 1,
            });
            if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
                base.extend(extra.clone());
            }
            serde_json::from_value(base).expect("claims read")
        };
        let verified =
            claims(serde_json::json!({"email": "ana@example.org", "email_verified": true}));
        assert_eq!(verified.email_verified, Some(true));
        let as_text =
            claims(serde_json::json!({"email": "ana@example.org", "email_verified": "true"}));
        assert_eq!(as_text.email_verified, Some(true));
        let odd = claims(serde_json::json!({"email": 3, "email_verified": {"x": 1}}));
        assert_eq!((odd.email, odd.email_verified), (None, None));
    }

    #[test]
    fn territories_parse_and_print() {
        assert_eq!("region:84".parse(), Ok(Territory::Region("84".into())));
        assert_eq!(
            "departement:2A".parse(),
            Ok(Territory::Departement("2A".into()))
        );
        assert!("commune:69123".parse::<Territory>().is_err());
        assert!("region:".parse::<Territory>().is_err());
        assert_eq!(
            Territory::Departement("971".into()).to_string(),
            "departement:971"
        );
    }

    #[test]
    fn coordinators_only_cover_their_territory() {
        let caller = |territory: Option<Territory>| Caller {
            sub: "s".into(),
            roles: vec![Role::Staff],
            national: territory.is_none(),
            territory,
            siret: None,
            unscoped_staff: false,
            verified_email: None,
            token: Arc::from(""),
        };
        let national = caller(None);
        assert!(national.covers(Some("84"), Some("69")));
        assert!(national.is_national_staff());
        let region = caller(Some(Territory::Region("84".into())));
        assert!(region.covers(Some("84"), Some("69")));
        assert!(!region.covers(Some("11"), Some("75")));
        let dept = caller(Some(Territory::Departement("69".into())));
        assert!(dept.covers(Some("84"), Some("69")));
        assert!(!dept.covers(Some("84"), Some("38")));
        let mut citizen = caller(None);
        citizen.roles = vec![Role::Citizen];
        assert!(!citizen.covers(Some("84"), Some("69")));
        assert!(citizen.require(Role::Staff).is_err());
    }
}

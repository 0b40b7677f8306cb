//! Signing in through the identity provider: OpenID Connect, authorization code flow with
//! PKCE (`openidconnect`). The state, nonce and PKCE verifier of a round trip wait in the
//! visitor's encrypted session cookie ([`Pending`]); the callback exchanges the code, verifies
//! the ID token (signature, issuer, audience, expiry, nonce, `at_hash`) and keeps the access
//! token the API is then called with. Signing out ends the provider's session too when it
//! advertises an `end_session_endpoint` (RP-initiated logout).

use crate::{SignIn, Web, config::OidcConfig};
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderValue},
    middleware::Next,
    web,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndSessionUrl,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LogoutRequest, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl,
    ProviderMetadataWithLogout, RedirectUrl, Scope, TokenResponse,
    core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreIdTokenClaims},
    reqwest,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// Where the provider sends people back, under the app's public address.
pub const CALLBACK_PATH: &str = "/connexion/retour";

/// How long the provider's metadata and keys are used before being read again, so a key
/// rotation is picked up without a restart.
const METADATA_TTL: Duration = Duration::from_secs(600);

/// What of the tokens the session cookie can carry: a cookie holds 4 KB at most, once
/// encrypted and encoded, beside the CSRF token and the person's name.
const COOKIE_BUDGET: usize = 2400;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The provider as discovered, with the client registered at it.
struct Discovered {
    at: Instant,
    client: Client,
    end_session: Option<EndSessionUrl>,
}

/// The identity provider and this app's registration at it.
pub struct OpenIdConnect {
    issuer: IssuerUrl,
    /// The provider's origin (`https://auth.example.fr`), which the pages' forms may lead to.
    origin: String,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    scopes: Vec<Scope>,
    redirect: RedirectUrl,
    after_sign_out: PostLogoutRedirectUrl,
    http: reqwest::Client,
    discovered: Mutex<Option<Arc<Discovered>>>,
}

/// A sign-in under way, kept in the session between leaving for the provider and coming back.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    state: String,
    nonce: String,
    verifier: String,
    /// The path of this site to land on once signed in.
    pub back: String,
}

/// What the provider's redirect brings back (RFC 6749 §4.1.2, RFC 9207 `iss`).
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
}

/// A completed sign-in.
pub struct Tokens {
    /// The access token the API is called with.
    pub access_token: String,
    /// Unix seconds past which the access token is no longer accepted.
    pub expires_at: i64,
    /// The ID token, kept as the hint of a later sign-out at the provider when the cookie
    /// has room for it (the provider is then told the client instead).
    pub id_token: Option<String>,
    /// What the header shows: the person's name as the provider gives it.
    pub label: String,
}

/// Why a sign-in did not complete; each is a page in French, never a 500.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    /// The provider cannot be reached or its discovery document does not read.
    Unavailable,
    /// The person cancelled, or the provider refused them (`access_denied`).
    Denied,
    /// The answer matches no sign-in started in this browser (state, issuer), or came twice.
    BadState,
    /// The provider answered with another error, or its tokens did not verify.
    Failed,
}

impl SignInError {
    pub fn status(&self) -> actix_web::http::StatusCode {
        use actix_web::http::StatusCode;
        match self {
            SignInError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            SignInError::Denied => StatusCode::FORBIDDEN,
            SignInError::BadState => StatusCode::BAD_REQUEST,
            SignInError::Failed => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn heading(&self) -> &'static str {
        match self {
            SignInError::Unavailable => "Connexion momentanément indisponible",
            SignInError::Denied => "Connexion annulée",
            SignInError::BadState => "Connexion refusée",
            SignInError::Failed => "Connexion impossible",
        }
    }

    pub fn message(&self) -> &'static str {
        match self {
            SignInError::Unavailable => {
                "Le service de connexion ne répond pas. Réessayez dans quelques minutes ; \
                 vous pouvez chercher un café et vous y inscrire sans compte."
            }
            SignInError::Denied => {
                "La connexion a été annulée ou refusée par le fournisseur d'identité : vous \
                 n'êtes pas connecté·e. Vous pouvez réessayer, ou chercher un café et vous y \
                 inscrire sans compte."
            }
            SignInError::BadState => {
                "Cette réponse de connexion ne correspond à aucune connexion commencée sur ce \
                 navigateur (lien expiré, déjà utilisé ou venu d'ailleurs) : par sécurité, \
                 elle a été refusée et vous n'êtes pas connecté·e. Recommencez la connexion \
                 depuis ce site."
            }
            SignInError::Failed => {
                "Le fournisseur d'identité n'a pas pu vous connecter. Réessayez dans quelques \
                 minutes."
            }
        }
    }
}

impl OpenIdConnect {
    /// `public_url` is the app's own address; nothing is fetched until the first sign-in, so
    /// the citizen pages do not depend on the provider being up.
    pub fn new(config: &OidcConfig, public_url: &str) -> Result<Self, String> {
        let base = public_url.trim_end_matches('/');
        let issuer =
            IssuerUrl::new(config.issuer.clone()).map_err(|e| format!("web.oidc.issuer: {e}"))?;
        let redirect = RedirectUrl::new(format!("{base}{CALLBACK_PATH}"))
            .map_err(|e| format!("web.public_url: {e}"))?;
        let after_sign_out = PostLogoutRedirectUrl::new(format!("{base}/"))
            .map_err(|e| format!("web.public_url: {e}"))?;
        let http = reqwest::Client::builder()
            // Following redirects would let a provider's answer point this app anywhere.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| format!("web.oidc: {e}"))?;
        Ok(Self {
            origin: issuer.url().origin().ascii_serialization(),
            issuer,
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: config
                .client_secret
                .as_ref()
                .map(|s| ClientSecret::new(s.expose_secret().to_owned())),
            scopes: config
                .scopes
                .split_whitespace()
                .filter(|s| *s != "openid")
                .map(|s| Scope::new(s.to_owned()))
                .collect(),
            redirect,
            after_sign_out,
            http,
            discovered: Mutex::new(None),
        })
    }

    async fn discovered(&self) -> Result<Arc<Discovered>, SignInError> {
        if let Some(known) = self.lock().as_ref()
            && known.at.elapsed() < METADATA_TTL
        {
            return Ok(known.clone());
        }
        // Outside the lock: two sign-ins at once may both read the document, which is harmless.
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), &self.http)
            .await
            .map_err(|e| {
                tracing::warn!(issuer = %self.issuer.as_str(), error = %e, "identity provider discovery failed");
                SignInError::Unavailable
            })?;
        let end_session = metadata.additional_metadata().end_session_endpoint.clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone());
        let fresh = Arc::new(Discovered {
            at: Instant::now(),
            client,
            end_session,
        });
        *self.lock() = Some(fresh.clone());
        Ok(fresh)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Arc<Discovered>>> {
        self.discovered.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the provider again on the next sign-in (its keys may have rotated).
    fn forget(&self) {
        *self.lock() = None;
    }

    /// Where to send the person, and what to keep until they come back.
    pub async fn start(&self, back: String) -> Result<(String, Pending), SignInError> {
        let provider = self.discovered().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = provider
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(self.scopes.iter().cloned())
            .set_pkce_challenge(challenge)
            .url();
        let pending = Pending {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            back,
        };
        Ok((url.to_string(), pending))
    }

    /// Completes the sign-in `pending` started, from what the provider's redirect brought.
    pub async fn finish(&self, pending: Pending, back: Callback) -> Result<Tokens, SignInError> {
        // The state first: an error answer that matches no sign-in of ours is not ours to show.
        let state = back.state.as_deref().unwrap_or_default();
        if !same(state, &pending.state) {
            return Err(SignInError::BadState);
        }
        // RFC 9207: an answer naming another issuer is a mix-up attack.
        if back
            .iss
            .as_deref()
            .is_some_and(|iss| iss != self.issuer.as_str())
        {
            return Err(SignInError::BadState);
        }
        if let Some(error) = &back.error {
            tracing::info!(
                error = %error,
                description = back.error_description.as_deref().unwrap_or_default(),
                "the identity provider did not sign the person in"
            );
            return Err(match error.as_str() {
                "access_denied" | "login_required" | "consent_required" => SignInError::Denied,
                _ => SignInError::Failed,
            });
        }
        let Some(code) = back.code else {
            return Err(SignInError::BadState);
        };
        let provider = self.discovered().await?;
        let response = provider
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| {
                tracing::error!(error = %e, "the identity provider has no token endpoint");
                SignInError::Failed
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "the authorization code was not exchanged");
                SignInError::Failed
            })?;
        let Some(id_token) = response.id_token() else {
            tracing::warn!("the identity provider gave no ID token");
            return Err(SignInError::Failed);
        };
        let verifier = provider.client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(pending.nonce))
            .map_err(|e| {
                tracing::warn!(error = %e, "the ID token does not verify");
                self.forget();
                SignInError::Failed
            })?;
        if let Some(expected) = claims.access_token_hash() {
            let actual = id_token
                .signing_alg()
                .ok()
                .zip(id_token.signing_key(&verifier).ok())
                .and_then(|(alg, key)| {
                    AccessTokenHash::from_token(response.access_token(), alg, key).ok()
                });
            if actual.as_ref() != Some(expected) {
                tracing::warn!("the access token is not the one the ID token names (at_hash)");
                return Err(SignInError::Failed);
            }
        }
        let lifetime = response
            .expires_in()
            .map(|d| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero()))
            .unwrap_or_else(|| claims.expiration() - chrono::Utc::now());
        // A minute early: a page must not start with a token that lapses on its way.
        let expires_at = (chrono::Utc::now() + lifetime).timestamp() - 60;
        let access_token = response.access_token().secret().clone();
        if access_token.len() > COOKIE_BUDGET {
            tracing::error!(
                bytes = access_token.len(),
                "the access token is too large for the session cookie"
            );
            return Err(SignInError::Failed);
        }
        let id_token = id_token.to_string();
        let id_token = (access_token.len() + id_token.len() <= COOKIE_BUDGET).then_some(id_token);
        Ok(Tokens {
            access_token,
            expires_at,
            id_token,
            label: label(claims),
        })
    }

    /// The provider's sign-out address, when it has one; `id_token` (of the session being
    /// ended) tells it which session, else the client id says who asks.
    pub async fn sign_out_url(&self, id_token: Option<&str>) -> Option<String> {
        let provider = self.discovered().await.ok()?;
        let end_session = provider.end_session.clone()?;
        let mut request = LogoutRequest::from(end_session)
            .set_client_id(self.client_id.clone())
            .set_post_logout_redirect_uri(self.after_sign_out.clone());
        if let Some(Ok(token)) = id_token.map(str::parse::<CoreIdToken>) {
            request = request.set_id_token_hint(&token);
        }
        Some(request.http_get_url().to_string())
    }
}

/// Lets the pages' forms lead to the provider: the sign-out button's answer is a redirect
/// to the provider's `end_session_endpoint`, and browsers hold a form's redirects to the
/// page's `form-action` too.
pub async fn allow_provider_forms(
    app: web::Data<Web>,
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    if let SignIn::OpenIdConnect(provider) = app.sign_in.as_ref() {
        let headers = response.headers_mut();
        // Only pages carry a policy; theirs is the same one, with the provider's origin added.
        if headers.contains_key(header::CONTENT_SECURITY_POLICY)
            && let Ok(csp) =
                HeaderValue::from_str(&crate::render::content_security_policy(&provider.origin))
        {
            headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        }
    }
    Ok(response)
}

/// The name the header shows: the full name, else given and family names, else the address.
fn label(claims: &CoreIdTokenClaims) -> String {
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().trim().to_owned())
        .filter(|n| !n.is_empty());
    let parts = || {
        let given = claims
            .given_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str());
        let family = claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str());
        let joined = [given, family]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        Some(joined.trim().to_owned()).filter(|n| !n.is_empty())
    };
    name.or_else(parts)
        .or_else(|| claims.email().map(|e| e.as_str().to_owned()))
        .unwrap_or_else(|| "Mon compte".to_owned())
}

/// Compared through digests, so the time taken does not tell where two values differ.
fn same(a: &str, b: &str) -> bool {
    !a.is_empty() && Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> OpenIdConnect {
        let config = OidcConfig {
            issuer: "https://auth.example.fr/realms/cafeia".into(),
            client_id: "cafeia-web".into(),
            client_secret: None,
            scopes: "openid profile email".into(),
        };
        OpenIdConnect::new(&config, "https://cafe-ia.gouv.fr/").expect("provider")
    }

    fn pending() -> Pending {
        Pending {
            state: "etat-attendu".into(),
            nonce: "nonce".into(),
            verifier: "verifier".into(),
            back: "/".into(),
        }
    }

    /// Refused before anything is fetched: the provider here does not exist.
    async fn refusal(answer: Callback) -> SignInError {
        match provider().finish(pending(), answer).await {
            Ok(_) => panic!("signed in on a refused answer"),
            Err(e) => e,
        }
    }

    #[actix_web::test]
    async fn answers_that_match_no_sign_in_of_this_browser_are_refused_first() {
        let code = || Some("code".to_owned());
        assert_eq!(
            refusal(Callback {
                code: code(),
                state: Some("autre".into()),
                ..Default::default()
            })
            .await,
            SignInError::BadState
        );
        assert_eq!(
            refusal(Callback {
                code: code(),
                ..Default::default()
            })
            .await,
            SignInError::BadState
        );
        // An error answer is only shown as such when it answers our request.
        assert_eq!(
            refusal(Callback {
                error: Some("access_denied".into()),
                state: Some("autre".into()),
                ..Default::default()
            })
            .await,
            SignInError::BadState
        );
        assert_eq!(
            refusal(Callback {
                error: Some("access_denied".into()),
                state: Some("etat-attendu".into()),
                ..Default::default()
            })
            .await,
            SignInError::Denied
        );
        assert_eq!(
            refusal(Callback {
                error: Some("server_error".into()),
                state: Some("etat-attendu".into()),
                ..Default::default()
            })
            .await,
            SignInError::Failed
        );
        // RFC 9207: another issuer's answer is a mix-up.
        assert_eq!(
            refusal(Callback {
                code: code(),
                state: Some("etat-attendu".into()),
                iss: Some("https://evil.example".into()),
                ..Default::default()
            })
            .await,
            SignInError::BadState
        );
    }

    #[test]
    fn the_provider_is_told_where_to_send_people_back() {
        let provider = provider();
        assert_eq!(
            provider.redirect.as_str(),
            "https://cafe-ia.gouv.fr/connexion/retour"
        );
        assert_eq!(provider.after_sign_out.as_str(), "https://cafe-ia.gouv.fr/");
        assert_eq!(provider.origin, "https://auth.example.fr");
        let scopes: Vec<_> = provider.scopes.iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, ["profile", "email"], "openid is always asked, once");
    }
}

//! JWT verification: what is accepted and everything that must be refused.

use actix_web::{App, HttpResponse, test, web};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use cafeia_platform::{
    auth::{AuthError, Caller, DevIssuer, Role, Territory, Verifier},
    config::AuthConfig,
    errors::{ErrorCode, Problem},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

struct Keys {
    dir: PathBuf,
    issuer: DevIssuer,
    verifier: Verifier,
    config: AuthConfig,
}

impl Drop for Keys {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn keys() -> Keys {
    let dir = std::env::temp_dir().join(format!("cafeia-auth-{}", uuid::Uuid::now_v7()));
    let config = AuthConfig {
        dev_issuer: true,
        ..AuthConfig::default()
    };
    let issuer = DevIssuer::load_or_create(&dir, &config).expect("issuer");
    let verifier = Verifier::from_config(&config, &dir)
        .await
        .expect("verifier");
    Keys {
        dir,
        issuer,
        verifier,
        config,
    }
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims(k: &Keys) -> serde_json::Value {
    json!({
        "sub": "citoyen-1",
        "iss": k.config.issuer,
        "aud": k.config.audience,
        "exp": now() + 600,
        "nbf": now() - 10,
        "roles": ["citizen", "offline_access"],
    })
}

async fn verify(k: &Keys, token: &str) -> Result<Caller, AuthError> {
    k.verifier.verify(token).await
}

#[tokio::test]
async fn a_valid_token_is_accepted_with_its_roles_and_scope() {
    let k = keys().await;
    let token = k
        .issuer
        .issue(
            "coord-ara",
            &[Role::Staff],
            Some(&Territory::Region("84".into())),
            Duration::from_secs(60),
        )
        .expect("token");
    let caller = verify(&k, &token).await.expect("accepted");
    assert_eq!(caller.sub, "coord-ara");
    assert_eq!(caller.roles, vec![Role::Staff]);
    assert_eq!(caller.territory, Some(Territory::Region("84".into())));
    assert!(!caller.is_national_staff());

    let citizen = verify(&k, &k.issuer.sign(&claims(&k)).expect("sign"))
        .await
        .expect("accepted");
    assert_eq!(
        citizen.roles,
        vec![Role::Citizen],
        "unknown roles are ignored"
    );
}

#[tokio::test]
async fn expired_and_not_yet_valid_tokens_are_refused() {
    let k = keys().await;
    let mut expired = claims(&k);
    expired["exp"] = json!(now() - 3600);
    assert_eq!(
        verify(&k, &k.issuer.sign(&expired).expect("sign"))
            .await
            .err(),
        Some(AuthError::Expired)
    );
    let mut early = claims(&k);
    early["nbf"] = json!(now() + 3600);
    assert_eq!(
        verify(&k, &k.issuer.sign(&early).expect("sign"))
            .await
            .err(),
        Some(AuthError::NotYetValid)
    );
}

#[tokio::test]
async fn wrong_issuer_or_audience_is_refused() {
    let k = keys().await;
    let mut iss = claims(&k);
    iss["iss"] = json!("https://evil.example");
    assert_eq!(
        verify(&k, &k.issuer.sign(&iss).expect("sign")).await.err(),
        Some(AuthError::WrongIssuer)
    );
    let mut aud = claims(&k);
    aud["aud"] = json!(["another-app"]);
    assert_eq!(
        verify(&k, &k.issuer.sign(&aud).expect("sign")).await.err(),
        Some(AuthError::WrongAudience)
    );
}

#[tokio::test]
async fn missing_or_wrongly_typed_claims_are_refused() {
    let k = keys().await;
    let mut exp_text = claims(&k);
    exp_text["exp"] = json!("demain");
    assert_eq!(
        verify(&k, &k.issuer.sign(&exp_text).expect("sign"))
            .await
            .err(),
        Some(AuthError::BadClaim("exp".into()))
    );
    let mut no_exp = claims(&k);
    no_exp.as_object_mut().expect("object").remove("exp");
    assert_eq!(
        verify(&k, &k.issuer.sign(&no_exp).expect("sign"))
            .await
            .err(),
        Some(AuthError::BadClaim("exp".into()))
    );
    let mut no_sub = claims(&k);
    no_sub.as_object_mut().expect("object").remove("sub");
    assert!(
        verify(&k, &k.issuer.sign(&no_sub).expect("sign"))
            .await
            .is_err()
    );
    let mut bad_scope = claims(&k);
    bad_scope["territory"] = json!("planet:earth");
    assert_eq!(
        verify(&k, &k.issuer.sign(&bad_scope).expect("sign"))
            .await
            .err(),
        Some(AuthError::BadClaim("territory".into()))
    );
}

#[tokio::test]
async fn alg_none_is_refused() {
    let k = keys().await;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let body = URL_SAFE_NO_PAD.encode(claims(&k).to_string());
    for token in [format!("{header}.{body}."), format!("{header}.{body}")] {
        assert!(verify(&k, &token).await.is_err(), "accepted {token}");
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let k = keys().await;
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(&k),
        &EncodingKey::from_secret(k.issuer.public_pem.as_bytes()),
    )
    .expect("forge");
    assert_eq!(
        verify(&k, &token).await.err(),
        Some(AuthError::WrongAlgorithm)
    );
}

#[tokio::test]
async fn a_token_signed_by_another_key_is_refused() {
    let k = keys().await;
    let other = keys().await;
    let token = other.issuer.sign(&claims(&k)).expect("sign");
    assert_eq!(
        verify(&k, &token).await.err(),
        Some(AuthError::BadSignature)
    );
    assert!(verify(&k, "not.a.token").await.is_err());
    assert!(verify(&k, "").await.is_err());
}

async fn staff_only(caller: Caller) -> Result<HttpResponse, cafeia_platform::AppError> {
    caller.require(Role::Staff)?;
    Ok(HttpResponse::Ok().body(caller.sub))
}

#[actix_web::test]
async fn the_extractor_answers_401_and_403_as_problems() {
    let k = keys().await;
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(k.verifier.clone()))
            .route("/staff", web::get().to(staff_only)),
    )
    .await;

    let problem_of =
        |body: web::Bytes| -> Problem { serde_json::from_slice(&body).expect("problem json") };

    let resp = test::call_service(&app, test::TestRequest::get().uri("/staff").to_request()).await;
    assert_eq!(resp.status(), 401);
    assert_eq!(
        problem_of(test::read_body(resp).await).code,
        ErrorCode::Unauthenticated
    );

    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/staff")
            .insert_header(("authorization", "Basic abc"))
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 401);

    let citizen = k
        .issuer
        .issue("c1", &[Role::Citizen], None, Duration::from_secs(60))
        .expect("token");
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/staff")
            .insert_header(("authorization", format!("Bearer {citizen}")))
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 403);
    assert_eq!(
        problem_of(test::read_body(resp).await).code,
        ErrorCode::Forbidden
    );

    let staff = k
        .issuer
        .issue("s1", &[Role::Staff], None, Duration::from_secs(60))
        .expect("token");
    let resp = test::call_service(
        &app,
        test::TestRequest::get()
            .uri("/staff")
            .insert_header(("authorization", format!("Bearer {staff}")))
            .to_request(),
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(test::read_body(resp).await, "s1");
}

/// A local identity provider's JWKS endpoint that counts its hits; it can rotate its keys
/// (publish a second key id) and go down (answer 500).
struct JwksServer {
    url: String,
    hits: Arc<AtomicUsize>,
    rotated: Arc<AtomicBool>,
    down: Arc<AtomicBool>,
    handle: actix_web::dev::ServerHandle,
}

impl JwksServer {
    async fn start(k: &Keys) -> Self {
        use actix_web::HttpServer;
        use ed25519_dalek::{VerifyingKey, pkcs8::DecodePublicKey};
        let public = VerifyingKey::from_public_key_pem(&k.issuer.public_pem).expect("public key");
        let jwk = |kid: &str| {
            json!({
                "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(public.to_bytes()),
            })
        };
        let before = json!({"keys": [jwk("cle-2026")]});
        let after = json!({"keys": [jwk("cle-2026"), jwk("cle-2027")]});
        let hits = Arc::new(AtomicUsize::new(0));
        let rotated = Arc::new(AtomicBool::new(false));
        let down = Arc::new(AtomicBool::new(false));
        let (h, r, d) = (hits.clone(), rotated.clone(), down.clone());
        let server = HttpServer::new(move || {
            let (before, after) = (before.clone(), after.clone());
            let (h, r, d) = (h.clone(), r.clone(), d.clone());
            App::new().route(
                "/certs",
                web::get().to(move || {
                    let (before, after) = (before.clone(), after.clone());
                    let (h, r, d) = (h.clone(), r.clone(), d.clone());
                    async move {
                        h.fetch_add(1, Ordering::SeqCst);
                        if d.load(Ordering::SeqCst) {
                            HttpResponse::InternalServerError().finish()
                        } else if r.load(Ordering::SeqCst) {
                            HttpResponse::Ok().json(after)
                        } else {
                            HttpResponse::Ok().json(before)
                        }
                    }
                }),
            )
        })
        .workers(2)
        .disable_signals()
        .bind("127.0.0.1:0")
        .expect("bind");
        let port = server.addrs()[0].port();
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}/certs"),
            hits,
            rotated,
            down,
            handle,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    async fn verifier(&self, k: &Keys, min_refresh_secs: u64) -> Verifier {
        let config = AuthConfig {
            jwks_url: Some(self.url.clone()),
            jwks_min_refresh_secs: min_refresh_secs,
            ..AuthConfig::default()
        };
        Verifier::from_config(&config, &k.dir)
            .await
            .expect("JWKS fetched")
    }
}

/// Signs the standard claims with the dev key, naming `kid` in the header.
fn signed_with_kid(k: &Keys, kid: Option<&str>) -> String {
    let private = std::fs::read(k.dir.join(DevIssuer::PRIVATE_FILE)).expect("private key");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(
        &header,
        &claims(k),
        &EncodingKey::from_ed_pem(&private).expect("key"),
    )
    .expect("sign")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_keys_are_fetched_and_matched_by_kid() {
    let k = keys().await;
    let idp = JwksServer::start(&k).await;
    let verifier = idp.verifier(&k, 30).await;
    let caller = verifier
        .verify(&signed_with_kid(&k, Some("cle-2026")))
        .await
        .expect("kid found in the key set");
    assert_eq!(caller.sub, "citoyen-1");
    assert_eq!(
        verifier
            .verify(&signed_with_kid(&k, Some("cle-inconnue")))
            .await
            .err(),
        Some(AuthError::UnknownKey)
    );
    assert_eq!(
        verifier.verify(&signed_with_kid(&k, None)).await.err(),
        Some(AuthError::UnknownKey)
    );
    idp.handle.stop(false).await;
}

/// Issue 14, defect 7: concurrent tokens with unknown key ids each fetched the JWKS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_refetch_storm_fifty_concurrent_unknown_kids_cost_at_most_one_fetch() {
    let k = keys().await;
    let idp = JwksServer::start(&k).await;
    let verifier = idp.verifier(&k, 1).await;
    assert_eq!(idp.hits(), 1, "the key set is fetched at start");

    // Within the interval after a fetch, an unknown kid costs nothing.
    for n in 0..10 {
        let token = signed_with_kid(&k, Some(&format!("aleatoire-{n}")));
        assert_eq!(
            verifier.verify(&token).await.err(),
            Some(AuthError::UnknownKey)
        );
    }
    assert_eq!(idp.hits(), 1, "no fetch within the minimum interval");

    // The provider rotates; once the interval has passed, 50 tokens arrive at once: half
    // signed with the new key, half with random key ids.
    idp.rotated.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let tokens: Vec<(bool, String)> = (0..50)
        .map(|n| {
            if n % 2 == 0 {
                (true, signed_with_kid(&k, Some("cle-2027")))
            } else {
                (false, signed_with_kid(&k, Some(&format!("aleatoire-{n}"))))
            }
        })
        .collect();
    let outcomes = futures::future::join_all(tokens.iter().map(|(valid, token)| {
        let verifier = verifier.clone();
        async move { (*valid, verifier.verify(token).await) }
    }))
    .await;
    assert_eq!(idp.hits(), 2, "one fetch for the whole burst");
    for (valid, outcome) in outcomes {
        if valid {
            assert!(outcome.is_ok(), "the rotated key verifies: {outcome:?}");
        } else {
            assert_eq!(outcome.err(), Some(AuthError::UnknownKey));
        }
    }
    idp.handle.stop(false).await;
}

/// Issue 14, defect 7: with the provider down, every random kid cost a new outbound call, and
/// the answer (503) echoed the transport error and the JWKS URL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_refetch_storm_provider_down_costs_no_fetch_per_request_and_a_generic_401() {
    let k = keys().await;
    let idp = JwksServer::start(&k).await;
    let verifier = idp.verifier(&k, 1).await;
    idp.down.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(verifier.clone()))
            .route("/staff", web::get().to(staff_only)),
    )
    .await;
    for n in 0..20 {
        let token = signed_with_kid(&k, Some(&format!("aleatoire-{n}")));
        let resp = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/staff")
                .insert_header(("authorization", format!("Bearer {token}")))
                .to_request(),
        )
        .await;
        assert_eq!(resp.status(), 401, "request {n}");
        let body = String::from_utf8_lossy(&test::read_body(resp).await).into_owned();
        let problem: Problem = serde_json::from_str(&body).expect("problem json");
        assert_eq!(problem.code, ErrorCode::Unauthenticated);
        assert_eq!(problem.detail, "no key to verify this token");
        for leak in ["127.0.0.1", "/certs", "sending request", "500"] {
            assert!(!body.contains(leak), "the 401 shows {leak:?}: {body}");
        }
    }
    assert_eq!(
        idp.hits(),
        2,
        "one failed attempt in the interval, not one per request"
    );
    // The keys held before the outage still verify, without a fetch.
    assert!(
        verifier
            .verify(&signed_with_kid(&k, Some("cle-2026")))
            .await
            .is_ok()
    );
    assert_eq!(idp.hits(), 2);

    // The provider is back: the next refresh, one interval later, works again.
    idp.down.store(false, Ordering::SeqCst);
    idp.rotated.store(true, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        verifier
            .verify(&signed_with_kid(&k, Some("cle-2027")))
            .await
            .is_ok()
    );
    assert_eq!(idp.hits(), 3);
    idp.handle.stop(false).await;
}

/// Issue 14, defect 13: a staff token with no `territory` acted nationally (fail open).
#[actix_web::test]
async fn staff_token_without_territory_is_not_national() {
    let k = keys().await;
    let mut unscoped = claims(&k);
    unscoped["roles"] = json!(["staff"]);
    let caller = verify(&k, &k.issuer.sign(&unscoped).expect("sign"))
        .await
        .expect("a valid token");
    assert!(!caller.is_national_staff());
    assert!(!caller.has(Role::Staff), "no staff powers without a scope");
    assert!(!caller.covers(Some("84"), Some("69")));
    assert_eq!(caller.scope(), None);

    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(k.verifier.clone()))
            .route("/staff", web::get().to(staff_only)),
    )
    .await;
    let call = |token: String| {
        test::TestRequest::get()
            .uri("/staff")
            .insert_header(("authorization", format!("Bearer {token}")))
            .to_request()
    };
    let resp = test::call_service(&app, call(k.issuer.sign(&unscoped).expect("sign"))).await;
    assert_eq!(resp.status(), 403);
    let problem: Problem = serde_json::from_slice(&test::read_body(resp).await).expect("problem");
    assert_eq!(problem.code, ErrorCode::Forbidden);
    assert!(
        problem.detail.contains("national"),
        "the refusal says what the token lacks: {problem:?}"
    );

    // National is said explicitly, in the claim or by the dev issuer.
    let mut national = unscoped.clone();
    national["territory"] = json!("national");
    let caller = verify(&k, &k.issuer.sign(&national).expect("sign"))
        .await
        .expect("accepted");
    assert!(caller.is_national_staff());
    assert!(caller.covers(Some("84"), Some("69")));
    assert_eq!(caller.scope().as_deref(), Some("national"));
    let issued = k
        .issuer
        .issue("s1", &[Role::Staff], None, Duration::from_secs(60))
        .expect("token");
    let caller = verify(&k, &issued).await.expect("accepted");
    assert!(caller.is_national_staff(), "the dev issuer writes national");
    let resp = test::call_service(&app, call(issued)).await;
    assert_eq!(resp.status(), 200);

    // A coordinator is not national; `national` means nothing to other roles.
    let mut regional = unscoped.clone();
    regional["territory"] = json!("region:84");
    let caller = verify(&k, &k.issuer.sign(&regional).expect("sign"))
        .await
        .expect("accepted");
    assert!(caller.has(Role::Staff) && !caller.is_national_staff());
    let mut citizen = claims(&k);
    citizen["territory"] = json!("national");
    let caller = verify(&k, &k.issuer.sign(&citizen).expect("sign"))
        .await
        .expect("accepted");
    assert!(!caller.is_national_staff() && !caller.covers(Some("84"), Some("69")));
}

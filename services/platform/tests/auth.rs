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
use std::{path::PathBuf, time::Duration};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwks_keys_are_fetched_and_matched_by_kid() {
    use actix_web::HttpServer;
    use ed25519_dalek::{VerifyingKey, pkcs8::DecodePublicKey};
    let k = keys().await;
    let public = VerifyingKey::from_public_key_pem(&k.issuer.public_pem).expect("public key");
    let jwks = json!({"keys": [{
        "kty": "OKP", "crv": "Ed25519", "use": "sig", "alg": "EdDSA", "kid": "cle-2026",
        "x": URL_SAFE_NO_PAD.encode(public.to_bytes()),
    }]});
    let server = HttpServer::new(move || {
        let jwks = jwks.clone();
        App::new().route(
            "/certs",
            web::get().to(move || {
                let jwks = jwks.clone();
                async move { HttpResponse::Ok().json(jwks) }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .bind("127.0.0.1:0")
    .expect("bind");
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);

    let config = AuthConfig {
        jwks_url: Some(format!("http://127.0.0.1:{port}/certs")),
        ..AuthConfig::default()
    };
    let verifier = Verifier::from_config(&config, &k.dir)
        .await
        .expect("JWKS fetched");
    let private = std::fs::read(k.dir.join(DevIssuer::PRIVATE_FILE)).expect("private key");
    let sign = |kid: Option<&str>| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = kid.map(str::to_owned);
        jsonwebtoken::encode(
            &header,
            &claims(&k),
            &EncodingKey::from_ed_pem(&private).expect("key"),
        )
        .expect("sign")
    };
    let caller = verifier
        .verify(&sign(Some("cle-2026")))
        .await
        .expect("kid found in the key set");
    assert_eq!(caller.sub, "citoyen-1");
    assert_eq!(
        verifier.verify(&sign(Some("cle-inconnue"))).await.err(),
        Some(AuthError::UnknownKey)
    );
    assert_eq!(
        verifier.verify(&sign(None)).await.err(),
        Some(AuthError::UnknownKey)
    );
    handle.stop(false).await;
}

//! Signing in through a real OpenID Connect provider (npm `oidc-provider`, started by the
//! harness): authorization code with PKCE, back signed in where the person started, "mes
//! inscriptions" under their name (the API accepting the provider's access token), signing out
//! at the provider too; a cancelled sign-in, a tampered `state` and a replayed answer each get
//! a French page and leave nobody signed in. axe-core finds no WCAG 2.1 A/AA violation on the
//! app's pages (the provider's own pages are not the app's).

use cafeia_e2e::{
    browser::{Driver, Options, assert_accessible, press, tab_to, text_of, wait_for},
    oidc::{CLIENT_ID, stack_with_provider},
};
use cafeia_testkit::Backend;
use fantoccini::{Client, Locator, key::Key};

/// The provider's development login: any password, the login names the account.
async fn log_in_at_provider(client: &Client, account: &str) {
    wait_for(client, "input[name=prompt][value=login]").await;
    let form = client.form(Locator::Css("form")).await.expect("login form");
    form.set_by_name("login", account).await.expect("login");
    form.set_by_name("password", "mot-de-passe")
        .await
        .expect("password");
    form.submit().await.expect("sign-in submitted");
    // The consent page (first sign-in of this account for the app).
    wait_for(client, "input[name=prompt][value=consent]").await;
    client
        .find(Locator::Css("button[type=submit]"))
        .await
        .expect("consent button")
        .click()
        .await
        .expect("consent given");
}

async fn path_of(client: &Client) -> String {
    let url = client.current_url().await.expect("url");
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    }
}

/// Whether the app takes the browser as signed in: its own page says so, not the provider.
async fn signed_in(client: &Client, base: &str) -> bool {
    client
        .goto(&format!("{base}/mes-inscriptions"))
        .await
        .expect("my registrations");
    !path_of(client).await.starts_with("/connexion")
}

async fn person_signs_in_through_the_provider_and_out(backend: Backend) {
    let (stack, provider) = stack_with_provider(backend).await;
    let mut driver = Driver::start().await;
    let client = driver.browser(Options::default()).await;

    client
        .goto(&format!("{}/connexion?retour=/formations", stack.base))
        .await
        .expect("sign-in page");
    assert_accessible(&client, "connexion (fournisseur d'identité)").await;
    assert!(
        text_of(&client, "main")
            .await
            .contains("fournisseur d'identité"),
        "the page says where the sign-in goes"
    );
    tab_to(&client, "#connexion-fournisseur", 40).await;
    press(&client, Key::Enter).await;
    log_in_at_provider(&client, "lea").await;

    // Back where the person started, signed in under the name the provider gave.
    wait_for(&client, "a[href='/mes-inscriptions']").await;
    assert_eq!(path_of(&client).await, "/formations");
    assert_eq!(
        text_of(&client, ".fr-header__tools a[href='/mes-inscriptions']")
            .await
            .trim(),
        "Léa Dupont"
    );
    assert_accessible(&client, "formations, connectée").await;

    // The API accepts the provider's token: the personal page answers instead of sending the
    // person back to the sign-in.
    assert!(
        signed_in(&client, &stack.base).await,
        "signed in after the round trip"
    );
    assert_eq!(text_of(&client, "h1").await.trim(), "Mes inscriptions");
    assert!(
        text_of(&client, "main")
            .await
            .contains("Vous n'êtes inscrit·e à aucun café")
    );
    assert_accessible(&client, "mes inscriptions").await;

    // Signing out ends the provider's session too: it asks to confirm, then sends the person
    // back to the home page.
    tab_to(
        &client,
        "form[action='/deconnexion'] button[type=submit]",
        40,
    )
    .await;
    press(&client, Key::Enter).await;
    wait_for(&client, "button[name=logout]").await;
    let logout = client.current_url().await.expect("url").to_string();
    assert!(
        logout.starts_with(&format!("{}/session/end?", provider.issuer)),
        "RP-initiated logout at the provider: {logout}"
    );
    assert!(
        logout.contains("id_token_hint=") && logout.contains("post_logout_redirect_uri="),
        "the provider is told which session ends and where to send the person: {logout}"
    );
    client
        .find(Locator::Css("button[name=logout]"))
        .await
        .expect("logout button")
        .click()
        .await
        .expect("logout confirmed");
    wait_for(&client, "a[href='/connexion']").await;
    assert_eq!(path_of(&client).await, "/");
    assert_accessible(&client, "accueil, déconnectée").await;
    assert!(!signed_in(&client, &stack.base).await, "signed out here");

    // And there: the next sign-in asks for the login again.
    client
        .goto(&format!("{}/connexion/fournisseur", stack.base))
        .await
        .expect("sign in again");
    wait_for(&client, "input[name=prompt][value=login]").await;
    assert!(
        client
            .current_url()
            .await
            .expect("url")
            .as_str()
            .starts_with(&provider.issuer),
        "the provider asks again"
    );

    client.close().await.ok();
    stack.stop().await;
}

/// An authorization request of the app's client made by someone else, with their own state:
/// the answer it brings back carries a real code, but no sign-in of this browser's session.
fn forged_request(issuer: &str, base: &str) -> String {
    format!(
        "{issuer}/auth?client_id={CLIENT_ID}&response_type=code&scope=openid%20profile\
         &redirect_uri={base}/connexion/retour&state=etat-falsifie&nonce=nonce-falsifie\
         &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
}

async fn refused_answers_get_a_french_page_and_nobody_is_signed_in(backend: Backend) {
    let (stack, provider) = stack_with_provider(backend).await;
    let mut driver = Driver::start().await;
    let client = driver.browser(Options::default()).await;

    // Cancelled at the provider: access_denied comes back.
    client
        .goto(&format!("{}/connexion/fournisseur", stack.base))
        .await
        .expect("sign-in started");
    wait_for(&client, "input[name=prompt][value=login]").await;
    client
        .find(Locator::Css("a[href*='/abort']"))
        .await
        .expect("the provider's cancel link")
        .click()
        .await
        .expect("cancelled");
    wait_for(&client, ".fr-header").await;
    assert_eq!(text_of(&client, "h1").await.trim(), "Connexion annulée");
    assert!(path_of(&client).await.starts_with("/connexion/retour"));
    assert_accessible(&client, "connexion annulée").await;
    assert!(
        !signed_in(&client, &stack.base).await,
        "not signed in after a cancel"
    );

    // A sign-in under way, and an answer to someone else's request: refused on its state,
    // although the provider did sign an account in and issue a code.
    client
        .goto(&format!("{}/connexion/fournisseur", stack.base))
        .await
        .expect("sign-in started");
    wait_for(&client, "input[name=prompt][value=login]").await;
    client
        .goto(&forged_request(&provider.issuer, &stack.base))
        .await
        .expect("forged request");
    log_in_at_provider(&client, "alex").await;
    wait_for(&client, ".fr-header").await;
    let landed = path_of(&client).await;
    assert!(
        landed.starts_with("/connexion/retour?") && landed.contains("state=etat-falsifie"),
        "the provider answered the forged request: {landed}"
    );
    assert!(landed.contains("code="), "with a real code: {landed}");
    assert_eq!(text_of(&client, "h1").await.trim(), "Connexion refusée");
    assert!(text_of(&client, "main").await.contains("par sécurité"));
    assert_accessible(&client, "connexion refusée").await;
    assert!(
        !signed_in(&client, &stack.base).await,
        "not signed in on a tampered state"
    );

    // The same answer again, with no sign-in under way: refused too.
    client
        .goto(&format!("{}{landed}", stack.base))
        .await
        .expect("replayed answer");
    assert_eq!(text_of(&client, "h1").await.trim(), "Connexion refusée");
    assert!(
        !signed_in(&client, &stack.base).await,
        "not signed in on a replay"
    );

    client.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    person_signs_in_through_the_provider_and_out,
    refused_answers_get_a_french_page_and_nobody_is_signed_in,
);

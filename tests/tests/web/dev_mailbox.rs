//! The development mailbox (`/dev/courriels`): what the stack wrote instead of sending it,
//! listed and opened in the browser, its confirmation link followed — keyboard only. With a
//! real mail transport the page does not exist.

use cafeia_e2e::{
    TestStack,
    browser::{Driver, Options, assert_accessible, open_here, press, tab_to, text_of, wait_for},
};
use cafeia_testkit::{Backend, mail};
use fantoccini::{Locator, key::Key};
use serde_json::json;
use std::path::Path;

/// The file stem of the one `.eml` in `dir` addressed to `to`.
fn mail_file_to(dir: &Path, to: &str) -> String {
    let stems: Vec<String> = std::fs::read_dir(dir)
        .expect("mail directory")
        .flatten()
        .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(to)))
        .filter_map(|e| Some(e.path().file_stem()?.to_str()?.to_owned()))
        .collect();
    assert_eq!(stems.len(), 1, "one mail to {to}: {stems:?}");
    stems[0].clone()
}

async fn the_dev_mailbox_shows_a_confirmation_to_follow_keyboard_only(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let dir = mail::mail_dir(&stack.env.config.data_dir);
    let session = stack
        .first_session("commune: \"69123\", radiusKm: 30, kind: SESSION, hasSeats: true")
        .await;
    let email = format!("courriel.{}@example.fr", uuid::Uuid::now_v7().simple());
    let asked = stack
        .graphql(
            "mutation($id: UUID!, $email: String) { register(sessionId: $id, email: $email, \
             consent: true) { __typename } }",
            json!({"id": session, "email": email}),
            None,
        )
        .await;
    assert_eq!(
        asked["data"]["register"]["__typename"], "RegistrationPending",
        "{asked}"
    );
    let sent = mail::wait_for_mail(&dir, &email, 1).await;
    let stem = mail_file_to(&dir, &email);

    let mut driver = Driver::start().await;
    let client = driver.browser(Options::default()).await;
    client
        .goto(&format!("{}/dev/courriels", stack.base))
        .await
        .expect("mailbox");
    assert_eq!(text_of(&client, "#contenu h1").await, "Courriels envoyés");
    let row = format!("a[href='/dev/courriels/{stem}']");
    assert_eq!(text_of(&client, &row).await, sent[0].subject);
    assert!(
        text_of(&client, "main table").await.contains(&email),
        "the list names the recipient"
    );
    assert_accessible(&client, "courriels envoyés").await;

    tab_to(&client, &row, 120).await;
    press(&client, Key::Enter).await;
    wait_for(&client, ".cafeia-mail").await;
    assert_eq!(text_of(&client, "#contenu h1").await, sent[0].subject);
    assert!(text_of(&client, "main dl").await.contains(&email));
    assert_accessible(&client, "un courriel").await;

    // The mail's address is a link, and it is the one the mail holds.
    let link = "a[href*='/inscriptions/confirmer?jeton=']";
    tab_to(&client, link, 60).await;
    let href = client
        .find(Locator::Css(link))
        .await
        .expect("link")
        .attr("href")
        .await
        .expect("href")
        .expect("an address");
    let token = mail::link_token(&sent[0].text, "/inscriptions/confirmer").expect("token");
    assert!(href.ends_with(&format!("jeton={token}")), "{href}");
    // Mailed links carry the configured public address, not this test's port.
    open_here(&client, &stack.base, &href, "/inscriptions").await;
    tab_to(&client, "main form button", 60).await;
    press(&client, Key::Enter).await;
    wait_for(&client, ".cafeia-link-box a").await;
    assert!(text_of(&client, "h1").await.contains("inscrit"));

    // An address that is no mail's, or that would leave the directory: not found.
    for path in [
        "/dev/courriels/absent",
        "/dev/courriels/..%2Fweb-session.key",
    ] {
        client
            .goto(&format!("{}{path}", stack.base))
            .await
            .expect("page");
        assert_eq!(
            text_of(&client, "#contenu h1").await,
            "Page introuvable",
            "{path}"
        );
    }
    client.close().await.ok();
    stack.stop().await;

    // Mail that really leaves (SMTP) is nobody's to browse: the page is not there.
    let smtp = TestStack::start_with(backend, |config| {
        config.platform.mail.url = Some(mail::smtp_url().into());
    })
    .await;
    let answer = reqwest::Client::new()
        .get(format!("{}/dev/courriels", smtp.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status(), reqwest::StatusCode::NOT_FOUND);
    smtp.stop().await;
}

cafeia_testkit::backend_matrix!(the_dev_mailbox_shows_a_confirmation_to_follow_keyboard_only);

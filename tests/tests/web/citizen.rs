//! A citizen finds a café, registers, confirms through the mailed link and cancels — by
//! keyboard alone with scripts on (the seat count dropping live in a second browser), and
//! with scripts off; axe-core finds no WCAG 2.1 A/AA violation on any page, error states
//! included.

use cafeia_e2e::{
    TestStack,
    browser::{
        Driver, Options, assert_accessible, mailed_link, open_here, press, seats,
        sign_in_by_keyboard, tab_to, text_of, type_text, wait_for, wait_seats,
    },
};
use cafeia_testkit::Backend;
use fantoccini::{Client, Locator, key::Key};
use std::{path::Path, time::Duration};

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
    open_here(&citizen, &stack.base, &confirm, "/inscriptions").await;
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
    open_here(&citizen, &stack.base, &cancel, "/annuler").await;
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
    let hidden = |name: &'static str| {
        let client = client.clone();
        async move {
            client
                .find(Locator::Css(&format!(
                    "form.cafeia-register input[name={name}]"
                )))
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap()
                .unwrap_or_default()
        }
    };
    let (form_csrf, form_key) = (hidden("csrf").await, hidden("cle").await);
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
    let first = client.current_url().await.unwrap();
    // The same form sent again (a double click, the back button and resend) registers once:
    // the same fields with the browser's own session cookie land on the first answer.
    let cookie = client
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    let events_calls = stack.service_calls().await["events"];
    let again = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!(
            "{}{}/inscription",
            stack.base,
            &session_url[session_url.find("/sessions").unwrap()..]
        ))
        .header("cookie", cookie)
        .form(&[
            ("csrf", form_csrf.as_str()),
            ("cle", form_key.as_str()),
            ("email", email.as_str()),
            ("consentement", "oui"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    assert_eq!(
        again.headers()["location"].to_str().unwrap(),
        first.path(),
        "a second submit of one form shows the first answer"
    );
    assert_eq!(
        stack.service_calls().await["events"],
        events_calls,
        "a second submit of one form registers again"
    );
    let mails_to = |dir: &Path| {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(&email)))
                    .count()
            })
            .unwrap_or(0)
    };
    let confirm = mailed_link(&mail_dir, &email, "/inscriptions/confirmer?jeton=").await;
    assert_eq!(mails_to(&mail_dir), 1, "one confirmation mail for one form");
    open_here(&client, &stack.base, &confirm, "/inscriptions").await;
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

/// "Pour vous" shows what the API recommends for the same profile, in its order, each with
/// its reasons; an empty form says what is missing next to the field; a session page embeds
/// its schema.org `Event` for search engines.
async fn recommendations_say_why_and_session_pages_embed_their_event(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mut driver = Driver::start().await;
    let client = driver.browser(Options::default()).await;

    client
        .goto(&format!("{}/pour-vous?lieu=", stack.base))
        .await
        .expect("pour vous");
    wait_for(&client, "#lieu-erreur").await;
    assert!(text_of(&client, "#lieu-erreur").await.contains("commune"));
    assert_accessible(&client, "pour vous, erreur").await;

    client
        .goto(&format!("{}/pour-vous", stack.base))
        .await
        .expect("pour vous");
    assert_accessible(&client, "pour vous").await;
    tab_to(&client, "#lieu", 40).await;
    type_text(&client, "Lyon").await;
    tab_to(&client, "#interets-1", 20).await;
    press(&client, Key::Space).await;
    tab_to(&client, "form[action='/pour-vous'] button[type=submit]", 40).await;
    press(&client, Key::Enter).await;
    wait_for(&client, "#propositions").await;
    assert_accessible(&client, "propositions").await;
    let shown: Vec<String> = {
        let mut titles = Vec::new();
        for card in client
            .find_all(Locator::Css(".cafeia-results .fr-card__title"))
            .await
            .unwrap()
        {
            titles.push(card.text().await.unwrap().trim().to_owned());
        }
        titles
    };
    let api = stack
        .graphql(
            "query($p: ProfileInput!) { recommendations(profile: $p) { title reasons } }",
            serde_json::json!({ "p": {
                "commune": "69123", "radiusKm": 20.0, "interests": ["what_is_ai"],
                "experience": "FIRST_TIME", "limit": 12
            }}),
            None,
        )
        .await;
    let expected: Vec<String> = api["data"]["recommendations"]
        .as_array()
        .unwrap_or_else(|| panic!("recommendations: {api}"))
        .iter()
        .map(|r| r["title"].as_str().unwrap().to_owned())
        .collect();
    assert!(!expected.is_empty(), "the demo data has cafés near Lyon");
    assert_eq!(
        shown, expected,
        "the page lists what the API recommends, in order"
    );
    let first_reason = api["data"]["recommendations"][0]["reasons"][0]
        .as_str()
        .expect("a reason")
        .to_owned();
    assert!(
        text_of(&client, ".cafeia-results")
            .await
            .contains(&first_reason),
        "the reasons are shown ({first_reason})"
    );

    tab_to(&client, ".cafeia-results a[href^='/sessions/']", 80).await;
    press(&client, Key::Enter).await;
    wait_for(&client, "#inscription").await;
    let document = client
        .execute(
            "return document.querySelector('script[type=\"application/ld+json\"]').textContent;",
            vec![],
        )
        .await
        .expect("the page embeds JSON-LD");
    let event: serde_json::Value =
        serde_json::from_str(document.as_str().expect("text")).expect("JSON-LD parses");
    assert_eq!(
        event["@type"],
        serde_json::json!(["Event", "EducationEvent"]),
        "{event}"
    );
    assert_eq!(
        event["name"].as_str().map(str::trim),
        Some(text_of(&client, "h1").await.trim()),
        "the embedded event is this session"
    );
    client.close().await.ok();
    stack.stop().await;
}

/// A signed-in citizen creates their private calendar feed, keyboard only: the page shows its
/// address once, and that address serves an iCalendar file.
async fn a_signed_in_citizen_gets_a_private_calendar_feed(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mut driver = Driver::start().await;
    let client = driver.browser(Options::default()).await;
    client
        .goto(&format!(
            "{}/connexion?retour=/mes-inscriptions",
            stack.base
        ))
        .await
        .expect("sign-in");
    // Léa, the demo citizen, is the first person offered (already chosen).
    tab_to(&client, "main form button[type=submit]", 40).await;
    press(&client, Key::Enter).await;
    wait_for(&client, "#agenda").await;
    client
        .goto(&format!("{}/mes-inscriptions", stack.base))
        .await
        .expect("mes inscriptions");
    assert_accessible(&client, "mes inscriptions").await;
    tab_to(
        &client,
        "form[action='/mes-inscriptions/agenda'] button",
        60,
    )
    .await;
    press(&client, Key::Enter).await;
    wait_for(&client, "#adresse-agenda").await;
    assert_accessible(&client, "agenda privé").await;
    let address = client
        .find(Locator::Css("#adresse-agenda"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .expect("the feed's address");
    let at = address
        .find("/calendars/private/")
        .unwrap_or_else(|| panic!("{address}"));
    let feed = reqwest::get(format!("{}{}", stack.base, &address[at..]))
        .await
        .expect("feed");
    assert_eq!(feed.status(), 200, "{address}");
    assert!(
        feed.text().await.unwrap().starts_with("BEGIN:VCALENDAR"),
        "an iCalendar file"
    );
    // The address is on the answer only, never in the page's own URL.
    assert!(
        !client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("private")
    );
    client.close().await.ok();
    stack.stop().await;
}

/// From the private link, a citizen without an account erases their data, keyboard only: the
/// page says so, and the link no longer works.
async fn a_citizen_erases_their_data_from_the_private_link(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let session = stack
        .first_session("commune: \"69123\", radiusKm: 30, kind: SESSION, hasSeats: true")
        .await;
    let confirmed = stack
        .register_by_mail(&session, "effacer@example.org", Some("Alix Effacée"))
        .await;
    let token = confirmed["data"]["confirmRegistration"]["cancellationToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{confirmed}"))
        .to_owned();
    let mut driver = Driver::start().await;
    let client = driver.browser(Options::default()).await;
    client
        .goto(&format!("{}/annuler?jeton={token}", stack.base))
        .await
        .expect("private link");
    assert_accessible(&client, "annuler, supprimer mes données").await;
    tab_to(&client, "form[action='/supprimer-mes-donnees'] button", 60).await;
    press(&client, Key::Enter).await;
    wait_for(&client, ".fr-alert--success").await;
    assert!(text_of(&client, "h1").await.contains("Données supprimées"));
    assert_accessible(&client, "données supprimées").await;
    let again = stack
        .graphql(
            "mutation($t: String!) { cancelRegistrationWithToken(token: $t) { id } }",
            serde_json::json!({ "t": token }),
            None,
        )
        .await;
    assert!(
        again["errors"].is_array(),
        "the private link no longer works: {again}"
    );
    client.close().await.ok();
    stack.stop().await;
}

/// Whether `css` is on screen (present and shown).
async fn shown(client: &Client, css: &str) -> bool {
    match client.find(Locator::Css(css)).await {
        Ok(element) => element.is_displayed().await.unwrap_or(false),
        Err(_) => false,
    }
}

/// Waits for `css` to be shown (`true`) or hidden (`false`): the menu dialog fades.
async fn wait_shown(client: &Client, css: &str, wanted: bool) {
    for _ in 0..50 {
        if shown(client, css).await == wanted {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{css} should be {}",
        if wanted { "shown" } else { "hidden" }
    );
}

/// On a phone the navigation folds into the DSFR « Menu » dialog, opened and closed by
/// keyboard; with scripts off it is in the page, with the account link, and no button that
/// would do nothing.
async fn on_a_phone_the_menu_is_a_dialog_and_is_there_without_javascript(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mut driver = Driver::start().await;
    let phone = driver
        .browser(Options {
            width: 390,
            ..Options::default()
        })
        .await;
    let nav_link = "#menu-principal .fr-nav a[href='/formations']";
    phone.goto(&format!("{}/", stack.base)).await.expect("home");
    wait_shown(&phone, "#bouton-menu", true).await;
    assert!(!shown(&phone, nav_link).await, "the menu starts folded");
    tab_to(&phone, "#bouton-menu", 20).await;
    press(&phone, Key::Enter).await;
    wait_shown(&phone, nav_link, true).await;
    assert!(
        shown(&phone, "#menu-principal a[href='/connexion']").await,
        "the open menu carries the sign-in link"
    );
    assert_accessible(&phone, "menu ouvert (téléphone)").await;
    press(&phone, Key::Escape).await;
    wait_shown(&phone, nav_link, false).await;

    let bare = driver
        .browser(Options {
            javascript: false,
            width: 390,
        })
        .await;
    bare.goto(&format!("{}/", stack.base)).await.expect("home");
    assert!(
        shown(&bare, nav_link).await,
        "without scripts the menu is in the page"
    );
    assert!(
        shown(&bare, ".fr-header__tools-links a[href='/connexion']").await,
        "and so is the sign-in link"
    );
    assert!(
        !shown(&bare, "#bouton-menu").await,
        "no button that would open nothing"
    );
    phone.close().await.ok();
    bare.close().await.ok();
    stack.stop().await;
}

/// The demo citizen's address, as her identity provider verified it.
const LEA: &str = "lea.citoyenne@example.org";

/// A signed-in citizen gets mail only when she ticks the box, keyboard only: registered to
/// one café without it and to another with it, one mail reaches her account's address, about
/// the second, with its calendar file. Before, the page always sent `consent: false`, so a
/// signed-in citizen never got any mail.
async fn a_signed_in_citizen_gets_mail_only_when_she_asks(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mail_dir = cafeia_testkit::mail::mail_dir(&stack.env.config.data_dir);
    let query = "{ search(input: {commune: \"69123\", radiusKm: 30, kind: SESSION, \
                 hasSeats: true}, first: 2) { hits { nodes { id title } } } }";
    let mut sessions = Vec::new();
    for _ in 0..100 {
        let found = stack.graphql(query, serde_json::json!({}), None).await;
        sessions = found["data"]["search"]["hits"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if sessions.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(sessions.len(), 2, "two cafés with seats near Lyon");
    let (quiet, mailed) = (&sessions[0], &sessions[1]);
    let mut driver = Driver::start().await;
    let client = driver.browser(Options::default()).await;

    let quiet_path = format!("/sessions/{}", quiet["id"].as_str().unwrap());
    sign_in_by_keyboard(&client, &stack.base, "citoyenne", &quiet_path).await;
    wait_for(&client, "#inscription").await;
    let ticked = client
        .find(Locator::Css("form.cafeia-register #consentement"))
        .await
        .expect("the mail box for a signed-in citizen")
        .prop("checked")
        .await
        .unwrap();
    assert_eq!(ticked.as_deref(), Some("false"), "not ticked by default");
    assert_accessible(&client, "session, connectée").await;
    tab_to(&client, "form.cafeia-register button[type=submit]", 80).await;
    press(&client, Key::Enter).await;
    wait_for(&client, ".fr-alert--success").await;

    let mailed_path = format!("/sessions/{}", mailed["id"].as_str().unwrap());
    client
        .goto(&format!("{}{mailed_path}", stack.base))
        .await
        .unwrap();
    wait_for(&client, "#inscription").await;
    tab_to(&client, "#consentement", 80).await;
    press(&client, Key::Space).await;
    tab_to(&client, "form.cafeia-register button[type=submit]", 10).await;
    press(&client, Key::Enter).await;
    wait_for(&client, ".fr-alert--success").await;
    let heading = text_of(&client, "h1").await;
    assert!(heading.contains("inscrit"), "{heading}");

    // Mail goes out in the order it was queued: had the first registration queued any, it
    // would be here before this one.
    let mails = cafeia_testkit::mail::wait_for_mail(&mail_dir, LEA, 1).await;
    let title = mailed["title"].as_str().unwrap();
    assert_eq!(
        mails.len(),
        1,
        "{:?}",
        mails.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(
        mails[0].subject.contains(title),
        "{} / {title}",
        mails[0].subject
    );
    assert!(
        mails[0]
            .attachments
            .iter()
            .any(|(name, _)| name.ends_with(".ics")),
        "{:?}",
        mails[0].attachments
    );
    client.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    a_signed_in_citizen_gets_mail_only_when_she_asks,
    citizen_registers_confirms_and_cancels_keyboard_only,
    registration_works_without_javascript_and_keeps_what_was_typed,
    recommendations_say_why_and_session_pages_embed_their_event,
    a_signed_in_citizen_gets_a_private_calendar_feed,
    a_citizen_erases_their_data_from_the_private_link,
    on_a_phone_the_menu_is_a_dialog_and_is_there_without_javascript,
);

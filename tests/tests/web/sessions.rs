//! A facilitator runs her cafés: Camille (the demo's verified facilitator in Lyon) drafts a
//! session, publishes it, a citizen finds it from the home page and registers, Camille sees
//! her on the roll and in its CSV export, moves the start to a minute from now (the API
//! takes attendance once a session has started and never a start in the past), and records
//! attendance, then checks the form on a phone's width — by keyboard alone, axe-core finding
//! no WCAG 2.1 A/AA violation on any page, error states included. With scripts off, a series
//! is created through its errors and one of its sessions cancelled with a reason.

use cafeia_e2e::{
    TestStack,
    browser::{
        Driver, Options, assert_accessible, mailed_link, open_here, press, sign_in_by_click,
        sign_in_by_keyboard, tab_to, text_of, type_text, wait_for,
    },
};
use cafeia_platform::auth::Role;
use cafeia_testkit::Backend;
use chrono::{DateTime, Duration as Span, NaiveDateTime, Timelike, Utc};
use chrono_tz::Europe::Paris;
use fantoccini::{Client, Locator, key::Key};
use serde_json::{Value, json};
use std::time::Duration;

/// Camille's account (`animatrice` on the development sign-in page).
const CAMILLE: &str = "demo-animatrice";

/// A venue of Camille's in Lyon, created through the API, returned once the events service
/// knows it (its replica learns venues from the bus).
async fn camille_venue(stack: &TestStack) -> String {
    let token = stack.token(CAMILLE, &[Role::Facilitator], None);
    let mut created = Value::Null;
    // Camille's profile is demo data, announced as the stack starts.
    for _ in 0..120 {
        created = stack
            .graphql(
                "mutation($i: VenueInput!) { createVenue(input: $i) { id } }",
                json!({"i": {"name": "Tiers-lieu de la Croix-Rousse", "address": "5 rue Dumenge",
                             "postcode": "69004", "insee": "69384", "capacity": 20}}),
                Some(&token),
            )
            .await;
        if created["data"]["createVenue"]["id"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let venue = created["data"]["createVenue"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("Camille's venue: {created}"))
        .to_owned();
    // A session without a title is refused before anything is written, every bad field
    // named: once the venue is not among them, the events service knows it.
    let later = (Utc::now() + Span::days(30)).naive_utc();
    let probe = json!({"i": {
        "title": "", "format": "IN_PERSON", "venueId": venue, "capacity": 5,
        "startsAt": later.format("%Y-%m-%dT10:00:00").to_string(),
        "endsAt": later.format("%Y-%m-%dT11:00:00").to_string(),
    }});
    let mut refused = Value::Null;
    for _ in 0..120 {
        refused = stack
            .graphql(
                "mutation($i: SessionInput!) { createSession(input: $i) { id } }",
                probe.clone(),
                Some(&token),
            )
            .await;
        let ext = &refused["errors"][0]["extensions"];
        let named = |f: &str| {
            ext["fields"]
                .as_array()
                .is_some_and(|all| all.iter().any(|e| e["field"] == f))
        };
        if ext["code"] == "BAD_USER_INPUT" && named("title") && !named("venueId") {
            return venue;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("the events service never learnt venue {venue}: {refused}");
}

/// What to type into a date field and a time field for `at`: the browser runs in French
/// (`tests/src/browser.rs`), so day first and a 24-hour clock, as a person here types them.
/// The fields' values are checked after typing.
async fn keys_for(client: &Client, at: NaiveDateTime) -> (String, String) {
    let lang = client
        .execute("return navigator.language;", vec![])
        .await
        .expect("script");
    assert!(
        lang.as_str().is_some_and(|l| l.starts_with("fr")),
        "the browser should run in French, it says {lang}"
    );
    (
        at.format("%d%m%Y").to_string(),
        at.format("%H%M").to_string(),
    )
}

async fn value_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Types the start `at` (Paris wall-clock) into the form's date and time fields, by keyboard.
async fn type_start(client: &Client, at: NaiveDateTime) {
    let (date, time) = keys_for(client, at).await;
    tab_to(client, "#date", 80).await;
    type_text(client, &date).await;
    tab_to(client, "#heure", 10).await;
    type_text(client, &time).await;
    assert_eq!(
        value_of(client, "#date").await,
        at.format("%Y-%m-%d").to_string()
    );
    assert_eq!(
        value_of(client, "#heure").await,
        at.format("%H:%M").to_string()
    );
}

/// Fills the start `at` into the form's date and time fields without scripts, in the
/// French order the browser runs in.
async fn fill_start(client: &Client, at: NaiveDateTime) {
    let date = at.format("%d%m%Y").to_string();
    let time = at.format("%H%M").to_string();
    for (css, keys) in [("#date", &date), ("#heure", &time)] {
        let field = client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(keys).await.unwrap();
    }
    assert_eq!(
        (
            value_of(client, "#date").await,
            value_of(client, "#heure").await
        ),
        (
            at.format("%Y-%m-%d").to_string(),
            at.format("%H:%M").to_string()
        ),
        "the date and time fields take the French order"
    );
}

/// Waits for `css` to say `needle` (the page before may have had the same element).
async fn wait_text(client: &Client, css: &str, needle: &str) {
    for _ in 0..200 {
        if let Ok(found) = client.find(Locator::Css(css)).await
            && found.text().await.is_ok_and(|t| t.contains(needle))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{css} never said {needle:?}");
}

/// The ids of the sessions titled `title` in a section of "Mes sessions" (no script needed).
async fn listed_in(client: &Client, section: &str, title: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for card in client
        .find_all(Locator::Css(&format!("#{section} ~ ul .cafeia-session")))
        .await
        .unwrap()
    {
        let heading = card
            .find(Locator::Css("h3"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if heading.trim() == title {
            let id = card.attr("id").await.unwrap().unwrap_or_default();
            ids.push(id.trim_start_matches("session-").to_owned());
        }
    }
    ids
}

/// The id of the session titled `title` in the list of "Mes sessions".
async fn listed_id(client: &Client, title: &str) -> String {
    let id = client
        .execute(
            "const card = [...document.querySelectorAll('.cafeia-session')]
                 .find(c => c.querySelector('h3').textContent.trim() === arguments[0]);
             return card ? card.id.replace('session-', '') : null;",
            vec![json!(title)],
        )
        .await
        .expect("script");
    id.as_str()
        .unwrap_or_else(|| panic!("{title} is not in Mes sessions"))
        .to_owned()
}

/// The browser's cookies as a `Cookie` header, to fetch as the signed-in person.
async fn cookie_header(client: &Client) -> String {
    client
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Paris wall-clock time of an instant.
fn paris(at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&Paris).naive_local()
}

async fn camille_publishes_lea_registers_and_attendance_is_recorded_keyboard_only(
    backend: Backend,
) {
    let stack = TestStack::start(backend).await;
    let base = stack.base.clone();
    let mail_dir = stack.env.config.data_dir.join("mail");
    camille_venue(&stack).await;
    let mut driver = Driver::start().await;
    let camille = driver.browser(Options::default()).await;
    let citizen = driver.browser(Options::default()).await;
    let title = format!(
        "Café IA : l'IA au quotidien {}",
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    );

    // A draft, refused first: the API names the venue and the seats, next to their fields,
    // and nothing typed is lost.
    sign_in_by_keyboard(
        &camille,
        &base,
        "animatrice",
        "/animateur/sessions/nouvelle",
    )
    .await;
    wait_for(&camille, "#titre").await;
    assert_accessible(&camille, "nouvelle session").await;
    tab_to(&camille, "#titre", 60).await;
    type_text(&camille, &title).await;
    // Tomorrow at 15:00 in Lyon: sooner than any demo café, so first in the search.
    let tomorrow = paris(Utc::now() + Span::days(1)).date();
    let first_start = tomorrow.and_hms_opt(15, 0, 0).unwrap();
    type_start(&camille, first_start).await;
    tab_to(&camille, "button[value=brouillon]", 80).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "#lieu-erreur").await;
    wait_for(&camille, "#capacite-erreur").await;
    assert_eq!(
        value_of(&camille, "#titre").await,
        title,
        "the title is kept"
    );
    assert_eq!(
        value_of(&camille, "#date").await,
        first_start.format("%Y-%m-%d").to_string(),
        "the date is kept"
    );
    assert_eq!(
        camille
            .find(Locator::Css("#lieu"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    assert_accessible(&camille, "nouvelle session en erreur").await;

    tab_to(&camille, "#lieu", 80).await;
    // The first option says "choose"; the next is Camille's venue.
    press(&camille, Key::Down).await;
    tab_to(&camille, "#capacite", 40).await;
    type_text(&camille, "12").await;
    tab_to(&camille, "button[value=brouillon]", 40).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, ".fr-alert--success").await;
    assert!(
        text_of(&camille, ".fr-alert--success")
            .await
            .contains("brouillon")
    );
    assert_accessible(&camille, "mes sessions").await;
    let id = listed_id(&camille, &title).await;
    // (The DSFR writes badges in capitals: their text is compared in lower case.)
    assert!(
        text_of(&camille, &format!("#session-{id}"))
            .await
            .to_lowercase()
            .contains("brouillon"),
        "listed as a draft"
    );

    // Published from the list.
    tab_to(
        &camille,
        &format!("form[action='/animateur/sessions/{id}/publier'] button"),
        300,
    )
    .await;
    press(&camille, Key::Enter).await;
    wait_text(&camille, ".fr-alert--success", "publiée").await;
    assert!(
        text_of(&camille, &format!("#a-venir ~ ul #session-{id}"))
            .await
            .to_lowercase()
            .contains("publiée"),
        "the published session is among those to come"
    );

    // Léa searches near Lyon (the search learns of the session from the bus: searched again
    // until it shows) and registers without an account.
    citizen.goto(&format!("{base}/")).await.unwrap();
    tab_to(&citizen, "#lieu", 40).await;
    type_text(&citizen, "Lyon").await;
    tab_to(&citizen, "form[action='/'] button[type=submit]", 20).await;
    press(&citizen, Key::Enter).await;
    wait_for(&citizen, "#resultats").await;
    let found = format!(".cafeia-results a[href='/sessions/{id}']");
    let results = citizen.current_url().await.unwrap();
    for _ in 0..60 {
        if citizen.find(Locator::Css(&found)).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        citizen.goto(results.as_str()).await.unwrap();
    }
    tab_to(&citizen, &found, 80).await;
    press(&citizen, Key::Enter).await;
    wait_for(&citizen, "#inscription").await;
    assert_eq!(text_of(&citizen, "h1").await, title);
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
    let confirm = mailed_link(&mail_dir, &email, "/inscriptions/confirmer?jeton=").await;
    open_here(&citizen, &base, &confirm, "/inscriptions").await;
    tab_to(&citizen, "main form button", 60).await;
    press(&citizen, Key::Enter).await;
    wait_for(&citizen, ".cafeia-link-box a").await;

    // Camille sees Léa on the roll.
    camille
        .goto(&format!("{base}/animateur/sessions"))
        .await
        .unwrap();
    tab_to(
        &camille,
        &format!("a[href='/animateur/sessions/{id}/inscrits']"),
        300,
    )
    .await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "#places-reservees").await;
    let roll = text_of(&camille, "main").await;
    assert!(
        roll.contains("Léa") && roll.contains(&email),
        "Léa on the roll: {roll}"
    );
    assert!(roll.contains("1 place réservée sur 12"), "{roll}");
    assert_accessible(&camille, "inscrits").await;

    // The CSV, as the download link fetches it with Camille's session.
    let csv = reqwest::Client::new()
        .get(format!("{base}/animateur/sessions/{id}/inscrits.csv"))
        .header("cookie", cookie_header(&camille).await)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert_eq!(
        csv.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let disposition = csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"inscrits-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let bytes = csv.bytes().await.unwrap();
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "UTF-8 with a byte-order mark, for Excel"
    );
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    let rows: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        rows.first().copied(),
        Some(
            "N° d'arrivée;Nom;Adresse électronique;Inscription avec un compte;Statut;Position en liste d'attente;Inscrit·e le"
        ),
        "{text}"
    );
    assert_eq!(rows.len(), 2, "one registrant: {text}");
    assert!(
        rows[1].starts_with(&format!("1;Léa;{email};non;Inscription confirmée;;")),
        "{text}"
    );
    let anonymous = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{base}/animateur/sessions/{id}/inscrits.csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303, "signed out, no roll");

    // The start moved to the next minute (leaving the form time to be sent): attendance is
    // taken once the session has started, and no session is created in the past.
    camille
        .goto(&format!("{base}/animateur/sessions"))
        .await
        .unwrap();
    tab_to(
        &camille,
        &format!("a[href='/animateur/sessions/{id}/modifier']"),
        300,
    )
    .await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "form.cafeia-session-form").await;
    assert_accessible(&camille, "modifier une session").await;
    // 25 s leave the form time to be typed and sent under a loaded CI machine (a start in
    // the past would be refused); each second more is a second this test waits.
    let soon = paris(Utc::now() + Span::seconds(25));
    let soon = soon
        .date()
        .and_hms_opt(soon.hour(), soon.minute(), 0)
        .unwrap()
        + Span::minutes(1);
    type_start(&camille, soon).await;
    tab_to(
        &camille,
        "form.cafeia-session-form button[type=submit]",
        120,
    )
    .await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, ".fr-alert--success").await;
    assert!(
        text_of(&camille, ".fr-alert--success")
            .await
            .contains("modifiée")
    );

    let attendance = format!("{base}/animateur/sessions/{id}/presences");
    let starts = soon
        .and_local_timezone(Paris)
        .single()
        .expect("a wall-clock time that exists")
        .with_timezone(&Utc);
    camille.goto(&attendance).await.unwrap();
    if Utc::now() < starts - Span::seconds(2) {
        let closed = text_of(&camille, "#fermee").await;
        assert!(
            closed.contains("s'ouvre au début"),
            "before the start, the page says when it opens: {closed}"
        );
    }
    // Until the start the test chose, the page would only say so again (and each load
    // spends Camille's request budget): wait for it, then load the page.
    tokio::time::sleep((starts - Utc::now()).to_std().unwrap_or_default()).await;
    let mut opened = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        camille.goto(&attendance).await.unwrap();
        if camille
            .find(Locator::Css("form.cafeia-attendance"))
            .await
            .is_ok()
        {
            opened = true;
            break;
        }
    }
    assert!(
        opened,
        "the attendance form opens once the session has started"
    );
    assert_accessible(&camille, "présences").await;

    // More first-timers than people present: the API's error next to its field, the ticks
    // and counts kept.
    tab_to(&camille, "input[name=presents]", 80).await;
    press(&camille, Key::Space).await;
    tab_to(&camille, "#sans_inscription", 10).await;
    type_text(&camille, "2").await;
    tab_to(&camille, "#primo", 10).await;
    type_text(&camille, "9").await;
    tab_to(&camille, "form.cafeia-attendance button[type=submit]", 40).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "#primo-erreur").await;
    assert!(
        text_of(&camille, "#primo-erreur").await.contains("(3)"),
        "the API counts 3 people present"
    );
    assert_eq!(value_of(&camille, "#sans_inscription").await, "2");
    assert_eq!(
        camille
            .find(Locator::Css("input[name=presents]"))
            .await
            .unwrap()
            .prop("checked")
            .await
            .unwrap()
            .as_deref(),
        Some("true"),
        "Léa stays ticked"
    );
    assert_accessible(&camille, "présences en erreur").await;

    tab_to(&camille, "#primo", 40).await;
    press(&camille, Key::Backspace).await;
    type_text(&camille, "2").await;
    tab_to(&camille, "#age_25_39", 20).await;
    type_text(&camille, "1").await;
    tab_to(&camille, "#age_60_74", 20).await;
    type_text(&camille, "2").await;
    tab_to(&camille, "#situation_retired", 30).await;
    type_text(&camille, "2").await;
    tab_to(&camille, "form.cafeia-attendance button[type=submit]", 40).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, ".fr-alert--success").await;
    let report = text_of(&camille, "#rapport").await;
    assert!(
        report.contains("Version 1")
            && report.contains("3 présent·es")
            && report.contains("0 absent"),
        "{report}"
    );
    assert_eq!(
        value_of(&camille, "#age_60_74").await,
        "2",
        "the report, to correct"
    );
    assert!(
        text_of(&camille, "form.cafeia-attendance button[type=submit]")
            .await
            .contains("Corriger")
    );

    // At the door on a phone: one column, nothing wider than the screen, tall tap targets.
    let phone = driver
        .browser(Options {
            javascript: true,
            width: 390,
        })
        .await;
    sign_in_by_keyboard(
        &phone,
        &base,
        "animatrice",
        &format!("/animateur/sessions/{id}/presences"),
    )
    .await;
    wait_for(&phone, "form.cafeia-attendance").await;
    let layout = phone
        .execute(
            "const label = document.querySelector('.cafeia-rollcall .fr-label').getBoundingClientRect();
             const button = document.querySelector('form.cafeia-attendance button[type=submit]').getBoundingClientRect();
             return [document.documentElement.scrollWidth, window.innerWidth, label.height, label.width, button.width];",
            vec![],
        )
        .await
        .expect("script");
    let n = |i: usize| layout[i].as_f64().unwrap_or_default();
    assert!(n(0) <= n(1), "nothing wider than the phone: {layout}");
    assert!(n(2) >= 44.0, "a registrant is a tall target: {layout}");
    assert!(
        n(3) >= n(1) * 0.7,
        "a registrant spans the screen: {layout}"
    );
    assert!(n(4) >= n(1) * 0.7, "the button spans the screen: {layout}");
    assert_accessible(&phone, "présences sur un téléphone").await;

    phone.close().await.ok();
    citizen.close().await.ok();
    camille.close().await.ok();
    stack.stop().await;
}

async fn a_series_is_created_and_one_session_cancelled_without_javascript(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let base = stack.base.clone();
    let mut driver = Driver::start().await;
    let client = driver
        .browser(Options {
            javascript: false,
            width: 390,
        })
        .await;
    let click = |css: String| {
        let client = client.clone();
        async move {
            client
                .find(Locator::Css(&css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"))
                .click()
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"));
        }
    };
    let fill = |css: &'static str, text: String| {
        let client = client.clone();
        async move {
            client
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("{css}: {e}"))
                .send_keys(&text)
                .await
                .unwrap();
        }
    };
    sign_in_by_click(&client, &base, "animatrice", "/animateur/sessions/nouvelle").await;
    wait_for(&client, "#titre").await;

    // Online, weekly, one session only and no title: the API refuses the count, then the
    // title, each next to its field; the description, the link and the count stay as typed.
    click("#format input[value=ONLINE] + label".into()).await;
    fill(
        "#description",
        "Une heure en visio pour découvrir l'IA.".into(),
    )
    .await;
    fill("#lien", "https://visio.example.fr/cafe-ia".into()).await;
    let start = paris(Utc::now() + Span::days(2))
        .date()
        .and_hms_opt(18, 30, 0)
        .unwrap();
    fill_start(&client, start).await;
    click("#repetition input[value=WEEKLY] + label".into()).await;
    client
        .find(Locator::Css("#occurrences"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    fill("#occurrences", "1".into()).await;
    click("button[value=brouillon]".into()).await;
    wait_for(&client, "#occurrences-erreur").await;
    assert!(text_of(&client, "#occurrences-erreur").await.contains("52"));
    assert_eq!(value_of(&client, "#occurrences").await, "1");
    assert_eq!(
        value_of(&client, "#lien").await,
        "https://visio.example.fr/cafe-ia"
    );
    assert_eq!(
        value_of(&client, "#description").await,
        "Une heure en visio pour découvrir l'IA."
    );
    assert_eq!(
        client
            .find(Locator::Css("#repetition input[value=WEEKLY]"))
            .await
            .unwrap()
            .prop("checked")
            .await
            .unwrap()
            .as_deref(),
        Some("true"),
        "the chosen repetition is kept"
    );

    client
        .find(Locator::Css("#occurrences"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    fill("#occurrences", "3".into()).await;
    click("button[value=brouillon]".into()).await;
    wait_for(&client, "#titre-erreur").await;
    assert_eq!(
        client
            .find(Locator::Css("#titre"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    assert_eq!(value_of(&client, "#occurrences").await, "3");

    let title = format!(
        "Café IA en visio {}",
        &uuid::Uuid::now_v7().simple().to_string()[24..]
    );
    fill("#titre", title.clone()).await;
    click("button[value=brouillon]".into()).await;
    wait_for(&client, ".fr-alert--success").await;
    assert!(
        text_of(&client, ".fr-alert--success")
            .await
            .contains("série")
    );
    let drafts = listed_in(&client, "brouillons", &title).await;
    assert_eq!(drafts.len(), 3, "three weekly drafts");
    assert!(
        text_of(&client, &format!("#session-{}", drafts[0]))
            .await
            .to_lowercase()
            .contains("série")
    );

    // Cancelled with a reason: without one, the API's error next to the field.
    click(format!(
        "a[href='/animateur/sessions/{}/annuler']",
        drafts[1]
    ))
    .await;
    wait_for(&client, "#motif").await;
    click("main form button[type=submit]".into()).await;
    wait_for(&client, "#motif-erreur").await;
    assert_eq!(
        client
            .find(Locator::Css("#motif"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    fill(
        "#motif",
        "La salle de visio n'est pas disponible ce jour-là.".into(),
    )
    .await;
    click("main form button[type=submit]".into()).await;
    wait_text(&client, ".fr-alert--success", "annulée").await;
    let card = text_of(&client, &format!("#session-{}", drafts[1])).await;
    assert!(
        card.to_lowercase().contains("annulée")
            && card.contains("La salle de visio n'est pas disponible"),
        "{card}"
    );
    assert!(
        text_of(&client, &format!("#session-{}", drafts[2]))
            .await
            .to_lowercase()
            .contains("brouillon"),
        "the other sessions of the series stay"
    );
    client.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    camille_publishes_lea_registers_and_attendance_is_recorded_keyboard_only,
    a_series_is_created_and_one_session_cancelled_without_javascript,
);

//! The staff dashboard in the browser, on the demo data and 40 more attendance reports (as
//! the events service announces them: audiences, formats, ages, topics, régions of their
//! own). National staff read every table (progress, weekly curve, six breakdowns, reach per
//! département, coverage gaps with their unmet demand) and each number equals the API's for
//! the same figures; the charts render with scripts on, and
//! with scripts off the tables are the same. The coordinator of région 84 sees that région
//! only — every row and figure checked, an address asking for another région changes
//! nothing. The « as of » and period form is used with the keyboard alone, a bad period
//! shown next to its field with what was typed kept. axe-core finds no WCAG 2.1 A/AA
//! violation, charts drawn, error state included.

use cafeia_e2e::{
    TestStack,
    browser::{
        Driver, Options, assert_accessible, press, sign_in_by_click, sign_in_by_keyboard, tab_to,
        text_of, type_text, wait_for,
    },
};
use cafeia_platform::{
    auth::{Role, Territory},
    bus::Message,
    envelope::{Envelope, MessageType},
    territory::Gazetteer,
};
use cafeia_testkit::Backend;
use cafeia_web::labels;
use chrono::{Duration as Days, NaiveDate, Utc};
use fantoccini::{Client, Locator, key::Key};
use serde_json::{Value, json};
use std::time::Duration;

/// The same figures as the page, asked independently of it.
const FIGURES: &str = "query($region: String, $asOf: NaiveDate, $from: NaiveDate, \
    $to: NaiveDate, $by: Dimension!) {
  outreachHeadline(region: $region, asOf: $asOf) { reached goal participations sessionsHeld
    activeFacilitators runRatePerWeek neededPerWeek }
  outreachWeekly(region: $region, asOf: $asOf) { week reached cumulative goalLine }
  territory: outreachBreakdown(by: $by, region: $region, from: $from, to: $to) { ...R }
  audience: outreachBreakdown(by: AUDIENCE, region: $region, from: $from, to: $to) { ...R }
  ageBand: outreachBreakdown(by: AGE_BAND, region: $region, from: $from, to: $to) { ...R }
  occupation: outreachBreakdown(by: OCCUPATION, region: $region, from: $from, to: $to) { ...R }
  format: outreachBreakdown(by: FORMAT, region: $region, from: $from, to: $to) { ...R }
  topic: outreachBreakdown(by: TOPIC, region: $region, from: $from, to: $to) { ...R }
  outreachReach(region: $region, asOf: $asOf) { departement region population sessions
    reached reachedPer10000 plannedNext30Days }
  coverageGaps(limit: 10, region: $region, asOf: $asOf) { departement region reachedPer10000 }
}
fragment R on BreakdownRow { key label sessions participations reached }";

fn national(stack: &TestStack) -> String {
    stack.token("demo-cnnum", &[Role::Staff], None)
}

fn coordinator(stack: &TestStack) -> String {
    stack.token(
        "demo-coordination-ara",
        &[Role::Staff],
        Some(Territory::Region("84".into())),
    )
}

fn in_ara(departement: &str) -> bool {
    Gazetteer::get()
        .departement(departement)
        .is_some_and(|d| d.region == "84")
}

/// Waits for the demo's attendance reports to reach the outreach figures.
async fn wait_for_reports(stack: &TestStack) {
    let token = national(stack);
    for _ in 0..300 {
        let head = stack
            .graphql(
                "{ outreachHeadline { sessionsHeld } }",
                json!({}),
                Some(&token),
            )
            .await;
        if head["data"]["outreachHeadline"]["sessionsHeld"].as_i64() >= Some(10) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the demo's attendance reports never reached the outreach figures");
}

/// More attendance reports than the demo's, as the events service announces them (its
/// message on the bus, which the outreach service ingests): several audiences, formats (online
/// ones without a territory), age bands, occupations and topics, in région 84 and elsewhere,
/// over the last four months. Returns once the figures count them.
async fn seed_reports(stack: &TestStack) {
    let token = national(stack);
    let held = || async {
        let head = stack
            .graphql(
                "{ outreachHeadline { sessionsHeld } }",
                json!({}),
                Some(&token),
            )
            .await;
        head["data"]["outreachHeadline"]["sessionsHeld"]
            .as_i64()
            .unwrap_or(0)
    };
    let before = held().await;
    let bus = stack.bus().expect("the stack's bus");
    let kind = MessageType::new("events", "attendance", "recorded", 1);
    let places = [
        ("69", "84"),
        ("38", "84"),
        ("63", "84"),
        ("74", "84"),
        ("13", "93"),
        ("75", "11"),
        ("29", "53"),
        ("971", "01"),
    ];
    let audiences = [
        "general_public",
        "students",
        "job_seekers",
        "seniors",
        "employees",
    ];
    let topics = [
        "what_is_ai",
        "generative_ai",
        "ai_at_work",
        "data_and_privacy",
    ];
    let today = Utc::now().date_naive();
    const SEEDED: i64 = 40;
    for i in 0..SEEDED as usize {
        let format = ["in_person", "online", "hybrid", "in_person"][i % 4];
        let (dep, region) = places[i % places.len()];
        let (dep, region) = if format == "online" {
            (Value::Null, Value::Null)
        } else {
            (json!(dep), json!(region))
        };
        let day = today - Days::days(2 + (i as i64 * 3) % 120);
        let attended = 6 + (i % 9) as i64;
        let data = json!({
            "session_id": uuid::Uuid::now_v7(), "version": 1,
            "facilitator_id": uuid::Uuid::from_u128(1 + (i % 7) as u128),
            "facilitator_kind": "mediateur_numerique",
            "starts_at": format!("{day}T16:00:00Z"), "timezone": "Europe/Paris",
            "format": format, "insee": null, "departement": dep, "region": region,
            "topics": [topics[i % topics.len()], topics[(i + 1) % topics.len()]],
            "audiences": [audiences[i % audiences.len()]],
            "level": "discovery", "registered": attended, "attended": attended,
            "no_shows": 0, "walk_ins": 0, "first_timers": attended - 2,
            "age_bands": { "18_24": 2, "40_59": attended - 4, "75_plus": 2 },
            "occupations": { "student": 2, "retired": attended - 2 },
        });
        let message = Message::event(kind.routing_key(), &Envelope::new(kind, "test", data))
            .expect("message");
        bus.publish(&message).await.expect("published");
    }
    for _ in 0..300 {
        if held().await >= before + SEEDED {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the seeded attendance reports never reached the outreach figures");
}

async fn figures(stack: &TestStack, token: &str, variables: Value) -> Value {
    let answer = stack.graphql(FIGURES, variables, Some(token)).await;
    assert!(answer["errors"].is_null(), "{answer}");
    answer["data"].clone()
}

/// A table's body, row by row, each cell's text (the row's `data-departement` first when it
/// has one).
async fn table(client: &Client, id: &str) -> Vec<Vec<String>> {
    let rows = client
        .execute(
            "const t = document.getElementById(arguments[0]);
             if (!t) return null;
             return [...t.querySelectorAll('tbody tr')].map(tr => {
               const cells = [...tr.children].map(c => c.textContent.trim());
               return tr.dataset.departement ? [tr.dataset.departement, ...cells] : cells;
             });",
            vec![json!(id)],
        )
        .await
        .expect("script");
    let rows = rows
        .as_array()
        .unwrap_or_else(|| panic!("no table #{id} on the page"));
    rows.iter()
        .map(|r| {
            r.as_array()
                .expect("cells")
                .iter()
                .map(|c| c.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .collect()
}

/// An element's text as written (a badge shows it in capitals).
async fn content_of(client: &Client, css: &str) -> String {
    client
        .execute(
            "return document.querySelector(arguments[0]).textContent.trim();",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// A French-written number (« 1 234 », « 12,50 ») as the API writes it.
fn number(text: &str) -> f64 {
    let plain: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{202f}' && *c != '\u{a0}')
        .map(|c| if c == ',' { '.' } else { c })
        .collect();
    plain
        .trim_end_matches('%')
        .parse()
        .unwrap_or_else(|_| panic!("« {text} » is not a number"))
}

fn int(text: &str) -> i64 {
    let n = number(text);
    assert_eq!(n.fract(), 0.0, "« {text} » is not a whole number");
    n as i64
}

fn api_int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{v} is not an integer"))
}

/// The French words the page uses for a breakdown's keys.
fn label_of(dimension: &str, row: &Value) -> String {
    let key = row["key"].as_str().expect("key");
    match dimension {
        "territory" if key == "online" => "En ligne".into(),
        "territory" => row["label"].as_str().unwrap_or(key).to_owned(),
        "audience" => labels::audience(&key.to_uppercase()).into(),
        "ageBand" => labels::among(&labels::AGE_BANDS, key),
        "occupation" => labels::among(&labels::OCCUPATIONS, key),
        "format" => labels::format(&key.to_uppercase()).into(),
        "topic" => labels::among(&labels::TOPICS, key),
        other => panic!("no dimension {other}"),
    }
}

/// Every table of the page against the API's figures. Returns how many rows were compared.
async fn compare(client: &Client, stack: &TestStack, token: &str, api: &Value) -> usize {
    let mut compared = 0;
    let h = &api["outreachHeadline"];
    let progress = table(client, "tableau-progression").await;
    let fact = |name: &str| -> String {
        progress
            .iter()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no « {name} » in {progress:?}"))[1]
            .clone()
    };
    for (name, field) in [
        ("Personnes sensibilisées", "reached"),
        ("Objectif", "goal"),
        ("Participations (sur place compris)", "participations"),
        ("Sessions tenues", "sessionsHeld"),
        (
            "Animateurs actifs (90 derniers jours)",
            "activeFacilitators",
        ),
    ] {
        assert_eq!(int(&fact(name)), api_int(&h[field]), "{name}");
        compared += 1;
    }
    for (name, field) in [
        ("Rythme actuel, par semaine", "runRatePerWeek"),
        ("Rythme nécessaire, par semaine", "neededPerWeek"),
    ] {
        let wanted = h[field].as_f64().expect("rate");
        assert!(
            (number(&fact(name)) - wanted).abs() < 0.05 + 1e-9,
            "{name}: page {} API {wanted}",
            fact(name)
        );
        compared += 1;
    }

    let weeks = table(client, "tableau-courbe").await;
    let api_weeks = api["outreachWeekly"].as_array().expect("weeks");
    assert_eq!(weeks.len(), api_weeks.len(), "one row per week");
    for (row, w) in weeks.iter().zip(api_weeks) {
        let day = NaiveDate::parse_from_str(w["week"].as_str().expect("week"), "%Y-%m-%d")
            .expect("a day");
        assert_eq!(row[0], day.format("%d/%m/%Y").to_string());
        assert_eq!(
            (int(&row[1]), int(&row[2]), int(&row[3])),
            (
                api_int(&w["reached"]),
                api_int(&w["cumulative"]),
                api_int(&w["goalLine"])
            ),
            "week {}",
            row[0]
        );
        compared += 1;
    }

    let territory_id = if client
        .find(Locator::Css("#tableau-par-region"))
        .await
        .is_ok()
    {
        "tableau-par-region"
    } else {
        "tableau-par-departement"
    };
    for (dimension, id) in [
        ("territory", territory_id),
        ("audience", "tableau-par-public"),
        ("ageBand", "tableau-par-age"),
        ("occupation", "tableau-par-situation"),
        ("format", "tableau-par-format"),
        ("topic", "tableau-par-theme"),
    ] {
        let mut shown: Vec<(String, i64, i64, Option<i64>)> = table(client, id)
            .await
            .iter()
            .map(|r| {
                (
                    r[0].clone(),
                    int(&r[1]),
                    int(&r[2]),
                    r.get(3).map(|t| int(t)),
                )
            })
            .collect();
        let mut wanted: Vec<(String, i64, i64, Option<i64>)> = api[dimension]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| {
                (
                    label_of(dimension, r),
                    api_int(&r["sessions"]),
                    api_int(&r["participations"]),
                    r["reached"].as_i64(),
                )
            })
            .collect();
        assert!(!wanted.is_empty(), "the demo data has {dimension} rows");
        shown.sort();
        wanted.sort();
        assert_eq!(shown, wanted, "{id}");
        compared += shown.len();
    }

    let reach = table(client, "tableau-carte").await;
    let api_reach = api["outreachReach"].as_array().expect("reach");
    assert_eq!(reach.len(), api_reach.len(), "one row per département");
    let codes: Vec<&str> = reach.iter().map(|r| r[0].as_str()).collect();
    assert!(codes.is_sorted(), "départements by code: {codes:?}");
    for row in &reach {
        let r = api_reach
            .iter()
            .find(|r| r["departement"] == row[0].as_str())
            .unwrap_or_else(|| panic!("{} is not in the API's reach", row[0]));
        assert_eq!(
            (int(&row[2]), int(&row[3]), int(&row[4]), int(&row[6])),
            (
                api_int(&r["population"]),
                api_int(&r["sessions"]),
                api_int(&r["reached"]),
                api_int(&r["plannedNext30Days"])
            ),
            "département {}",
            row[0]
        );
        let per = r["reachedPer10000"].as_f64().expect("per 10,000");
        assert!(
            (number(&row[5]) - per).abs() < 0.005 + 1e-9,
            "{row:?} {per}"
        );
        compared += 1;
    }

    let gaps = table(client, "tableau-zones").await;
    let api_gaps = api["coverageGaps"].as_array().expect("gaps");
    assert_eq!(
        gaps.len(),
        api_gaps.len(),
        "one row per gap, in the API's order"
    );
    for (i, (row, g)) in gaps.iter().zip(api_gaps).enumerate() {
        let code = g["departement"].as_str().expect("code");
        assert_eq!((row[0].as_str(), int(&row[1])), (code, i as i64 + 1));
        let per = g["reachedPer10000"].as_f64().expect("per 10,000");
        assert!(
            (number(&row[6]) - per).abs() < 0.005 + 1e-9,
            "{row:?} {per}"
        );
        let demand = stack
            .graphql(
                "query($d: String!) { unmetDemand(departement: $d) { unmet } }",
                json!({ "d": code }),
                Some(token),
            )
            .await;
        assert_eq!(
            int(&row[7]),
            api_int(&demand["data"]["unmetDemand"]["unmet"]),
            "unmet demand in {code}"
        );
        compared += 1;
    }
    compared
}

/// Waits for the chart web components to have drawn (scripts on).
async fn charts_drawn(client: &Client, map: &str) {
    for css in [
        "gauge-chart .jauge".to_owned(),
        "line-chart canvas".to_owned(),
        "bar-chart canvas".to_owned(),
        "pie-chart canvas".to_owned(),
        format!("{map} svg"),
    ] {
        wait_for(client, &css).await;
    }
}

async fn national_staff_read_the_api_figures_in_every_table(backend: Backend) {
    let stack = TestStack::start(backend).await;
    wait_for_reports(&stack).await;
    seed_reports(&stack).await;
    let token = national(&stack);
    let mut driver = Driver::start().await;
    let sam = driver.browser(Options::default()).await;

    sign_in_by_keyboard(&sam, &stack.base, "cnnum", "/pilotage").await;
    assert_eq!(text_of(&sam, "#contenu h1").await, "Tableau de bord");
    assert_eq!(
        content_of(&sam, "#territoire").await,
        "Périmètre : toute la France"
    );
    charts_drawn(&sam, "map-chart").await;
    assert_accessible(&sam, "tableau de bord national, graphiques dessinés").await;
    let api = figures(&stack, &token, json!({ "by": "REGION" })).await;
    let compared = compare(&sam, &stack, &token, &api).await;
    assert!(compared > 30, "only {compared} figures compared");
    // Reports from several régions: the national figures are not one région's.
    let regions = api["territory"].as_array().expect("régions");
    assert!(regions.len() >= 3, "{regions:?}");
    assert!(text_of(&sam, "#statut").await.len() > 3 && text_of(&sam, "#raison").await.len() > 40);

    // Scripts off: no chart drawn, the same tables.
    let plain = driver
        .browser(Options {
            javascript: false,
            ..Options::default()
        })
        .await;
    sign_in_by_click(&plain, &stack.base, "cnnum", "/pilotage").await;
    assert_eq!(
        plain
            .execute(
                "return document.querySelectorAll('canvas, svg.france, .jauge').length;",
                vec![]
            )
            .await
            .expect("script"),
        json!(0),
        "nothing drawn without scripts"
    );
    for id in [
        "tableau-progression",
        "tableau-courbe",
        "tableau-par-region",
        "tableau-par-public",
        "tableau-par-age",
        "tableau-par-situation",
        "tableau-par-format",
        "tableau-par-theme",
        "tableau-carte",
        "tableau-zones",
    ] {
        assert_eq!(
            table(&plain, id).await,
            table(&sam, id).await,
            "#{id} without scripts"
        );
    }

    sam.close().await.ok();
    plain.close().await.ok();
    stack.stop().await;
}

async fn the_coordinator_sees_only_their_region(backend: Backend) {
    let stack = TestStack::start(backend).await;
    wait_for_reports(&stack).await;
    seed_reports(&stack).await;
    let token = coordinator(&stack);
    let mut driver = Driver::start().await;
    let alex = driver.browser(Options::default()).await;

    sign_in_by_keyboard(&alex, &stack.base, "coordination", "/pilotage").await;
    assert_eq!(
        content_of(&alex, "#territoire").await,
        "Périmètre : la région Auvergne-Rhône-Alpes"
    );
    assert!(
        alex.find(Locator::Css("#region")).await.is_err(),
        "no territory to pick outside the région"
    );
    charts_drawn(&alex, "map-chart-reg").await;
    assert_accessible(&alex, "tableau de bord de la coordination").await;

    let api = figures(
        &stack,
        &token,
        json!({ "region": "84", "by": "DEPARTEMENT" }),
    )
    .await;
    compare(&alex, &stack, &token, &api).await;
    // Every row is in the région, by the API and on the page.
    for row in api["territory"].as_array().expect("rows") {
        let key = row["key"].as_str().expect("key");
        assert!(in_ara(key), "{key} outside région 84");
    }
    for id in ["tableau-carte", "tableau-zones"] {
        let rows = table(&alex, id).await;
        assert!(!rows.is_empty(), "#{id} is empty");
        for row in rows {
            assert!(in_ara(&row[0]), "#{id}: {row:?} outside région 84");
        }
    }
    let names: Vec<String> = table(&alex, "tableau-par-departement")
        .await
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    for name in &names {
        assert!(
            Gazetteer::get()
                .departements()
                .any(|d| d.region == "84" && &d.name == name),
            "{name} is not a département of région 84"
        );
    }
    // The région's figures, not the country's: the demo has reports elsewhere too.
    let whole = figures(&stack, &national(&stack), json!({ "by": "REGION" })).await;
    let mine = api_int(&api["outreachHeadline"]["reached"]);
    assert!(
        mine > 0 && mine < api_int(&whole["outreachHeadline"]["reached"]),
        "région {mine}, France {}",
        whole["outreachHeadline"]["reached"]
    );
    let reached = table(&alex, "tableau-progression").await[0][1].clone();
    assert_eq!(int(&reached), mine);

    // An address asking for another région shows the coordinator's own.
    alex.goto(&format!("{}/pilotage?region=11", stack.base))
        .await
        .expect("page");
    wait_for(&alex, "#couverture").await;
    assert!(
        text_of(&alex, "#couverture")
            .await
            .contains("Auvergne-Rhône-Alpes")
    );
    assert_eq!(
        int(&table(&alex, "tableau-progression").await[0][1]),
        mine,
        "?region=11 changed the figures"
    );
    for row in table(&alex, "tableau-carte").await {
        assert!(in_ara(&row[0]), "?region=11: {row:?}");
    }

    alex.close().await.ok();
    stack.stop().await;
}

async fn value_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default()
}

/// The day's digits as a person types them in the browser's date field: in the order of the
/// browser's own locale (day first in French), asked of the page rather than assumed.
async fn keys(client: &Client, day: NaiveDate) -> String {
    let order = client
        .execute(
            "return new Intl.DateTimeFormat(undefined, { day: '2-digit', month: '2-digit', \
             year: 'numeric' }).formatToParts(new Date(2027, 2, 31)).map(p => p.type) \
             .filter(t => t !== 'literal');",
            vec![],
        )
        .await
        .expect("script");
    order
        .as_array()
        .expect("parts")
        .iter()
        .map(|part| match part.as_str() {
            Some("day") => day.format("%d").to_string(),
            Some("month") => day.format("%m").to_string(),
            Some("year") => day.format("%Y").to_string(),
            other => panic!("a date part {other:?}"),
        })
        .collect()
}

async fn the_date_and_period_form_by_keyboard(backend: Backend) {
    let stack = TestStack::start(backend).await;
    wait_for_reports(&stack).await;
    seed_reports(&stack).await;
    let token = national(&stack);
    let mut driver = Driver::start().await;
    let sam = driver.browser(Options::default()).await;
    sign_in_by_keyboard(&sam, &stack.base, "cnnum", "/pilotage").await;

    let today = Utc::now().date_naive();
    let (as_of, from, to) = (
        today - Days::days(8),
        today - Days::days(90),
        today - Days::days(8),
    );
    // The régions are listed by name after « Toute la France »: Auvergne-Rhône-Alpes first.
    tab_to(&sam, "#region", 80).await;
    press(&sam, Key::Down).await;
    assert_eq!(value_of(&sam, "#region").await, "84");
    tab_to(&sam, "#date", 5).await;
    type_text(&sam, &keys(&sam, as_of).await).await;
    tab_to(&sam, "#debut", 10).await;
    type_text(&sam, &keys(&sam, from).await).await;
    tab_to(&sam, "#fin", 10).await;
    type_text(&sam, &keys(&sam, to).await).await;
    tab_to(&sam, "#afficher", 10).await;
    press(&sam, Key::Enter).await;
    // The page before the form has figures too: wait for the one the form asked for.
    for _ in 0..200 {
        let here = sam.current_url().await.expect("url");
        if here.query().is_some_and(|q| q.contains("region=84")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(&sam, "#couverture, .fr-error-text, .fr-alert").await;
    assert!(
        sam.find(Locator::Css("#couverture")).await.is_ok(),
        "no figures: {}",
        text_of(&sam, "main").await
    );

    let here = sam.current_url().await.expect("url");
    assert!(
        here.as_str().contains("region=84") && here.as_str().contains(&format!("date={as_of}")),
        "{here}"
    );
    assert!(
        text_of(&sam, "#couverture")
            .await
            .contains("Auvergne-Rhône-Alpes")
    );
    assert_eq!(value_of(&sam, "#region").await, "84");
    assert_eq!(value_of(&sam, "#date").await, as_of.to_string());
    assert_eq!(value_of(&sam, "#debut").await, from.to_string());
    assert_eq!(value_of(&sam, "#fin").await, to.to_string());
    let api = figures(
        &stack,
        &token,
        json!({ "region": "84", "asOf": as_of, "from": from, "to": to, "by": "DEPARTEMENT" }),
    )
    .await;
    compare(&sam, &stack, &token, &api).await;
    let weeks = api["outreachWeekly"].as_array().expect("weeks");
    let last = weeks.last().and_then(|w| w["week"].as_str()).unwrap_or("");
    assert!(
        last <= as_of.to_string().as_str(),
        "the curve stops at the « as of » day: {last}"
    );
    assert_accessible(&sam, "tableau de bord, région et période choisies").await;

    // A period ending before it starts: said next to its end, everything typed kept.
    tab_to(&sam, "#debut", 80).await;
    type_text(&sam, &keys(&sam, to + Days::days(2)).await).await;
    tab_to(&sam, "#afficher", 10).await;
    press(&sam, Key::Enter).await;
    wait_for(&sam, "#fin-erreur").await;
    assert!(text_of(&sam, "#fin-erreur").await.contains("début"));
    assert_eq!(value_of(&sam, "#fin").await, to.to_string());
    assert_eq!(
        value_of(&sam, "#debut").await,
        (to + Days::days(2)).to_string()
    );
    assert_eq!(value_of(&sam, "#region").await, "84");
    assert!(
        sam.find(Locator::Css("#tableau-progression"))
            .await
            .is_err(),
        "no figures for a period that cannot be"
    );
    assert_accessible(&sam, "tableau de bord, période refusée").await;

    // A day the API refuses (outside the years it covers): its words next to the field.
    sam.goto(&format!("{}/pilotage?date=1999-12-31", stack.base))
        .await
        .expect("page");
    wait_for(&sam, "#date-erreur").await;
    assert!(
        text_of(&sam, "#date-erreur").await.contains("2020"),
        "{}",
        text_of(&sam, "#date-erreur").await
    );
    assert_eq!(value_of(&sam, "#date").await, "1999-12-31");

    sam.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    national_staff_read_the_api_figures_in_every_table,
    the_coordinator_sees_only_their_region,
    the_date_and_period_form_by_keyboard,
);

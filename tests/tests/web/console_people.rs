//! The console's facilitators and sessions in the browser. National staff verify a pending
//! facilitator, suspend them (no reason: the error next to the field; a reason too long:
//! what was typed kept) and reinstate them, keyboard only, and read the three decisions in
//! the audit trail; a decision the API refuses is said in plain French. The coordinator of
//! région 84 sees only that région's facilitators and sessions (every row checked against
//! the API) and cannot act outside it; a citizen gets the page saying whom the console is
//! for. Staff cancel a session with a reason and it shows as cancelled. axe-core finds no
//! WCAG 2.1 A/AA violation on any page, error states included.

use cafeia_e2e::{
    TestStack,
    browser::{
        Driver, Options, assert_accessible, press, sign_in_by_keyboard, tab_to, text_of, type_text,
        wait_for,
    },
};
use cafeia_platform::auth::Role;
use cafeia_testkit::Backend;
use fantoccini::{Client, Locator, key::Key};
use serde_json::{Value, json};
use std::{collections::BTreeSet, time::Duration};

/// The départements of région 84 (Auvergne-Rhône-Alpes).
const ARA: [&str; 12] = [
    "01", "03", "07", "15", "26", "38", "42", "43", "63", "69", "73", "74",
];

fn national(stack: &TestStack) -> String {
    stack.token("demo-cnnum", &[Role::Staff], None)
}

/// Noé registers as a facilitator in Villeurbanne (région 84), training done: pending.
async fn register_noe(stack: &TestStack) -> String {
    let token = stack.token("demo-nouvel-animateur", &[Role::Facilitator], None);
    let answer = stack
        .graphql(
            "mutation($input: FacilitatorProfileInput!) { registerAsFacilitator(input: $input) \
             { id status } }",
            json!({ "input": {
                "displayName": "Noé Lambert",
                "email": "noe.lambert@example.fr",
                "kind": "CONSEILLER_NUMERIQUE",
                "territories": ["69266"],
                "topics": ["what_is_ai"],
                "trainingCompletedOn": "2026-03-12",
            }}),
            Some(&token),
        )
        .await;
    assert_eq!(
        answer["data"]["registerAsFacilitator"]["status"], "PENDING",
        "{answer}"
    );
    answer["data"]["registerAsFacilitator"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

/// Every facilitator, as national staff see them: (id, status, départements).
async fn everyone(stack: &TestStack) -> Vec<(String, String, Vec<String>)> {
    let answer = stack
        .graphql(
            "{ facilitators(first: 100) { nodes { id status departements } } }",
            json!({}),
            Some(&national(stack)),
        )
        .await;
    answer["data"]["facilitators"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"))
        .iter()
        .map(|f| {
            let deps = f["departements"]
                .as_array()
                .expect("départements")
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            (
                f["id"].as_str().expect("id").to_owned(),
                f["status"].as_str().expect("status").to_owned(),
                deps,
            )
        })
        .collect()
}

/// Every published upcoming session (the demo data's, once seeded): (id, région, seats left).
async fn sessions(stack: &TestStack) -> Vec<(String, Option<String>, Option<i64>)> {
    for _ in 0..150 {
        let answer = stack
            .graphql(
                "{ sessions(first: 100) { totalCount nodes { id seatsLeft place { region } } } }",
                json!({}),
                None,
            )
            .await;
        let nodes = answer["data"]["sessions"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"));
        if !nodes.is_empty() {
            assert!(
                answer["data"]["sessions"]["totalCount"].as_i64() < Some(100),
                "one page holds them all"
            );
            return nodes
                .iter()
                .map(|s| {
                    (
                        s["id"].as_str().expect("id").to_owned(),
                        s["place"]["region"].as_str().map(str::to_owned),
                        s["seatsLeft"].as_i64(),
                    )
                })
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the demo sessions were never seeded");
}

/// Waits until the element's text contains `needle` (after a form, the next page's).
async fn wait_text(client: &Client, css: &str, needle: &str) {
    for _ in 0..200 {
        if let Ok(found) = client.find(Locator::Css(css)).await
            && found.text().await.is_ok_and(|t| t.contains(needle))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let now = match client.find(Locator::Css(css)).await {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => "(absent)".into(),
    };
    let page = text_of(client, "main").await;
    panic!("{css} never said « {needle} »: {now}\n{page}");
}

/// The ids (`prefix` stripped) of the elements matching `css`.
async fn ids(client: &Client, css: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in client.find_all(Locator::Css(css)).await.expect("elements") {
        let id = e.attr("id").await.expect("id").unwrap_or_default();
        out.insert(id.trim_start_matches(prefix).to_owned());
    }
    out
}

/// The element's text as written (a badge's shows in capitals).
async fn content_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .prop("textContent")
        .await
        .expect("textContent")
        .unwrap_or_default()
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

/// POSTs a form with the page's CSRF token from inside the page (what a forged or stale form
/// would send): the answer's status and text.
async fn post_from_page(client: &Client, path: &str) -> (i64, String) {
    let answer = client
        .execute_async(
            r#"const [path, done] = [arguments[0], arguments[arguments.length - 1]];
               const csrf = document.querySelector('input[name=csrf]').value;
               fetch(path, { method: 'POST', redirect: 'manual',
                             headers: { 'content-type': 'application/x-www-form-urlencoded' },
                             body: 'csrf=' + encodeURIComponent(csrf) })
                 .then(r => r.text().then(t => done([r.status, t])))
                 .catch(e => done([0, String(e)]));"#,
            vec![json!(path)],
        )
        .await
        .expect("fetch runs");
    (
        answer[0].as_i64().unwrap_or_default(),
        answer[1].as_str().unwrap_or_default().to_owned(),
    )
}

async fn status_of(stack: &TestStack, id: &str) -> String {
    let answer = stack
        .graphql(
            "query($id: UUID!) { facilitator(id: $id) { status } }",
            json!({ "id": id }),
            Some(&national(stack)),
        )
        .await;
    answer["data"]["facilitator"]["status"]
        .as_str()
        .unwrap_or_else(|| panic!("{answer}"))
        .to_owned()
}

async fn staff_verify_suspend_and_reinstate_keyboard_only(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let noe = register_noe(&stack).await;
    let mut driver = Driver::start().await;
    let sam = driver.browser(Options::default()).await;

    sign_in_by_keyboard(&sam, &stack.base, "cnnum", "/pilotage/animateurs").await;
    assert_eq!(
        text_of(&sam, "#contenu h1").await,
        "Animateurs et animatrices"
    );
    assert!(
        content_of(&sam, "#territoire")
            .await
            .contains("toute la France")
    );
    // The queue: pending people only, oldest first, with what Noé declared.
    let pending: Vec<String> = everyone(&stack)
        .await
        .into_iter()
        .filter(|f| f.1 == "PENDING")
        .map(|f| f.0)
        .collect();
    let mut queued = Vec::new();
    for e in sam
        .find_all(Locator::Css("#file-liste > li"))
        .await
        .expect("queue")
    {
        let id = e.attr("id").await.expect("id").unwrap_or_default();
        queued.push(id.trim_start_matches("attente-").to_owned());
    }
    assert_eq!(
        queued, pending,
        "the queue is the pending people, oldest first"
    );
    assert_eq!(queued.last(), Some(&noe), "Noé registered last");
    let card = text_of(&sam, &format!("#attente-{noe}")).await;
    for declared in [
        "Noé Lambert",
        "noe.lambert@example.fr",
        "Conseiller ou conseillère numérique",
        "Villeurbanne (69)",
        "Suivie le jeudi 12 mars 2026",
        "Qu'est-ce que l'IA ?",
        "Français",
    ] {
        assert!(card.contains(declared), "{declared} missing: {card}");
    }
    assert_accessible(&sam, "console, animateurs").await;

    tab_to(&sam, &format!("#attente-{noe} a"), 120).await;
    press(&sam, Key::Enter).await;
    wait_text(&sam, "#contenu h1", "Noé Lambert").await;
    wait_for(&sam, "#verifier").await;
    assert_eq!(text_of(&sam, "#contenu h1").await, "Noé Lambert");
    assert!(
        text_of(&sam, "main")
            .await
            .contains("Aucune décision pour le moment")
    );
    assert!(sam.find(Locator::Css("#historique-table")).await.is_err());
    assert_accessible(&sam, "console, fiche en attente").await;
    tab_to(&sam, "#verifier", 80).await;
    press(&sam, Key::Enter).await;
    wait_text(&sam, "#fait", "Inscription vérifiée").await;
    assert_eq!(content_of(&sam, "#statut").await, "Vérifié·e");
    assert_eq!(status_of(&stack, &noe).await, "VERIFIED");
    assert!(
        sam.find(Locator::Css("#verifier")).await.is_err(),
        "a verified person cannot be verified again: no such button"
    );
    assert_accessible(&sam, "console, fiche vérifiée").await;

    // Suspending without a reason: refused next to the field.
    tab_to(&sam, "#suspendre", 80).await;
    press(&sam, Key::Enter).await;
    wait_for(&sam, "#motif_suspension-erreur").await;
    assert!(
        text_of(&sam, "#motif_suspension-erreur")
            .await
            .contains("Indiquez le motif")
    );
    assert_eq!(
        sam.find(Locator::Css("#motif_suspension"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    assert_eq!(status_of(&stack, &noe).await, "VERIFIED");
    assert_accessible(&sam, "console, suspension sans motif").await;

    // A reason longer than the API takes (a browser ignoring `maxlength`): refused, kept.
    let long = format!("Signalement : {}", "é".repeat(1000));
    tab_to(&sam, "#motif_suspension", 80).await;
    sam.execute(
        "document.getElementById('motif_suspension').value = arguments[0];",
        vec![json!(long)],
    )
    .await
    .expect("script");
    tab_to(&sam, "#suspendre", 10).await;
    press(&sam, Key::Enter).await;
    wait_text(&sam, "#motif_suspension-erreur", "raccourcissez").await;
    assert_eq!(value_of(&sam, "#motif_suspension").await, long);
    assert_eq!(status_of(&stack, &noe).await, "VERIFIED");

    tab_to(&sam, "#motif_suspension", 80).await;
    press(&sam, Key::End).await;
    type_text(&sam, &format!("{}a", Key::Control)).await;
    type_text(&sam, "Signalement d'un participant en cours d'instruction").await;
    tab_to(&sam, "#suspendre", 10).await;
    press(&sam, Key::Enter).await;
    wait_text(&sam, "#fait", "Inscription suspendue").await;
    assert_eq!(content_of(&sam, "#statut").await, "Suspendu·e");
    assert!(
        text_of(&sam, "main")
            .await
            .contains("Motif de la suspension : Signalement d'un participant")
    );
    assert_eq!(status_of(&stack, &noe).await, "SUSPENDED");
    assert_accessible(&sam, "console, fiche suspendue").await;

    tab_to(&sam, "#motif_reintegration", 80).await;
    type_text(&sam, "Signalement classé sans suite").await;
    tab_to(&sam, "#reintegrer", 10).await;
    press(&sam, Key::Enter).await;
    wait_text(&sam, "#fait", "Suspension levée").await;
    assert_eq!(content_of(&sam, "#statut").await, "Vérifié·e");
    assert_eq!(status_of(&stack, &noe).await, "VERIFIED");

    // The trail: the three decisions, in order, with their reasons.
    let rows = sam
        .find_all(Locator::Css("#historique-table tbody tr"))
        .await
        .expect("rows");
    let mut lines = Vec::new();
    for r in rows {
        lines.push(r.text().await.expect("text"));
    }
    assert_eq!(lines.len(), 3, "{lines:#?}");
    assert!(lines[0].contains("Vérification") && lines[0].contains("demo-cnnum"));
    assert!(lines[1].contains("Suspension") && lines[1].contains("Signalement d'un participant"));
    assert!(lines[2].contains("Réintégration") && lines[2].contains("classé sans suite"));
    assert_accessible(&sam, "console, historique").await;

    // A decision no longer possible (a stale form: verifying someone verified already).
    let (status, body) =
        post_from_page(&sam, &format!("/pilotage/animateurs/{noe}/verifier")).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("pas été prise"), "{body}");
    assert!(body.contains("déjà vérifié"), "{body}");

    sam.close().await.ok();
    stack.stop().await;
}

async fn the_coordinator_sees_and_acts_only_in_region_84(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let noe = register_noe(&stack).await;
    let all = sessions(&stack).await;
    let mut driver = Driver::start().await;

    // Not staff: the page that says whom the console is for.
    let lea = driver.browser(Options::default()).await;
    for path in ["/pilotage/animateurs", "/pilotage/sessions"] {
        lea.goto(&format!("{}{path}", stack.base)).await.unwrap();
        wait_for(&lea, "#contenu h1").await;
        assert!(
            lea.current_url()
                .await
                .unwrap()
                .path()
                .starts_with("/connexion"),
            "{path}: signed out, the sign-in page"
        );
    }
    sign_in_by_keyboard(&lea, &stack.base, "citoyenne", "/pilotage/animateurs").await;
    assert_eq!(
        text_of(&lea, "#contenu h1").await,
        "Espace réservé à l'équipe de pilotage"
    );
    assert_accessible(&lea, "console refusée à une citoyenne").await;
    lea.goto(&format!("{}/pilotage/sessions", stack.base))
        .await
        .unwrap();
    wait_text(&lea, "#contenu h1", "Espace réservé").await;
    lea.close().await.ok();

    let alex = driver.browser(Options::default()).await;
    sign_in_by_keyboard(&alex, &stack.base, "coordination", "/pilotage/animateurs").await;
    assert!(
        content_of(&alex, "#territoire")
            .await
            .contains("Auvergne-Rhône-Alpes")
    );
    let facilitators = everyone(&stack).await;
    let in_ara = |deps: &[String]| deps.iter().any(|d| ARA.contains(&d.as_str()));
    let expected: BTreeSet<String> = facilitators
        .iter()
        .filter(|f| in_ara(&f.2))
        .map(|f| f.0.clone())
        .collect();
    assert!(expected.len() >= 3 && expected.len() < facilitators.len());
    assert_eq!(
        ids(&alex, "#annuaire-table tbody tr", "animateur-").await,
        expected,
        "the directory: every facilitator of région 84, no one else"
    );
    let queued = ids(&alex, "#file-liste > li", "attente-").await;
    let expected_queue: BTreeSet<String> = facilitators
        .iter()
        .filter(|f| in_ara(&f.2) && f.1 == "PENDING")
        .map(|f| f.0.clone())
        .collect();
    assert_eq!(queued, expected_queue);
    assert!(queued.contains(&noe));
    let mut offered = Vec::new();
    for o in alex
        .find_all(Locator::Css("#departement option"))
        .await
        .unwrap()
    {
        offered.push(o.attr("value").await.unwrap().unwrap_or_default());
    }
    assert_eq!(offered.len(), 13, "{offered:?}");
    assert!(
        offered
            .iter()
            .all(|d| d.is_empty() || ARA.contains(&d.as_str())),
        "only région 84's départements are offered: {offered:?}"
    );
    assert_accessible(&alex, "console du coordinateur, animateurs").await;

    // A filter outside the région, forged in the address: refused.
    alex.goto(&format!(
        "{}/pilotage/animateurs?departement=13",
        stack.base
    ))
    .await
    .unwrap();
    wait_text(&alex, "#contenu h1", "Hors de votre périmètre").await;

    // Someone outside: neither their page nor a decision about them.
    let outsider = facilitators
        .iter()
        .find(|f| f.1 == "PENDING" && !in_ara(&f.2))
        .expect("a pending facilitator outside région 84")
        .0
        .clone();
    alex.goto(&format!("{}/pilotage/animateurs/{outsider}", stack.base))
        .await
        .unwrap();
    wait_text(&alex, "#contenu h1", "Hors de votre périmètre").await;
    assert_accessible(&alex, "console, fiche hors périmètre").await;
    let (status, body) =
        post_from_page(&alex, &format!("/pilotage/animateurs/{outsider}/verifier")).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(status_of(&stack, &outsider).await, "PENDING");

    // Sessions: région 84's only, upcoming then full ones.
    alex.goto(&format!("{}/pilotage/sessions", stack.base))
        .await
        .unwrap();
    wait_for(&alex, "#sessions-table").await;
    let ours: BTreeSet<String> = all
        .iter()
        .filter(|s| s.1.as_deref() == Some("84"))
        .map(|s| s.0.clone())
        .collect();
    assert!(!ours.is_empty() && ours.len() < all.len());
    assert_eq!(
        ids(&alex, "#sessions-table tbody tr", "session-").await,
        ours
    );
    for row in alex
        .find_all(Locator::Css("#sessions-table tbody tr"))
        .await
        .unwrap()
    {
        let dep = row
            .attr("data-departement")
            .await
            .unwrap()
            .unwrap_or_default();
        assert!(ARA.contains(&dep.as_str()), "a session in {dep}");
    }
    assert_accessible(&alex, "console du coordinateur, sessions").await;
    tab_to(&alex, "#vues a[href*='vue=completes']", 80).await;
    press(&alex, Key::Enter).await;
    wait_text(&alex, "#liste", "Complètes").await;
    let full: BTreeSet<String> = all
        .iter()
        .filter(|s| s.1.as_deref() == Some("84") && s.2 == Some(0))
        .map(|s| s.0.clone())
        .collect();
    assert!(
        !full.is_empty(),
        "the demo data has a full session in région 84"
    );
    assert_eq!(
        ids(&alex, "#sessions-table tbody tr", "session-").await,
        full
    );
    assert_accessible(&alex, "console du coordinateur, sessions complètes").await;
    // The API's filters the page relies on: `full: false` is the rest, a région is checked.
    let listed = |answer: Value| -> BTreeSet<String> {
        answer["data"]["sessions"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{answer}"))
            .iter()
            .filter_map(|s| s["id"].as_str().map(str::to_owned))
            .collect()
    };
    let with_seats = stack
        .graphql(
            "{ sessions(region: \"84\", full: false, first: 100) { nodes { id } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        listed(with_seats),
        ours.difference(&full).cloned().collect::<BTreeSet<_>>()
    );
    let unknown = stack
        .graphql(
            "{ sessions(region: \"99\") { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{unknown}"
    );

    // A session outside the région cannot be cancelled from here.
    let elsewhere = all
        .iter()
        .find(|s| s.1.is_some() && s.1.as_deref() != Some("84"))
        .expect("a session outside région 84")
        .0
        .clone();
    alex.goto(&format!(
        "{}/pilotage/sessions/{elsewhere}/annuler",
        stack.base
    ))
    .await
    .unwrap();
    wait_text(&alex, "#contenu h1", "Hors de votre périmètre").await;
    assert!(alex.find(Locator::Css("#motif")).await.is_err());

    alex.close().await.ok();
    stack.stop().await;
}

async fn staff_cancel_a_session_with_a_reason(backend: Backend) {
    let stack = TestStack::start(backend).await;
    sessions(&stack).await;
    let mut driver = Driver::start().await;
    let sam = driver.browser(Options::default()).await;

    sign_in_by_keyboard(&sam, &stack.base, "cnnum", "/pilotage/sessions").await;
    wait_for(&sam, "#sessions-table").await;
    assert_accessible(&sam, "console, sessions").await;
    let first = sam
        .find(Locator::Css("#sessions-table tbody tr"))
        .await
        .expect("a session");
    let row_id = first.attr("id").await.unwrap().unwrap_or_default();
    let id = row_id.trim_start_matches("session-").to_owned();
    let title = text_of(&sam, &format!("#{row_id} td")).await;

    tab_to(&sam, &format!("#{row_id} a[href$='/annuler']"), 120).await;
    press(&sam, Key::Enter).await;
    wait_for(&sam, "#motif").await;
    assert!(text_of(&sam, "#contenu h1").await.starts_with("Annuler « "));
    assert_accessible(&sam, "console, annuler une session").await;

    tab_to(&sam, "#annuler", 40).await;
    press(&sam, Key::Enter).await;
    wait_for(&sam, "#motif-erreur").await;
    assert_accessible(&sam, "console, annulation sans motif").await;

    tab_to(&sam, "#motif", 40).await;
    type_text(&sam, "Salle indisponible : travaux imprévus").await;
    tab_to(&sam, "#annuler", 10).await;
    press(&sam, Key::Enter).await;
    wait_text(&sam, "#fait", "La session est annulée").await;
    assert!(text_of(&sam, "#liste").await.contains("Annulées"));
    let row = content_of(&sam, &format!("#{row_id}")).await;
    assert!(row.contains("Annulée"), "{row}");
    assert!(
        row.contains("Salle indisponible : travaux imprévus"),
        "{row}"
    );
    assert!(
        row.contains(title.lines().next().unwrap_or_default()),
        "{row}"
    );
    assert_accessible(&sam, "console, sessions annulées").await;
    let answer = stack
        .graphql(
            "query($id: UUID!) { session(id: $id) { status statusReason } }",
            json!({ "id": id }),
            None,
        )
        .await;
    assert_eq!(answer["data"]["session"]["status"], "CANCELLED", "{answer}");
    // Gone from the upcoming ones.
    sam.goto(&format!("{}/pilotage/sessions", stack.base))
        .await
        .unwrap();
    wait_for(&sam, "#sessions-table").await;
    assert!(sam.find(Locator::Css(&format!("#{row_id}"))).await.is_err());

    sam.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    staff_verify_suspend_and_reinstate_keyboard_only,
    the_coordinator_sees_and_acts_only_in_region_84,
    staff_cancel_a_session_with_a_reason,
);

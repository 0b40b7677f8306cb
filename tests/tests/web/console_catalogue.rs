//! The staff console's catalogue review, imports, exports and the public open data, in the
//! browser. National staff publish a submitted programme and refuse another (an empty reason
//! refused next to its field), keyboard only, and read what a corrected programme's edit
//! changed; an LHEO file with one bad offer and a venue file with one bad row come back with
//! their report (the row by the file's own line); the export's figures are the API's, and a
//! coordinator's stay in région 84; the open data works signed out, its hidden counts said.
//! axe-core finds no WCAG 2.1 A/AA violation on any page, error states included.

use cafeia_e2e::{
    TestStack,
    browser::{
        Driver, Options, assert_accessible, press, sign_in_by_click, sign_in_by_keyboard, tab_to,
        text_of, type_text, wait_for,
    },
};
use cafeia_platform::{
    auth::{Role, Territory},
    territory::Gazetteer,
};
use cafeia_testkit::Backend;
use fantoccini::{Client, Locator, key::Key};
use serde_json::{Value, json};
use std::{collections::BTreeMap, time::Duration};

const SIRET: &str = "13002526500013";

/// A programme as its provider submits it.
fn programme(title: &str) -> Value {
    json!({
        "providerSiret": SIRET,
        "title": title,
        "summary": "Comprendre ce que fait une IA, sans prérequis.",
        "objectives": "Savoir ce qu'est un modèle et d'où viennent ses erreurs.",
        "level": "DISCOVERY",
        "audiences": ["GENERAL_PUBLIC"],
        "format": "IN_PERSON",
        "pace": "SCHEDULED",
        "durationHours": 3,
        "free": true,
        "topics": ["what_is_ai"],
        "places": ["69123"],
    })
}

async fn graphql_ok(stack: &TestStack, query: &str, variables: Value, token: &str) -> Value {
    let body = stack.graphql(query, variables, Some(token)).await;
    assert!(body["errors"].is_null(), "{query}: {body}");
    body["data"].clone()
}

/// Three programmes waiting: two new, one corrected after a refusal (its length 3 → 4 hours).
async fn submitted(stack: &TestStack) -> [String; 3] {
    let provider = stack.token_with_siret("org-inria", SIRET);
    graphql_ok(
        stack,
        "mutation($p: ProviderInput!) { createProvider(input: $p) { id } }",
        json!({"p": {"siret": SIRET, "name": "Inria Académie", "kind": "PUBLIC_AGENCY"}}),
        &provider,
    )
    .await;
    let mut ids = Vec::new();
    for title in [
        "Découvrir l'IA à Lyon",
        "L'IA pour les associations",
        "Comprendre les modèles de langage",
    ] {
        let data = graphql_ok(
            stack,
            "mutation($t: TrainingInput!) { submitTraining(input: $t) { id } }",
            json!({"t": programme(title)}),
            &provider,
        )
        .await;
        ids.push(
            data["submitTraining"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    let staff = stack.token("cnnum", &[Role::Staff], None);
    graphql_ok(
        stack,
        "mutation($id: UUID!) { reviewTraining(id: $id, decision: REJECT, reason: \"Durée trop courte\") { id } }",
        json!({"id": ids[2]}),
        &staff,
    )
    .await;
    let mut corrected = programme("Comprendre les modèles de langage");
    corrected["durationHours"] = json!(4);
    graphql_ok(
        stack,
        "mutation($id: UUID!, $t: TrainingInput!) { updateTraining(id: $id, input: $t) { status } }",
        json!({"id": ids[2], "t": corrected}),
        &provider,
    )
    .await;
    [ids[0].clone(), ids[1].clone(), ids[2].clone()]
}

async fn status_of(stack: &TestStack, id: &str) -> (String, Option<String>) {
    let staff = stack.token("cnnum", &[Role::Staff], None);
    let data = graphql_ok(
        stack,
        "query($id: UUID!) { training(id: $id) { status statusReason } }",
        json!({"id": id}),
        &staff,
    )
    .await;
    (
        data["training"]["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        data["training"]["statusReason"].as_str().map(str::to_owned),
    )
}

async fn attr_of(client: &Client, css: &str, name: &str) -> Option<String> {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr(name)
        .await
        .expect("attribute")
}

/// An element's text as written (`text_of` reads it as shown: a DSFR badge in capitals).
async fn content_of(client: &Client, css: &str) -> String {
    client
        .execute(
            "return document.querySelector(arguments[0]).textContent;",
            vec![json!(css)],
        )
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .as_str()
        .unwrap_or_else(|| panic!("{css} not found"))
        .to_owned()
}

/// Sends a form by its button. File fields take key strokes as file names, so the upload
/// forms are used with the pointer (keyboard use of a file field is the browser's own).
async fn click(client: &Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
}

async fn count(client: &Client, css: &str) -> usize {
    client
        .find_all(Locator::Css(css))
        .await
        .map(|found| found.len())
        .unwrap_or(0)
}

async fn staff_review_the_catalogue_keyboard_only(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let [first, second, corrected] = submitted(&stack).await;
    let mut driver = Driver::start().await;
    let sam = driver.browser(Options::default()).await;

    sign_in_by_keyboard(&sam, &stack.base, "cnnum", "/pilotage/catalogue").await;
    assert_eq!(text_of(&sam, "#contenu h1").await, "Revue du catalogue");
    assert!(
        content_of(&sam, "#territoire")
            .await
            .contains("toute la France")
    );
    assert_eq!(
        count(&sam, "main article[id^='formation-']").await,
        3,
        "the three programmes waiting"
    );
    let order: Vec<String> = {
        let mut ids = Vec::new();
        for article in sam
            .find_all(Locator::Css("main article[id^='formation-']"))
            .await
            .expect("articles")
        {
            ids.push(article.attr("id").await.expect("id").unwrap_or_default());
        }
        ids
    };
    assert_eq!(
        order,
        [&first, &second, &corrected].map(|id| format!("formation-{id}")),
        "the longest waiting first"
    );
    // The corrected programme says what its edit changed, before and after.
    let diff = text_of(&sam, &format!("#formation-{corrected}-modif-1")).await;
    assert!(diff.contains("par l'organisme"), "{diff}");
    assert!(
        diff.contains("Durée") && diff.contains("3 heures") && diff.contains("4 heures"),
        "{diff}"
    );
    assert_eq!(
        count(&sam, &format!("#formation-{first} table")).await,
        0,
        "a programme never edited shows no changes"
    );
    assert_accessible(&sam, "revue du catalogue").await;

    // Publish the first, keyboard only.
    tab_to(&sam, &format!("#publier-{first}"), 300).await;
    press(&sam, Key::Enter).await;
    wait_for(&sam, "main .fr-alert--success").await;
    assert!(
        text_of(&sam, "main .fr-alert--success")
            .await
            .contains("publiée")
    );
    assert_eq!(status_of(&stack, &first).await.0, "PUBLISHED");
    assert_eq!(count(&sam, &format!("#formation-{first}")).await, 0);

    // Refuse the second without a reason: said next to the field, nothing decided.
    tab_to(&sam, &format!("#refuser-{second}"), 300).await;
    press(&sam, Key::Enter).await;
    let error = format!("#motif-{second}-erreur");
    wait_for(&sam, &error).await;
    assert!(text_of(&sam, &error).await.contains("motif"));
    assert_eq!(
        attr_of(&sam, &format!("#motif-{second}"), "aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(status_of(&stack, &second).await.0, "SUBMITTED");
    assert_accessible(&sam, "revue du catalogue, refus sans motif").await;

    tab_to(&sam, &format!("#motif-{second}"), 300).await;
    type_text(
        &sam,
        "Les sessions ne sont pas datées : précisez le calendrier.",
    )
    .await;
    tab_to(&sam, &format!("#refuser-{second}"), 5).await;
    press(&sam, Key::Enter).await;
    wait_for(&sam, "main .fr-alert--success").await;
    assert!(
        text_of(&sam, "main .fr-alert--success")
            .await
            .contains("refusée")
    );
    assert_eq!(
        status_of(&stack, &second).await,
        (
            "REJECTED".to_owned(),
            Some("Les sessions ne sont pas datées : précisez le calendrier.".to_owned())
        )
    );
    assert_eq!(
        count(&sam, "main article[id^='formation-']").await,
        1,
        "the corrected one waits still"
    );
    assert_accessible(&sam, "revue du catalogue, après décisions").await;

    // A coordinator reads that the catalogue is national, and gets no form.
    let alex = driver.browser(Options::default()).await;
    sign_in_by_keyboard(&alex, &stack.base, "coordination", "/pilotage/catalogue").await;
    assert!(
        text_of(&alex, "#catalogue-national")
            .await
            .contains("équipe nationale")
    );
    assert!(
        content_of(&alex, "#territoire")
            .await
            .contains("Auvergne-Rhône-Alpes")
    );
    assert_eq!(count(&alex, "main form").await, 0);
    assert_eq!(count(&alex, "main article").await, 0);
    assert_accessible(&alex, "revue du catalogue, coordination").await;

    sam.close().await.ok();
    alex.close().await.ok();
    stack.stop().await;
}

const LHEO_HEAD: &str =
    r#"<?xml version="1.0" encoding="UTF-8"?><lheo xmlns="http://www.lheo.org/2.2"><offres>"#;
const LHEO_TAIL: &str = "</offres></lheo>\n";

fn offer(numero: &str, title: &str, end: &str) -> String {
    format!(
        r#"<formation numero="{numero}"><intitule-formation>{title}</intitule-formation><objectif-formation>Comprendre l'IA et ses usages.</objectif-formation><action numero="{numero}-A"><modalites-enseignement>0</modalites-enseignement><lieu-de-formation><coordonnees><adresse><codepostal>33000</codepostal><ville>Bordeaux</ville></adresse></coordonnees></lieu-de-formation><nombre-heures-total>21</nombre-heures-total><langue-formation>fr</langue-formation><url-action><urlweb>https://exemple.fr/{numero}</urlweb></url-action><session numero="{numero}-S1"><periode><debut>20270105</debut><fin>{end}</fin></periode><etat-recrutement>1</etat-recrutement></session></action><organisme-formation-responsable><SIRET-organisme-formation><SIRET>73282932000074</SIRET></SIRET-organisme-formation><nom-organisme>Université de Bordeaux</nom-organisme></organisme-formation-responsable><extras info="cafeia"><extra info="level">beginner</extra><extra info="topics">ai_at_work</extra><extra info="audiences">employees</extra></extras></formation>"#
    )
}

/// The venue file: the second data row (line 4, the first spanning two lines) is refused.
const VENUES: &str = "id,nom,commune,code_postal,code_insee,adresse,latitude,longitude,horaires,services,prise_en_charge_specifique,date_maj,commentaire\n\
    test-lieu-1,Médiathèque de Vaise,Lyon,69009,69123,place Valmy,45.774,4.805,Tu-Sa 10:00-18:00,Accès internet|Comprendre l'IA,,2026-11-01,\"ouverte\nle dimanche\"\n\
    test-lieu-2,Lieu sans code postal valable,Nulle part,00000,,1 rue,,,,Accès internet,,2026-11-01,\n\
    test-lieu-3,Espace numérique de Vénissieux,Vénissieux,69200,69259,5 avenue Marcel-Houël,,,,Accès internet,,2026-11-01,\n";

fn write(dir: &std::path::Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("test file");
    path.display().to_string()
}

async fn choose_file(client: &Client, css: &str, path: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(path)
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
}

async fn imports_report_the_bad_offer_and_the_bad_row(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let dir = std::env::temp_dir().join(format!("cafeia-imports-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let lheo = write(
        &dir,
        "offres.xml",
        &format!(
            "{LHEO_HEAD}\n{}\n{}\n{LHEO_TAIL}",
            offer("TEST-1", "IA et emploi", "20270115"),
            offer("TEST-2", "Fin avant début", "20261201"),
        ),
    );
    let venues = write(&dir, "lieux.csv", VENUES);
    let mut driver = Driver::start().await;
    let sam = driver.browser(Options::default()).await;
    sign_in_by_keyboard(&sam, &stack.base, "cnnum", "/pilotage/imports").await;
    assert_eq!(text_of(&sam, "#contenu h1").await, "Imports");
    assert!(
        text_of(&sam, "main").await.contains("1 Mo"),
        "the limit is said"
    );
    assert_accessible(&sam, "imports").await;

    // No file chosen: said next to the field.
    click(&sam, "#lheo-envoyer").await;
    wait_for(&sam, "#lheo-fichier-erreur").await;
    assert!(
        text_of(&sam, "#lheo-fichier-erreur")
            .await
            .contains("Choisissez")
    );
    assert_accessible(&sam, "imports, sans fichier").await;

    // The LHEO file, sent with its progress shown: one offer in, one refused by element.
    choose_file(&sam, "#lheo-fichier", &lheo).await;
    click(&sam, "#lheo-envoyer").await;
    wait_for(&sam, "#rapport-lheo").await;
    let summary = text_of(&sam, "#rapport .fr-alert").await;
    assert!(
        summary.contains("2 offres lues")
            && summary.contains("1 créée")
            && summary.contains("1 refusée"),
        "{summary}"
    );
    let problem = text_of(&sam, "#problemes-lheo tbody tr").await;
    assert!(
        problem.contains("TEST-2") && problem.contains("action/session[1]/periode/fin"),
        "{problem}"
    );
    assert_eq!(
        sam.execute("return document.activeElement.id;", vec![])
            .await
            .expect("focus"),
        json!("rapport-lheo"),
        "the report gets the focus"
    );
    assert_eq!(
        sam.execute("return location.pathname;", vec![])
            .await
            .expect("script"),
        json!("/pilotage/imports"),
        "sent by the script (the plain form would have led to /pilotage/imports/lheo)"
    );
    assert_accessible(&sam, "imports, rapport LHEO").await;

    // The venue file with scripts off: the plain form posts, the bad row is the file's line 4.
    let plain = driver
        .browser(Options {
            javascript: false,
            ..Options::default()
        })
        .await;
    sign_in_by_click(&plain, &stack.base, "cnnum", "/pilotage/imports").await;
    choose_file(&plain, "#lieux-fichier", &venues).await;
    click(&plain, "#lieux-envoyer").await;
    wait_for(&plain, "#rapport-lieux").await;
    let summary = text_of(&plain, "#rapport .fr-alert").await;
    assert!(
        summary.contains("3 lieux lus")
            && summary.contains("2 créés")
            && summary.contains("1 refusé"),
        "{summary}"
    );
    let rows = plain
        .find_all(Locator::Css("#problemes-lieux tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let cells = rows[0].find_all(Locator::Css("td")).await.expect("cells");
    assert_eq!(cells[0].text().await.expect("line"), "4");
    assert_eq!(cells[1].text().await.expect("id"), "test-lieu-2");
    assert_eq!(cells[2].text().await.expect("field"), "postcode");

    // The same file again with scripts on (axe needs them): nothing new, the same line 4.
    choose_file(&sam, "#lieux-fichier", &venues).await;
    click(&sam, "#lieux-envoyer").await;
    wait_for(&sam, "#rapport-lieux").await;
    let summary = text_of(&sam, "#rapport .fr-alert").await;
    assert!(
        summary.contains("0 créé")
            && summary.contains("2 inchangés")
            && summary.contains("1 refusé"),
        "{summary}"
    );
    assert_eq!(
        text_of(&sam, "#problemes-lieux tbody tr td").await,
        "4",
        "the refused row by its line in the file"
    );
    assert_accessible(&sam, "imports, rapport des lieux").await;

    // Over the API's limit (1 MiB): said next to the field, by the script before sending,
    // by the server without it (the file read as it streams, then dropped).
    let large = write(&dir, "trop-grand.xml", &"x".repeat(1024 * 1024 + 1));
    choose_file(&sam, "#lheo-fichier", &large).await;
    click(&sam, "#lheo-envoyer").await;
    wait_for(&sam, "#lheo-fichier-erreur").await;
    assert!(text_of(&sam, "#lheo-fichier-erreur").await.contains("1 Mo"));
    assert_accessible(&sam, "imports, fichier trop grand").await;
    choose_file(&plain, "#lheo-fichier", &large).await;
    click(&plain, "#lheo-envoyer").await;
    wait_for(&plain, "#lheo-fichier-erreur").await;
    let said = text_of(&plain, "#lheo-fichier-erreur").await;
    assert!(
        said.contains("taille maximale") && said.contains("1 Mo"),
        "{said}"
    );

    // A coordinator gets no import form.
    let alex = driver.browser(Options::default()).await;
    sign_in_by_keyboard(&alex, &stack.base, "coordination", "/pilotage/imports").await;
    assert!(
        text_of(&alex, "#imports-nationaux")
            .await
            .contains("équipe nationale")
    );
    assert_eq!(count(&alex, "main form").await, 0);
    assert_accessible(&alex, "imports, coordination").await;

    let _ = std::fs::remove_dir_all(&dir);
    sam.close().await.ok();
    plain.close().await.ok();
    alex.close().await.ok();
    stack.stop().await;
}

/// A same-origin GET from the page, as the person (their cookie): status, the
/// `Content-Disposition` and the body.
async fn fetch(client: &Client, path: &str) -> (u64, String, String) {
    let answer = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               // Decoded keeping its byte-order mark, which text() would drop.
               fetch(arguments[0])
                 .then(async r => done([r.status, r.headers.get('content-disposition') || '',
                                        new TextDecoder('utf-8', { ignoreBOM: true }).decode(await r.arrayBuffer())]))
                 .catch(e => done([0, '', String(e)]));"#,
            vec![json!(path)],
        )
        .await
        .expect("fetch runs");
    (
        answer[0].as_u64().unwrap_or(0),
        answer[1].as_str().unwrap_or_default().to_owned(),
        answer[2].as_str().unwrap_or_default().to_owned(),
    )
}

/// Counts per (département, month): sessions, participations, reached.
type Cells = BTreeMap<(String, String), (i64, Option<i64>, Option<i64>)>;

fn cells_of_api(cells: &Value) -> Cells {
    cells
        .as_array()
        .expect("cells")
        .iter()
        .map(|c| {
            (
                (
                    c["departement"].as_str().unwrap_or_default().to_owned(),
                    c["month"].as_str().unwrap_or_default().to_owned(),
                ),
                (
                    c["sessions"].as_i64().unwrap_or(-1),
                    c["participations"].as_i64(),
                    c["reached"].as_i64(),
                ),
            )
        })
        .collect()
}

fn cells_of_csv(text: &str) -> Cells {
    assert!(text.starts_with('\u{feff}'), "a BOM first");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().expect("headers").clone();
    assert_eq!(headers.get(0), Some("Code du département"));
    reader
        .records()
        .map(|r| {
            let r = r.expect("record");
            let n = |i: usize| {
                r.get(i)
                    .filter(|v| !v.is_empty())
                    .map(|v| v.parse().expect("count"))
            };
            (
                (r[0].to_owned(), r[2].to_owned()),
                (n(3).expect("sessions"), n(4), n(5)),
            )
        })
        .collect()
}

/// The outreach figures of the demo data, once every report has reached the outreach service:
/// the same answer three times in a row (the demo's reports arrive over the bus one by one).
async fn export_of(stack: &TestStack, token: &str) -> Cells {
    let mut last = Cells::new();
    let mut same = 0;
    for _ in 0..400 {
        let body = stack
            .graphql(
                "{ outreachExport { departement month sessions participations reached } }",
                json!({}),
                Some(token),
            )
            .await;
        let cells = cells_of_api(&body["data"]["outreachExport"]);
        same = if !cells.is_empty() && cells == last {
            same + 1
        } else {
            0
        };
        if same == 2 {
            return cells;
        }
        last = cells;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    panic!("the demo's attendance never settled in the outreach figures: {last:?}");
}

async fn exports_are_the_apis_figures_and_stay_in_the_region(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let national = stack.token("cnnum", &[Role::Staff], None);
    let coordinator = stack.token(
        "coordination-ara",
        &[Role::Staff],
        Some(Territory::Region("84".into())),
    );
    let everything = export_of(&stack, &national).await;
    let mut driver = Driver::start().await;

    let sam = driver.browser(Options::default()).await;
    sign_in_by_keyboard(&sam, &stack.base, "cnnum", "/pilotage/exports").await;
    assert_eq!(text_of(&sam, "#contenu h1").await, "Exports");
    assert_eq!(
        count(&sam, "#export tbody tr").await,
        everything.len(),
        "one row per département and month"
    );
    assert_accessible(&sam, "exports").await;
    let (status, disposition, csv) = fetch(&sam, "/pilotage/exports/fichier?format=csv").await;
    assert_eq!(status, 200, "{csv}");
    assert_eq!(
        disposition,
        "attachment; filename=\"cafe-ia-activite-france-depuis-le-debut.csv\""
    );
    assert_eq!(
        cells_of_csv(&csv),
        everything,
        "the CSV's figures are the API's"
    );
    let (status, disposition, json_file) =
        fetch(&sam, "/pilotage/exports/fichier?format=json").await;
    assert_eq!(status, 200);
    assert!(disposition.ends_with(".json\""), "{disposition}");
    let from_json: Value = serde_json::from_str(&json_file).expect("JSON");
    assert_eq!(cells_of_api(&from_json), everything, "the JSON's too");

    // A département outside a coordinator's région, typed by hand, is refused next to its
    // field; the coordinator's figures, rows and files are the région's.
    let mut ara: Vec<String> = Gazetteer::get()
        .departements()
        .filter(|d| d.region == "84")
        .map(|d| d.code.clone())
        .collect();
    ara.sort();
    let theirs = export_of(&stack, &coordinator).await;
    assert!(
        theirs.keys().all(|(d, _)| ara.contains(d)),
        "the API keeps a coordinator in their région: {theirs:?}"
    );
    let alex = driver.browser(Options::default()).await;
    sign_in_by_keyboard(&alex, &stack.base, "coordination", "/pilotage/exports").await;
    assert!(
        content_of(&alex, "#territoire")
            .await
            .contains("Auvergne-Rhône-Alpes")
    );
    let mut shown = Vec::new();
    for row in alex
        .find_all(Locator::Css("#export tbody tr"))
        .await
        .expect("rows")
    {
        shown.push(
            row.attr("data-departement")
                .await
                .expect("attr")
                .unwrap_or_default(),
        );
    }
    assert_eq!(shown.len(), theirs.len());
    assert!(shown.iter().all(|d| ara.contains(d)), "{shown:?}");
    let mut offered = Vec::new();
    for option in alex
        .find_all(Locator::Css("#departement option[value]:not([value=''])"))
        .await
        .expect("options")
    {
        offered.push(
            option
                .attr("value")
                .await
                .expect("attr")
                .unwrap_or_default(),
        );
    }
    assert_eq!(offered, ara, "only the région's départements are offered");
    let (_, disposition, csv) = fetch(&alex, "/pilotage/exports/fichier?format=csv").await;
    assert_eq!(
        disposition,
        "attachment; filename=\"cafe-ia-activite-region-84-depuis-le-debut.csv\""
    );
    assert_eq!(cells_of_csv(&csv), theirs);
    assert_accessible(&alex, "exports, coordination").await;
    alex.goto(&format!("{}/pilotage/exports?departement=75", stack.base))
        .await
        .expect("page");
    wait_for(&alex, "#departement-erreur").await;
    assert!(
        text_of(&alex, "#departement-erreur")
            .await
            .contains("périmètre")
    );
    assert_eq!(count(&alex, "#export").await, 0, "no figures for Paris");
    assert_accessible(&alex, "exports, département hors périmètre").await;

    sam.close().await.ok();
    alex.close().await.ok();
    stack.stop().await;
}

async fn the_open_data_works_signed_out(backend: Backend) {
    let stack = TestStack::start(backend).await;
    // The figures exist once the demo's reports reached the outreach service.
    export_of(&stack, &stack.token("cnnum", &[Role::Staff], None)).await;
    let public = stack
        .graphql(
            "{ openDataReach { departement month sessions participations reached } }",
            json!({}),
            None,
        )
        .await;
    let published = cells_of_api(&public["data"]["openDataReach"]);
    let hidden = published
        .values()
        .filter(|(_, p, r)| p.is_none() || r.is_none())
        .count();
    assert!(hidden > 0, "the demo has small cells: {published:?}");

    let mut driver = Driver::start().await;
    let visitor = driver.browser(Options::default()).await;
    visitor.goto(&stack.base).await.expect("home");
    wait_for(&visitor, "footer a[href='/donnees-ouvertes']").await;
    tab_to(&visitor, "footer a[href='/donnees-ouvertes']", 200).await;
    press(&visitor, Key::Enter).await;
    wait_for(&visitor, "#donnees").await;
    assert_eq!(text_of(&visitor, "#contenu h1").await, "Données ouvertes");
    let explained = text_of(&visitor, "#secret").await;
    assert!(
        explained.contains("moins de 11") && explained.contains("reconnaître"),
        "{explained}"
    );
    assert_eq!(count(&visitor, "#donnees tbody tr").await, published.len());
    for ((departement, month), (_, participations, reached)) in &published {
        let css = format!("#donnees tr[data-departement='{departement}'][data-mois='{month}']");
        let row = text_of(&visitor, &css).await;
        if participations.is_none() || reached.is_none() {
            assert!(row.contains("moins de 11"), "{css}: {row}");
        } else {
            assert!(!row.contains("moins de 11"), "{css}: {row}");
        }
    }
    let (status, disposition, csv) = fetch(&visitor, "/donnees-ouvertes/cafes-ia.csv").await;
    assert_eq!(status, 200);
    assert!(
        disposition.contains("cafes-ia-donnees-ouvertes.csv"),
        "{disposition}"
    );
    assert_eq!(
        cells_of_csv(&csv),
        published,
        "the file is the API's open data"
    );
    assert_accessible(&visitor, "données ouvertes").await;

    visitor.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    staff_review_the_catalogue_keyboard_only,
    imports_report_the_bad_offer_and_the_bad_row,
    exports_are_the_apis_figures_and_stay_in_the_region,
    the_open_data_works_signed_out,
);

//! Facilitators in the browser: a newcomer becomes one (a bad SIRET shown next to its field,
//! everything typed kept, then the good one) and sees their registration pending; a verified
//! facilitator adds a venue and edits it. Keyboard only with scripts on; the venue form once
//! more with scripts off (the postcode's communes offered as radios). axe-core finds no
//! WCAG 2.1 A/AA violation on any page, error states included.

use cafeia_e2e::{
    TestStack,
    browser::{
        Driver, Options, assert_accessible, press, sign_in_by_click, sign_in_by_keyboard, tab_to,
        text_of, type_text, wait_for,
    },
};
use cafeia_testkit::Backend;
use fantoccini::{Client, Locator, key::Key};

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

async fn attr_of(client: &Client, css: &str, name: &str) -> Option<String> {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .attr(name)
        .await
        .expect("attribute")
}

/// Replaces the focused field's text, as a person would: select all, type over it.
async fn retype(client: &Client, text: &str) {
    press(client, Key::End).await;
    type_text(client, &format!("{}a", Key::Control)).await;
    type_text(client, text).await;
}

async fn a_newcomer_becomes_a_facilitator_keyboard_only(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mut driver = Driver::start().await;
    let noe = driver.browser(Options::default()).await;

    sign_in_by_keyboard(&noe, &stack.base, "nouvel-animateur", "/animateur").await;
    assert_eq!(text_of(&noe, "#contenu h1").await, "Mon espace animateur");
    assert!(text_of(&noe, "main").await.contains("pas encore inscrit"));
    assert_eq!(
        attr_of(&noe, "#navigation a[href='/animateur']", "aria-current")
            .await
            .as_deref(),
        Some("page"),
        "the header leads to the facilitator's space"
    );
    assert_accessible(&noe, "espace animateur, pas encore inscrit").await;

    tab_to(&noe, "main a[href='/animateur/inscription']", 60).await;
    press(&noe, Key::Enter).await;
    wait_for(&noe, "form.cafeia-signup").await;
    assert_accessible(&noe, "devenir animateur").await;
    tab_to(&noe, "#nom", 60).await;
    type_text(&noe, "Noé Lambert").await;
    tab_to(&noe, "#email", 5).await;
    type_text(&noe, "noe.lambert@example.fr").await;
    tab_to(&noe, "#type", 5).await;
    press(&noe, Key::Down).await;
    assert_eq!(value_of(&noe, "#type").await, "CONSEILLER_NUMERIQUE");
    tab_to(&noe, "#zone", 10).await;
    type_text(&noe, "Villeurbanne").await;
    tab_to(&noe, "#structure_nom", 40).await;
    type_text(&noe, "Médiathèque du Tonkin").await;
    tab_to(&noe, "#structure_type", 5).await;
    press(&noe, Key::Down).await;
    press(&noe, Key::Down).await;
    assert_eq!(value_of(&noe, "#structure_type").await, "MEDIATHEQUE");
    tab_to(&noe, "#siret", 5).await;
    // The last digit wrong: the Luhn key does not hold.
    type_text(&noe, "732 829 320 00075").await;
    tab_to(&noe, "#structure_adresse", 5).await;
    type_text(&noe, "2 promenade du Tonkin").await;
    tab_to(&noe, "#structure_commune", 5).await;
    type_text(&noe, "Villeurbanne").await;
    tab_to(&noe, "#envoyer", 10).await;
    press(&noe, Key::Enter).await;

    // Refused: the API's message next to the SIRET, everything typed still there.
    wait_for(&noe, "#siret-erreur").await;
    assert!(
        text_of(&noe, "#siret-erreur").await.contains("SIRET"),
        "{}",
        text_of(&noe, "#siret-erreur").await
    );
    assert_eq!(
        attr_of(&noe, "#siret", "aria-invalid").await.as_deref(),
        Some("true")
    );
    assert_eq!(value_of(&noe, "#siret").await, "732 829 320 00075");
    assert_eq!(value_of(&noe, "#nom").await, "Noé Lambert");
    assert_eq!(value_of(&noe, "#email").await, "noe.lambert@example.fr");
    assert_eq!(
        value_of(&noe, "#structure_nom").await,
        "Médiathèque du Tonkin"
    );
    assert_eq!(value_of(&noe, "#structure_type").await, "MEDIATHEQUE");
    assert!(
        text_of(&noe, "#zones-choisies")
            .await
            .contains("Villeurbanne"),
        "the area typed is among those chosen"
    );
    assert!(
        text_of(&noe, "main")
            .await
            .contains("Votre profil est enregistré")
    );
    assert_accessible(&noe, "devenir animateur, SIRET refusé").await;

    tab_to(&noe, "#siret", 80).await;
    retype(&noe, "73282932000074").await;
    tab_to(&noe, "#envoyer", 10).await;
    press(&noe, Key::Enter).await;
    wait_for(&noe, "#statut").await;
    assert!(
        text_of(&noe, "#statut")
            .await
            .contains("en attente de vérification"),
        "{}",
        text_of(&noe, "#statut").await
    );
    let profile = text_of(&noe, "main dl").await;
    assert!(profile.contains("Noé Lambert"), "{profile}");
    assert!(profile.contains("Médiathèque du Tonkin"), "{profile}");
    assert!(profile.contains("Villeurbanne"), "{profile}");
    assert_accessible(&noe, "espace animateur, en attente").await;

    noe.close().await.ok();
    stack.stop().await;
}

async fn a_facilitator_adds_and_edits_a_venue(backend: Backend) {
    let stack = TestStack::start(backend).await;
    let mut driver = Driver::start().await;
    let camille = driver.browser(Options::default()).await;

    sign_in_by_keyboard(&camille, &stack.base, "animatrice", "/animateur").await;
    assert!(text_of(&camille, "#statut").await.contains("vérifiée"));
    assert_accessible(&camille, "espace animateur, vérifiée").await;
    assert!(
        camille
            .find(Locator::Css("main a[href='/animateur/sessions']"))
            .await
            .is_ok(),
        "the space leads to the sessions"
    );
    tab_to(&camille, "main a[href='/animateur/lieux']", 60).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "main a[href='/animateur/lieux/nouveau']").await;
    assert_accessible(&camille, "mes lieux").await;
    tab_to(&camille, "main a[href='/animateur/lieux/nouveau']", 60).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "form.cafeia-venue").await;
    assert_accessible(&camille, "nouveau lieu").await;

    // A postcode too short and no name: each error next to its field, what was typed kept.
    tab_to(&camille, "#adresse", 60).await;
    type_text(&camille, "3 rue Racine").await;
    tab_to(&camille, "#code_postal", 5).await;
    type_text(&camille, "691").await;
    tab_to(&camille, "#enregistrer", 40).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "#code_postal-erreur").await;
    wait_for(&camille, "#nom-erreur").await;
    assert_eq!(value_of(&camille, "#adresse").await, "3 rue Racine");
    assert_eq!(
        attr_of(&camille, "#code_postal", "aria-invalid")
            .await
            .as_deref(),
        Some("true")
    );
    assert_accessible(&camille, "nouveau lieu en erreur").await;

    tab_to(&camille, "#nom", 60).await;
    type_text(&camille, "Espace numérique Racine").await;
    tab_to(&camille, "#code_postal", 10).await;
    retype(&camille, "69100").await;
    tab_to(&camille, "#commune", 5).await;
    type_text(&camille, "Villeurbanne").await;
    tab_to(&camille, "#horaires", 10).await;
    type_text(&camille, "Tu-Sa 10:00-18:00").await;
    tab_to(&camille, "#accessibilite-1", 10).await;
    press(&camille, Key::Space).await;
    tab_to(&camille, "#enregistrer", 20).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, ".fr-alert--success").await;
    let listed = text_of(&camille, "main .cafeia-results").await;
    assert!(listed.contains("Espace numérique Racine"), "{listed}");
    assert!(listed.contains("69100 Villeurbanne"), "{listed}");
    assert!(
        listed.contains("du mardi au samedi, de 10 h à 18 h"),
        "{listed}"
    );
    assert!(listed.contains("fauteuil roulant"), "{listed}");
    assert_accessible(&camille, "mes lieux, lieu ajouté").await;

    tab_to(&camille, ".fr-card__footer a.fr-btn--secondary", 80).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, "form.cafeia-venue").await;
    assert_eq!(value_of(&camille, "#nom").await, "Espace numérique Racine");
    assert_accessible(&camille, "modifier un lieu").await;
    tab_to(&camille, "#nom", 60).await;
    retype(&camille, "Espace numérique Racine — salle 2").await;
    tab_to(&camille, "#accessibilite-2", 30).await;
    press(&camille, Key::Space).await;
    tab_to(&camille, "#enregistrer", 20).await;
    press(&camille, Key::Enter).await;
    wait_for(&camille, ".fr-alert--success").await;
    assert!(
        text_of(&camille, ".fr-alert--success")
            .await
            .contains("modifié")
    );
    let listed = text_of(&camille, "main .cafeia-results").await;
    assert!(listed.contains("Racine — salle 2"), "{listed}");
    assert!(listed.contains("Boucle magnétique"), "{listed}");
    assert!(
        listed.contains("du mardi au samedi"),
        "the hours are kept: {listed}"
    );

    // Scripts off: a postcode that serves several communes, the communes offered as radios.
    let plain = driver
        .browser(Options {
            javascript: false,
            width: 390,
        })
        .await;
    sign_in_by_click(
        &plain,
        &stack.base,
        "animatrice",
        "/animateur/lieux/nouveau",
    )
    .await;
    wait_for(&plain, "form.cafeia-venue").await;
    for (css, text) in [
        ("#nom", "Tiers-lieu de la Brévenne"),
        ("#adresse", "1 place Sapéon"),
        ("#code_postal", "69210"),
    ] {
        plain
            .find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    plain
        .find(Locator::Css("#enregistrer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&plain, "#communes").await;
    assert!(
        text_of(&plain, "#commune-erreur")
            .await
            .contains("plusieurs communes")
    );
    assert_eq!(value_of(&plain, "#nom").await, "Tiers-lieu de la Brévenne");
    let choice = plain
        .find(Locator::XPath(
            "//fieldset[@id='communes']//label[starts-with(normalize-space(.), \"L'Arbresle\")]",
        ))
        .await
        .expect("L'Arbresle among the communes of 69210");
    choice.click().await.unwrap();
    let hidden = |name: &'static str| {
        let plain = plain.clone();
        async move { value_of(&plain, &format!("form.cafeia-venue input[name={name}]")).await }
    };
    let (form_csrf, form_key) = (hidden("csrf").await, hidden("cle").await);
    plain
        .find(Locator::Css("#enregistrer"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for(&plain, ".fr-alert--success").await;
    let listed = text_of(&plain, "main .cafeia-results").await;
    assert!(listed.contains("69210 L'Arbresle"), "{listed}");
    assert!(listed.contains("Racine — salle 2"), "{listed}");
    let cards = || {
        let plain = plain.clone();
        async move {
            plain
                .find_all(Locator::Css("main .cafeia-results > li"))
                .await
                .unwrap()
                .len()
        }
    };
    assert_eq!(cards().await, 2);

    // The same form sent again (back and resend) adds the venue once.
    let cookie = plain
        .get_all_cookies()
        .await
        .unwrap()
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    let again = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/animateur/lieux/nouveau", stack.base))
        .header("cookie", cookie)
        .form(&[
            ("csrf", form_csrf.as_str()),
            ("cle", form_key.as_str()),
            ("nom", "Tiers-lieu de la Brévenne"),
            ("adresse", "1 place Sapéon"),
            ("code_postal", "69210"),
            ("insee", "69010"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    plain.refresh().await.unwrap();
    wait_for(&plain, "main .cafeia-results").await;
    assert_eq!(cards().await, 2, "a second send of one form added a venue");

    camille.close().await.ok();
    plain.close().await.ok();
    stack.stop().await;
}

cafeia_testkit::backend_matrix!(
    a_newcomer_becomes_a_facilitator_keyboard_only,
    a_facilitator_adds_and_edits_a_venue,
);

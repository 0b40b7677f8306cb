//! The published catalogue as an LHEO document, with our own values in
//! `extras[@info="cafeia"]` so that it imports back unchanged.

use crate::{
    domain::{Enrolment, Format, TrainingSession},
    storage::provider,
    store::Full,
};
use cafeia_platform::{territory::Gazetteer, validation::wire_name};
use serde::Serialize;

fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

fn element(out: &mut String, indent: usize, name: &str, text: &str) {
    out.push_str(&"  ".repeat(indent));
    out.push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
}

/// Controlled values in one `extra`: their wire names separated by `|`.
fn joined<T: Serialize>(values: &[T]) -> String {
    values.iter().map(wire_name).collect::<Vec<_>>().join("|")
}

/// The published catalogue as an LHEO document.
pub fn export(rows: &[(Full, provider::Model)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lheo xmlns=\"http://www.lheo.org/2.2\">\n  <offres>\n",
    );
    for (full, provider) in rows {
        let d = full.draft();
        let numero = full
            .training
            .lheo_id
            .clone()
            .unwrap_or_else(|| full.training.id.to_string());
        out.push_str(&format!("    <formation numero=\"{}\">\n", escape(&numero)));
        element(&mut out, 3, "intitule-formation", &d.title);
        element(&mut out, 3, "objectif-formation", &d.objectives);
        if !d.content.is_empty() {
            element(&mut out, 3, "contenu-formation", &d.content);
        }
        element(
            &mut out,
            3,
            "certifiante",
            if d.certification.is_some() { "1" } else { "0" },
        );
        if let Some(mail) = &d.contact_email {
            out.push_str(&format!("      <contact-formation><coordonnees><courriel>{}</courriel></coordonnees></contact-formation>\n", escape(mail)));
        }
        if let Some(code) = &d.certification {
            let (tag, digits) = match code.strip_prefix("RNCP") {
                Some(digits) => ("code-RNCP", digits),
                None => ("code-RS", code.trim_start_matches("RS")),
            };
            out.push_str(&format!(
                "      <certification><{tag}>{digits}</{tag}></certification>\n"
            ));
        }
        let modalites = match d.format {
            Format::Online => "2",
            Format::Hybrid => "1",
            Format::InPerson => "0",
        };
        // One action per place (LHEO has one lieu per action); an online programme has one
        // action without place.
        let mut groups: Vec<(Option<&str>, Vec<&TrainingSession>)> = d
            .places
            .iter()
            .map(|p| (Some(p.insee.as_str()), Vec::new()))
            .collect();
        if groups.is_empty() {
            groups.push((None, Vec::new()));
        }
        for s in &d.sessions {
            let slot = groups
                .iter()
                .position(|(insee, _)| s.insee.as_deref().is_some_and(|i| Some(i) == *insee))
                .unwrap_or(0);
            groups[slot].1.push(s);
        }
        for (a, (insee, sessions)) in groups.iter().enumerate() {
            out.push_str(&format!(
                "      <action numero=\"{}-{}\">\n",
                escape(&numero),
                a + 1
            ));
            element(&mut out, 4, "modalites-enseignement", modalites);
            if let Some(insee) = insee {
                let commune = Gazetteer::get().commune(insee);
                out.push_str(&format!(
                    "        <lieu-de-formation><coordonnees><adresse><codepostal>{}</codepostal><ville>{}</ville><code-INSEE-commune>{insee}</code-INSEE-commune></adresse></coordonnees></lieu-de-formation>\n",
                    commune.and_then(|c| c.postcodes.first().cloned()).unwrap_or_default(),
                    escape(&commune.map(|c| c.name.clone()).unwrap_or_default()),
                ));
            }
            element(
                &mut out,
                4,
                "nombre-heures-total",
                &d.duration_hours.to_string(),
            );
            element(
                &mut out,
                4,
                "langue-formation",
                d.languages.first().map(String::as_str).unwrap_or("fr"),
            );
            if let Some(cents) = d.price_cents {
                element(
                    &mut out,
                    4,
                    "prix-total-TTC",
                    &format!("{:.2}", cents as f64 / 100.0),
                );
            }
            if let Some(url) = &d.enrolment_url {
                out.push_str(&format!(
                    "        <url-action><urlweb>{}</urlweb></url-action>\n",
                    escape(url)
                ));
            }
            for s in sessions {
                let numero = s
                    .lheo_id
                    .as_deref()
                    .map(|n| format!(" numero=\"{}\"", escape(n)))
                    .unwrap_or_default();
                let etat = match s.enrolment {
                    Enrolment::Open => "1",
                    Enrolment::Closed => "2",
                    Enrolment::Suspended => "3",
                };
                out.push_str(&format!(
                    "        <session{numero}><periode><debut>{}</debut><fin>{}</fin></periode><etat-recrutement>{etat}</etat-recrutement></session>\n",
                    s.start_date.format("%Y%m%d"),
                    s.end_date.format("%Y%m%d"),
                ));
            }
            out.push_str("      </action>\n");
        }
        out.push_str("      <organisme-formation-responsable>\n");
        out.push_str(&format!(
            "        <SIRET-organisme-formation><SIRET>{}</SIRET></SIRET-organisme-formation>\n",
            provider.siret
        ));
        element(&mut out, 4, "nom-organisme", &provider.name);
        out.push_str("      </organisme-formation-responsable>\n");
        out.push_str("      <extras info=\"cafeia\">\n");
        let mut put = |key: &str, value: String| {
            out.push_str(&format!(
                "        <extra info=\"{key}\">{}</extra>\n",
                escape(&value)
            ));
        };
        put("summary", d.summary.clone());
        put("level", wire_name(&d.level));
        put("format", wire_name(&d.format));
        put("pace", wire_name(&d.pace));
        put("audiences", joined(&d.audiences));
        put("topics", d.topics.join("|"));
        put("languages", d.languages.join("|"));
        put("free", if d.is_free { "1".into() } else { "0".into() });
        put("online", if d.online { "1".into() } else { "0".into() });
        if !d.accessibility.is_empty() {
            put("accessibility", joined(&d.accessibility));
        }
        if !d.funding.is_empty() {
            put("funding", joined(&d.funding));
        }
        out.push_str("      </extras>\n    </formation>\n");
    }
    out.push_str("  </offres>\n</lheo>\n");
    out
}

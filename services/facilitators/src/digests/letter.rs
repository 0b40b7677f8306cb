//! What a digest says, in French, as plain text and the platform's simple HTML.

use crate::storage::digests::session;
use cafeia_platform::mail::{
    Mail,
    layout::{Button, escape, french_datetime, page},
};

/// The links a digest carries.
pub struct Links {
    /// The session's roll in the web app.
    pub roll: String,
    /// The one-click unsubscription (RFC 8058), for the `List-Unsubscribe` header.
    pub unsubscribe: String,
}

fn people(n: i32, one: &str, many: &str) -> String {
    if n <= 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

/// The digest of `s` for `to` (named `name`).
pub fn digest(to: &str, name: &str, s: &session::Model, links: &Links) -> Mail {
    let zone: chrono_tz::Tz = s.timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let when = french_datetime(&s.starts_at.with_timezone(&zone));
    let greeting = if name.trim().is_empty() {
        "Bonjour,".to_owned()
    } else {
        format!("Bonjour {},", name.trim())
    };
    let at = s
        .place
        .as_deref()
        .map(|p| format!(", {p}"))
        .unwrap_or_else(|| ", en ligne".to_owned());
    let mut count = people(s.confirmed, "personne inscrite", "personnes inscrites");
    if let Some(capacity) = s.capacity {
        count.push_str(&format!(" pour {}", people(capacity, "place", "places")));
    }
    if s.waitlisted > 0 {
        count.push_str(&format!(
            ", et {} sur la liste d'attente",
            people(s.waitlisted, "personne", "personnes")
        ));
    }
    let before = vec![
        greeting,
        format!("Votre Café IA « {} » a lieu le {when}{at}.", s.title),
        format!("À cette heure : {count}."),
    ];
    let after = vec![
        "Vous recevez ce récapitulatif la veille de chacun de vos cafés. Vous n'en voulez \
         plus ? Choisissez « Se désabonner » dans votre messagerie."
            .to_owned(),
    ];
    let subject = format!(
        "Café IA « {} » du {when} : {}",
        s.title,
        people(s.confirmed, "inscrit·e", "inscrit·es")
    );
    let text = format!(
        "{}\n\nLa liste des inscrits, à imprimer ou à télécharger : {}\n\n{}\n\nL'équipe Café IA\n",
        before.join("\n\n"),
        links.roll,
        after.join("\n\n"),
    );
    let escaped = |ps: &[String]| ps.iter().map(|p| escape(p)).collect::<Vec<_>>();
    Mail {
        to: to.to_owned(),
        html: Some(page(
            &subject,
            &escaped(&before),
            Some(Button {
                label: "Voir la liste des inscrits",
                link: &links.roll,
            }),
            &escaped(&after),
        )),
        subject,
        text,
        attachments: Vec::new(),
        list_unsubscribe: Some(links.unsubscribe.clone()),
        message_id: None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Links, digest};
    use crate::storage::digests::session;
    use cafeia_events_api::SessionStatus;
    use chrono::TimeZone;
    use uuid::Uuid;

    fn session(capacity: Option<i32>, confirmed: i32, waitlisted: i32) -> session::Model {
        session::Model {
            session_id: Uuid::nil(),
            facilitator_id: Uuid::nil(),
            revision: 1,
            status: SessionStatus::Published,
            title: "L'IA & moi".into(),
            starts_at: chrono::Utc.with_ymd_and_hms(2027, 3, 18, 17, 0, 0).unwrap(),
            timezone: "Europe/Paris".into(),
            place: Some("Médiathèque, 1 rue Haute".into()),
            capacity,
            confirmed,
            waitlisted,
            seats_revision: 0,
            digest_at: None,
        }
    }

    #[test]
    fn the_digest_counts_seats_and_the_waiting_list_in_local_time() {
        let links = Links {
            roll: "https://cafe-ia.example/animateur/sessions/x/inscrits".into(),
            unsubscribe: "https://cafe-ia.example/mail/digests/unsubscribe/t".into(),
        };
        let mail = digest("a@example.org", "Ana", &session(Some(12), 12, 3), &links);
        assert_eq!(
            mail.subject,
            "Café IA « L'IA & moi » du jeudi 18 mars 2027 à 18 h 00 : 12 inscrit·es"
        );
        assert!(
            mail.text.contains(
                "À cette heure : 12 personnes inscrites pour 12 places, et 3 personnes sur la \
                 liste d'attente."
            ),
            "{}",
            mail.text
        );
        assert!(mail.text.contains(&links.roll), "{}", mail.text);
        assert_eq!(mail.list_unsubscribe.as_deref(), Some(&*links.unsubscribe));
        let html = mail.html.expect("html");
        assert!(html.contains("L&#39;IA &amp; moi"), "{html}");
        let open = digest("a@example.org", "", &session(None, 1, 0), &links);
        assert!(open.text.starts_with("Bonjour,\n"), "{}", open.text);
        assert!(
            open.text.contains("À cette heure : 1 personne inscrite."),
            "{}",
            open.text
        );
    }
}

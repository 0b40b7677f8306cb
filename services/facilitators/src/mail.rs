//! Mail to facilitators about the staff's decisions on their profile: verified, suspended (with
//! the reason), reinstated. Queued in the transaction of the decision ([`queue_decision`]), so
//! a decision rolled back mails nothing, and sent by the platform's sender
//! ([`cafeia_platform::mail::outbox`]) from this service's `mail_outbox`. The address is the
//! facilitator's own, held here; nothing of it goes on the bus. These are service mails: no
//! `List-Unsubscribe` (a person cannot opt out of hearing that their profile was suspended).

use crate::{
    domain::Decision,
    storage::{facilitator, mail_outbox::ABOUT},
};
use cafeia_platform::mail::{
    Mail,
    layout::{escape, page},
    outbox::{self, NewMail},
};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr};
use uuid::Uuid;

/// Kinds of mail (stored, and the metrics label).
pub const VERIFIED: &str = "facilitator_verified";
pub const SUSPENDED: &str = "facilitator_suspended";
pub const REINSTATED: &str = "facilitator_reinstated";

/// How long sent and parked rows are kept (their content is blanked once sent).
pub const RETENTION: chrono::Duration = chrono::Duration::days(7);

/// The key of the one mail telling of the decision audited as `audit_id`.
pub fn decision_key(facilitator: Uuid, decision: Decision, audit_id: Uuid) -> String {
    format!("facilitator/{facilitator}/{}/{audit_id}", decision.as_str())
}

/// The mail telling `to` (named `name`) of `decision`, with its `reason` when suspended.
pub fn decision_mail(to: &str, name: &str, decision: Decision, reason: Option<&str>) -> Mail {
    let greeting = if name.trim().is_empty() {
        "Bonjour,".to_owned()
    } else {
        format!("Bonjour {},", name.trim())
    };
    let (subject, lines): (&str, Vec<String>) = match decision {
        Decision::Verify => (
            "Votre profil d'animateur·rice Café IA est vérifié",
            vec![
                "L'équipe Café IA a vérifié votre profil d'animateur·rice : vous pouvez \
                 désormais publier vos cafés IA et y accueillir des participants."
                    .to_owned(),
            ],
        ),
        Decision::Suspend => (
            "Votre profil d'animateur·rice Café IA est suspendu",
            vec![
                "L'équipe Café IA a suspendu votre profil d'animateur·rice : pendant la \
                 suspension, vous ne pouvez plus publier de café IA."
                    .to_owned(),
                format!("Motif : {}", reason.unwrap_or("non précisé")),
                "Pour en parler, contactez la coordination Café IA de votre territoire.".to_owned(),
            ],
        ),
        Decision::Reinstate => (
            "Votre profil d'animateur·rice Café IA est rétabli",
            vec![
                "L'équipe Café IA a levé la suspension de votre profil d'animateur·rice : vous \
                 pouvez de nouveau publier vos cafés IA."
                    .to_owned(),
            ],
        ),
    };
    let text = format!("{greeting}\n\n{}\n\nL'équipe Café IA\n", lines.join("\n\n"));
    let paragraphs: Vec<String> = std::iter::once(&greeting)
        .chain(&lines)
        .map(|p| escape(p))
        .collect();
    Mail {
        to: to.to_owned(),
        subject: subject.to_owned(),
        text,
        html: Some(page(subject, &paragraphs, None, &[])),
        attachments: Vec::new(),
        list_unsubscribe: None,
        message_id: None,
    }
}

fn kind_of(decision: Decision) -> &'static str {
    match decision {
        Decision::Verify => VERIFIED,
        Decision::Suspend => SUSPENDED,
        Decision::Reinstate => REINSTATED,
    }
}

/// Queues the mail telling `model` (as the decision left it) of `decision`, audited as
/// `audit_id`, with the caller's transaction. Nothing without an address. Returns whether a
/// mail was queued.
pub async fn queue_decision<C: ConnectionTrait>(
    conn: &C,
    model: &facilitator::Model,
    decision: Decision,
    reason: Option<&str>,
    audit_id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let Some(to) = model.email.as_deref().filter(|e| !e.trim().is_empty()) else {
        return Ok(false);
    };
    let mail = NewMail {
        kind: kind_of(decision),
        dedupe_key: decision_key(model.id, decision, audit_id),
        about_id: Some(model.id),
        mail: decision_mail(to, &model.display_name, decision, reason),
    };
    Ok(outbox::queue_once(conn, ABOUT, vec![mail], now).await? == 1)
}

/// Deletes every mail row about `facilitator` (their erasure).
pub async fn forget<C: ConnectionTrait>(conn: &C, facilitator: Uuid) -> Result<u64, DbErr> {
    outbox::forget(conn, ABOUT, &[facilitator]).await
}

#[cfg(test)]
mod tests {
    use super::{Decision, decision_mail};

    #[test]
    fn a_suspension_says_why_and_no_mail_offers_unsubscription() {
        let mail = decision_mail(
            "ana@example.org",
            "Ana <b>",
            Decision::Suspend,
            Some("Absences répétées"),
        );
        assert!(
            mail.text.contains("Motif : Absences répétées"),
            "{}",
            mail.text
        );
        assert!(mail.text.starts_with("Bonjour Ana <b>,"));
        let html = mail.html.expect("html");
        assert!(html.contains("Bonjour Ana &lt;b&gt;,"), "{html}");
        assert!(mail.list_unsubscribe.is_none());
        for decision in [Decision::Verify, Decision::Reinstate] {
            let mail = decision_mail("ana@example.org", "", decision, None);
            assert!(mail.text.starts_with("Bonjour,\n"), "{}", mail.text);
            assert!(!mail.text.contains("Motif"));
        }
    }
}

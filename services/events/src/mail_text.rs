//! What the registration mails say, in French, as plain text and simple HTML. Only what the
//! service itself knows goes in a mail (the session as published, the links it makes): never
//! text typed by the person who asked (a name), so nobody can use a registration to put their
//! words in someone else's mailbox.

use crate::storage::session;
use cafeia_api::vocabulary::Format;
use cafeia_events_api::RegistrationStatus;
use cafeia_platform::mail::Mail;
use chrono::{DateTime, Timelike, Utc};

/// `jeudi 18 mars 2027 à 18 h 00` in the session's zone.
pub(crate) fn when(session: &session::Model, at: DateTime<Utc>) -> String {
    cafeia_platform::mail::layout::french_datetime(&at.with_timezone(&session.timezone.0))
}

/// `jeudi 18 mars 2027, de 18 h 00 à 20 h 00 (heure de Paris)`.
pub(crate) fn schedule(session: &session::Model) -> String {
    let end = session.ends_at.with_timezone(&session.timezone.0);
    let zone = match session.timezone.0.name() {
        "Europe/Paris" => "heure de Paris".to_owned(),
        other => format!("heure locale, {other}"),
    };
    format!(
        "{}, jusqu'à {} h {:02} ({zone})",
        when(session, session.starts_at),
        end.hour(),
        end.minute()
    )
}

pub(crate) fn place(session: &session::Model) -> String {
    let venue = match (&session.place_name, &session.address) {
        (Some(name), Some(address)) => Some(format!("{name}, {address}")),
        (Some(name), None) => Some(name.clone()),
        _ => None,
    };
    match (session.format, venue) {
        (Format::Online, _) | (_, None) => {
            "en ligne (le lien est donné une fois la place confirmée)".to_owned()
        }
        (Format::Hybrid, Some(venue)) => format!("{venue}, ou en ligne"),
        (_, Some(venue)) => venue,
    }
}

/// Escapes text for HTML.
pub(crate) fn html(text: &str) -> String {
    cafeia_platform::mail::layout::escape(text)
}

/// The HTML around `paragraphs` (already escaped) with one button to `link`: the platform's
/// layout, the same for every service's mail.
pub(crate) fn page(
    title: &str,
    before: &[String],
    button: &str,
    link: &str,
    after: &[String],
) -> String {
    cafeia_platform::mail::layout::page(
        title,
        before,
        Some(cafeia_platform::mail::layout::Button {
            label: button,
            link,
        }),
        after,
    )
}

/// The mail asking the owner of `to` to confirm a registration to `session`.
pub fn confirmation(
    to: &str,
    session: &session::Model,
    link: &str,
    confirm_by: DateTime<Utc>,
) -> Mail {
    let subject = format!(
        "Confirmez votre inscription au Café IA « {} »",
        session.title
    );
    let deadline = when(session, confirm_by);
    let text = format!(
        "Bonjour,\n\n\
         Une inscription au Café IA « {title} » a été demandée avec cette adresse.\n\n\
         Date : {schedule}\n\
         Lieu : {place}\n\n\
         Pour confirmer votre inscription, ouvrez ce lien puis cliquez sur « Confirmer mon \
         inscription » :\n{link}\n\n\
         Sans confirmation avant le {deadline}, la demande est effacée.\n\n\
         Vous n'avez rien demandé ? Ignorez ce message : aucune place n'est réservée et votre \
         adresse sera effacée.\n\n\
         L'équipe Café IA\n",
        title = session.title,
        schedule = schedule(session),
        place = place(session),
    );
    let before = vec![
        "Bonjour,".to_owned(),
        format!(
            "Une inscription au Café IA « {} » a été demandée avec cette adresse.",
            html(&session.title)
        ),
        format!(
            "<strong>Date :</strong> {}<br>\n<strong>Lieu :</strong> {}",
            html(&schedule(session)),
            html(&place(session))
        ),
        "Pour confirmer votre inscription, ouvrez ce lien puis cliquez sur « Confirmer mon \
         inscription » :"
            .to_owned(),
    ];
    let after = vec![
        format!(
            "Sans confirmation avant le {}, la demande est effacée.",
            html(&deadline)
        ),
        "Vous n'avez rien demandé ? Ignorez ce message : aucune place n'est réservée et votre \
         adresse sera effacée."
            .to_owned(),
    ];
    Mail {
        to: to.to_owned(),
        html: Some(page(
            &subject,
            &before,
            "Confirmer mon inscription",
            link,
            &after,
        )),
        subject,
        text,
        attachments: Vec::new(),
        list_unsubscribe: None,
        message_id: None,
    }
}

/// The mail to the owner of `to`, registered already (`status`), who asked again: nothing
/// changed, and here is a new cancellation link (the one given before no longer works).
pub fn already_registered(
    to: &str,
    session: &session::Model,
    status: RegistrationStatus,
    cancel_link: &str,
) -> Mail {
    let subject = format!("Votre inscription au Café IA « {} »", session.title);
    let holding = if status == RegistrationStatus::Waitlisted {
        "Vous êtes sur la liste d'attente : vous serez prévenu·e si une place se libère."
    } else {
        "Votre place est confirmée."
    };
    let text = format!(
        "Bonjour,\n\n\
         Une nouvelle inscription au Café IA « {title} » a été demandée avec cette adresse, \
         qui y est déjà inscrite. Rien n'a changé : {holding_lower}\n\n\
         Date : {schedule}\n\
         Lieu : {place}\n\n\
         Pour annuler votre inscription, voici un nouveau lien (celui reçu auparavant ne \
         fonctionne plus) :\n{cancel_link}\n\n\
         Vous n'avez rien demandé ? Ignorez ce message : votre inscription reste valable.\n\n\
         L'équipe Café IA\n",
        title = session.title,
        holding_lower = lower_first(holding),
        schedule = schedule(session),
        place = place(session),
    );
    let before = vec![
        "Bonjour,".to_owned(),
        format!(
            "Une nouvelle inscription au Café IA « {} » a été demandée avec cette adresse, qui \
             y est déjà inscrite. Rien n'a changé : {}",
            html(&session.title),
            html(&lower_first(holding))
        ),
        format!(
            "<strong>Date :</strong> {}<br>\n<strong>Lieu :</strong> {}",
            html(&schedule(session)),
            html(&place(session))
        ),
        "Pour annuler votre inscription, voici un nouveau lien (celui reçu auparavant ne \
         fonctionne plus) :"
            .to_owned(),
    ];
    let after = vec![
        "Vous n'avez rien demandé ? Ignorez ce message : votre inscription reste valable."
            .to_owned(),
    ];
    Mail {
        to: to.to_owned(),
        html: Some(page(
            &subject,
            &before,
            "Annuler mon inscription",
            cancel_link,
            &after,
        )),
        subject,
        text,
        attachments: Vec::new(),
        list_unsubscribe: None,
        message_id: None,
    }
}

pub(crate) fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::html;

    #[test]
    fn text_from_the_session_is_escaped_in_html() {
        assert_eq!(
            html("<b>Café & « IA »</b>"),
            "&lt;b&gt;Café &amp; « IA »&lt;/b&gt;"
        );
    }
}

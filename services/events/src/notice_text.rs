//! What the mail about a registration says, once it is one (a seat, a waiting-list place, a
//! promotion, a change, a cancellation, the reminder), in French, as plain text and simple
//! HTML (one button, the same words as the text). Like [`crate::mail_text`]: only what the
//! service knows (the session as published, the links it makes), never a registrant's words.

use crate::mail_text::{html, page, place, schedule, when};
use crate::storage::session;
use cafeia_api::vocabulary::Format;
use cafeia_events_api::Accessibility;
use cafeia_platform::mail::{Attachment, Mail};

/// What a mail about one registration needs besides the session.
pub struct Letter<'a> {
    pub to: &'a str,
    pub session: &'a session::Model,
    /// Holds a seat: the online link is given (never to a waiting-list place).
    pub seat: bool,
}

fn access(feature: Accessibility) -> &'static str {
    match feature {
        Accessibility::Wheelchair => "accessible en fauteuil roulant",
        Accessibility::Lsf => "interprétation en langue des signes (LSF)",
        Accessibility::HearingLoop => "boucle magnétique",
        Accessibility::EasyRead => "supports faciles à lire et à comprendre (FALC)",
    }
}

/// One line of the session's particulars: its label and its text (a link when it is one).
struct Line {
    label: &'static str,
    text: String,
    link: bool,
}

/// When, where, how to get there, the online link for a seat holder, accessibility.
fn particulars(letter: &Letter<'_>) -> Vec<Line> {
    let s = letter.session;
    let mut lines = vec![
        Line {
            label: "Date",
            text: schedule(s),
            link: false,
        },
        Line {
            label: "Lieu",
            text: match s.format {
                Format::Online if letter.seat => "en ligne".to_owned(),
                Format::Online => "en ligne (le lien est donné avec la place)".to_owned(),
                _ => place(s),
            },
            link: false,
        },
    ];
    if let (Some(lat), Some(lon)) = (s.lat, s.lon)
        && s.format != Format::Online
    {
        lines.push(Line {
            label: "Plan",
            text: format!(
                "https://www.openstreetmap.org/?mlat={lat:.5}&mlon={lon:.5}#map=18/{lat:.5}/{lon:.5}"
            ),
            link: true,
        });
    }
    if letter.seat
        && s.format != Format::InPerson
        && let Some(url) = &s.online_url
    {
        lines.push(Line {
            label: "Lien de la visio",
            text: url.clone(),
            link: true,
        });
    }
    let features: Vec<&str> = s.accessibility.0.iter().map(|a| access(*a)).collect();
    lines.push(Line {
        label: "Accessibilité",
        text: if features.is_empty() {
            "aucun aménagement n'est indiqué pour ce café".to_owned()
        } else {
            features.join(", ")
        },
        link: false,
    });
    lines
}

fn particulars_text(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| format!("{} : {}\n", l.label, l.text))
        .collect()
}

fn particulars_html(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| {
            let text = html(&l.text);
            if l.link {
                format!(
                    "<strong>{} :</strong> <a href=\"{text}\">{text}</a>",
                    l.label
                )
            } else {
                format!("<strong>{} :</strong> {text}", l.label)
            }
        })
        .collect::<Vec<_>>()
        .join("<br>\n")
}

/// A mail: paragraphs before the button, the particulars, the button's sentence and link,
/// paragraphs after. `before` and `after` are plain text (escaped for the HTML here).
struct Body<'a> {
    subject: String,
    before: Vec<String>,
    lines: Vec<Line>,
    /// The sentence leading to the link, the button's words, the link.
    action: (&'a str, &'a str, &'a str),
    after: Vec<String>,
}

fn compose(to: &str, body: Body<'_>, attachments: Vec<Attachment>) -> Mail {
    let (lead, button, link) = body.action;
    let mut text = String::from("Bonjour,\n\n");
    for p in &body.before {
        text.push_str(p);
        text.push_str("\n\n");
    }
    if !body.lines.is_empty() {
        text.push_str(&particulars_text(&body.lines));
        text.push('\n');
    }
    text.push_str(&format!("{lead}\n{link}\n\n"));
    for p in &body.after {
        text.push_str(p);
        text.push_str("\n\n");
    }
    text.push_str("L'équipe Café IA\n");
    let mut before: Vec<String> = std::iter::once("Bonjour,".to_owned())
        .chain(body.before.iter().map(|p| html(p)))
        .collect();
    if !body.lines.is_empty() {
        before.push(particulars_html(&body.lines));
    }
    before.push(html(lead));
    let after: Vec<String> = body.after.iter().map(|p| html(p)).collect();
    Mail {
        to: to.to_owned(),
        html: Some(page(&body.subject, &before, button, link, &after)),
        subject: body.subject,
        text,
        attachments,
        list_unsubscribe: None,
        message_id: None,
    }
}

const CALENDAR_NOTE: &str =
    "Le fichier joint (cafe-ia.ics) ajoute ce café à votre agenda, ou le met à jour.";

/// A seat is held (`cancel` frees it).
pub fn seat_confirmed(letter: &Letter<'_>, cancel: &str, invitation: Attachment) -> Mail {
    let s = letter.session;
    compose(
        letter.to,
        Body {
            subject: format!("Votre place au Café IA « {} » est réservée", s.title),
            before: vec![format!(
                "Votre inscription au Café IA « {} » est confirmée : une place vous attend.",
                s.title
            )],
            lines: particulars(letter),
            action: (
                "Vous ne pouvez plus venir ? Libérez votre place pour quelqu'un d'autre :",
                "Je libère ma place",
                cancel,
            ),
            after: vec![CALENDAR_NOTE.to_owned()],
        },
        vec![invitation],
    )
}

/// A place in the waiting list, `position` (1 is next).
pub fn waitlisted(letter: &Letter<'_>, position: i64, cancel: &str) -> Mail {
    let s = letter.session;
    let rank = if position == 1 {
        "Vous êtes la première personne en liste d'attente.".to_owned()
    } else {
        format!("Vous êtes en position {position} sur la liste d'attente.")
    };
    compose(
        letter.to,
        Body {
            subject: format!(
                "Vous êtes sur la liste d'attente du Café IA « {} »",
                s.title
            ),
            before: vec![
                format!(
                    "Le Café IA « {} » est complet pour l'instant. {rank}",
                    s.title
                ),
                "Si une place se libère, elle est donnée dans l'ordre d'arrivée : vous \
                 recevrez alors un courriel, sans rien avoir à faire."
                    .to_owned(),
            ],
            lines: particulars(letter),
            action: (
                "Vous ne souhaitez plus attendre ? Quittez la liste d'attente :",
                "Quitter la liste d'attente",
                cancel,
            ),
            after: Vec::new(),
        },
        Vec::new(),
    )
}

/// From the waiting list to a seat (`release` frees it at once).
pub fn promoted(letter: &Letter<'_>, release: &str, invitation: Attachment) -> Mail {
    let s = letter.session;
    compose(
        letter.to,
        Body {
            subject: format!(
                "Une place s'est libérée : vous êtes inscrit·e au Café IA « {} »",
                s.title
            ),
            before: vec![format!(
                "Bonne nouvelle : une place s'est libérée au Café IA « {} » et elle est à \
                 vous. Vous n'êtes plus sur la liste d'attente.",
                s.title
            )],
            lines: particulars(letter),
            action: (
                "Vous ne pouvez pas venir ? Un clic, et la place va à la personne suivante :",
                "Je libère ma place",
                release,
            ),
            after: vec![CALENDAR_NOTE.to_owned()],
        },
        vec![invitation],
    )
}

/// The session's time or place changed: the particulars as they now are, the updated `.ics`.
pub fn session_changed(letter: &Letter<'_>, cancel: &str, invitation: Attachment) -> Mail {
    let s = letter.session;
    let holding = if letter.seat {
        "Votre place reste réservée."
    } else {
        "Vous restez sur la liste d'attente."
    };
    compose(
        letter.to,
        Body {
            subject: format!("Changement d'horaire ou de lieu : Café IA « {} »", s.title),
            before: vec![format!(
                "L'horaire ou le lieu du Café IA « {} » a changé. {holding} Voici les \
                 informations à jour :",
                s.title
            )],
            lines: particulars(letter),
            action: (
                "Ce changement ne vous convient pas ? Libérez votre place :",
                "Annuler mon inscription",
                cancel,
            ),
            after: vec![CALENDAR_NOTE.to_owned()],
        },
        vec![invitation],
    )
}

/// The session is cancelled (its reason, as given); `search` finds another one.
pub fn session_cancelled(letter: &Letter<'_>, search: &str, invitation: Attachment) -> Mail {
    let s = letter.session;
    let reason = s
        .status_reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| format!("Motif : {r}"))
        .unwrap_or_else(|| "Aucun motif n'a été donné.".to_owned());
    compose(
        letter.to,
        Body {
            subject: format!("Annulation du Café IA « {} »", s.title),
            before: vec![
                format!(
                    "Le Café IA « {} » prévu le {} est annulé. Votre inscription est annulée \
                     avec lui : vous n'avez rien à faire.",
                    s.title,
                    when(s, s.starts_at)
                ),
                reason,
            ],
            lines: Vec::new(),
            action: (
                "D'autres Cafés IA ont lieu près de chez vous :",
                "Trouver un autre café",
                search,
            ),
            after: vec![
                "Le fichier joint (cafe-ia.ics) retire ce café de votre agenda.".to_owned(),
            ],
        },
        vec![invitation],
    )
}

/// The reminder before the session (`unsubscribe`: its one-click address, RFC 8058).
pub fn reminder(letter: &Letter<'_>, cancel: &str, unsubscribe: &str) -> Mail {
    let s = letter.session;
    let mut mail = compose(
        letter.to,
        Body {
            subject: format!(
                "Rappel : Café IA « {} » le {}",
                s.title,
                when(s, s.starts_at)
            ),
            before: vec![format!(
                "Nous vous attendons au Café IA « {} ». Votre place est réservée.",
                s.title
            )],
            lines: particulars(letter),
            action: (
                "Vous ne pouvez plus venir ? Libérez votre place pour quelqu'un sur la liste \
                 d'attente :",
                "Je libère ma place",
                cancel,
            ),
            after: vec![
                "Vous ne voulez pas de rappel ? Choisissez « Se désabonner » dans votre \
                 messagerie : votre inscription n'en est pas changée."
                    .to_owned(),
            ],
        },
        Vec::new(),
    );
    mail.list_unsubscribe = Some(unsubscribe.to_owned());
    mail
}

//! The one simple layout of every service's HTML mail (DSFR-like: Marianne, the blue button),
//! so registrants and facilitators read the same shape. The plain-text part is the service's;
//! this is its HTML twin.

use chrono::{DateTime, Datelike, TimeZone, Timelike};

const WEEKDAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// `jeudi 18 mars 2027 à 18 h 00`, in the zone `local` is in (the session's, for mail about
/// a session: what its participants read on the door).
pub fn french_datetime<Tz: TimeZone>(local: &DateTime<Tz>) -> String {
    let weekday = WEEKDAYS[local.weekday().num_days_from_monday() as usize];
    let month = MONTHS[local.month0() as usize];
    format!(
        "{weekday} {} {month} {} à {} h {:02}",
        local.day(),
        local.year(),
        local.hour(),
        local.minute()
    )
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One button and the same link spelled out, for readers that show no button.
pub struct Button<'a> {
    pub label: &'a str,
    pub link: &'a str,
}

/// The HTML page around `before` and `after` (paragraphs, already escaped), with `button`
/// between them when there is one.
pub fn page(
    title: &str,
    before: &[String],
    button: Option<Button<'_>>,
    after: &[String],
) -> String {
    let paragraphs = |ps: &[String]| -> String {
        ps.iter()
            .map(|p| format!("<p>{p}</p>\n"))
            .collect::<Vec<_>>()
            .join("")
    };
    let button = button
        .map(|b| {
            format!(
                "<p><a href=\"{link}\" style=\"display: inline-block; padding: 0.5em 1em; background: #000091; \
                 color: #ffffff; text-decoration: none;\">{label}</a></p>\n\
                 <p style=\"font-size: 0.9em;\">Ou copiez ce lien dans votre navigateur : {link}</p>\n",
                link = escape(b.link),
                label = escape(b.label),
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: Marianne, Arial, sans-serif; line-height: 1.5; color: #161616;\">\n\
         {}{button}{}\
         <p>L'équipe Café IA</p>\n</body>\n</html>\n",
        paragraphs(before),
        paragraphs(after),
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::{Button, page};

    #[test]
    fn the_button_is_optional_and_its_link_escaped() {
        let with = page(
            "A & B",
            &["Bonjour".into()],
            Some(Button {
                label: "Ouvrir",
                link: "https://x.example/?a=1&b=2",
            }),
            &[],
        );
        assert!(with.contains("<title>A &amp; B</title>"), "{with}");
        assert!(
            with.contains("href=\"https://x.example/?a=1&amp;b=2\""),
            "{with}"
        );
        let without = page("A", &["Bonjour".into()], None, &["Fin".into()]);
        assert!(!without.contains("<a "), "{without}");
        assert!(
            without.contains("<p>Bonjour</p>\n<p>Fin</p>\n<p>L'équipe"),
            "{without}"
        );
    }
}

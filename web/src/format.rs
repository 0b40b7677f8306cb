//! French formatting: dates as people say them ("mardi 3 mars 2027 à 18 h"), in the session's
//! own time zone, and numbers with a narrow no-break space between thousands.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

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

/// `instant` in `zone` (an IANA name; Paris when unknown).
pub fn local(instant: DateTime<Utc>, zone: &str) -> DateTime<Tz> {
    instant.with_timezone(&zone.parse::<Tz>().unwrap_or(chrono_tz::Europe::Paris))
}

/// "mardi 3 mars 2027"
pub fn day<T: Datelike>(date: &T) -> String {
    let weekday = WEEKDAYS[date.weekday().num_days_from_monday() as usize];
    let month = MONTHS[date.month0() as usize];
    let first = if date.day() == 1 {
        "1er".to_owned()
    } else {
        date.day().to_string()
    };
    format!("{weekday} {first} {month} {}", date.year())
}

/// "18 h", "18 h 30"
pub fn time<T: Timelike>(time: &T) -> String {
    match time.minute() {
        0 => format!("{} h", time.hour()),
        m => format!("{} h {m:02}", time.hour()),
    }
}

/// "mardi 3 mars 2027 à 18 h", in the session's zone.
pub fn when(instant: DateTime<Utc>, zone: &str) -> String {
    let at = local(instant, zone);
    format!("{} à {}", day(&at), time(&at))
}

/// "mardi 3 mars 2027, de 18 h à 20 h" (or across days, both ends in full).
pub fn span(starts: DateTime<Utc>, ends: DateTime<Utc>, zone: &str) -> String {
    let (a, b) = (local(starts, zone), local(ends, zone));
    if a.date_naive() == b.date_naive() {
        format!("{}, de {} à {}", day(&a), time(&a), time(&b))
    } else {
        format!(
            "du {} à {} au {} à {}",
            day(&a),
            time(&a),
            day(&b),
            time(&b)
        )
    }
}

/// The zone as people read it, when it is not metropolitan France's.
pub fn zone_note(zone: &str) -> Option<String> {
    (zone != "Europe/Paris").then(|| format!("heure locale ({zone})"))
}

/// 1234567 → "1 234 567" (narrow no-break spaces).
pub fn number(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(ch);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// 2.54 → "2,5 km"
pub fn km(distance: f64) -> String {
    if distance < 10.0 {
        format!("{:.1} km", distance).replace('.', ",")
    } else {
        format!("{} km", distance.round() as i64)
    }
}

/// "1 place", "12 places", "complet"
pub fn seats(left: Option<i64>) -> String {
    match left {
        None => "entrée libre".into(),
        Some(0) => "complet".into(),
        Some(1) => "1 place restante".into(),
        Some(n) => format!("{} places restantes", number(n)),
    }
}

/// JSON to put inside a `<script>` element: `<`, `>` and `&` escaped as JSON escapes, so that
/// no text in it (a title with `</script>`) can end the element or start markup.
pub fn script_json(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// "2026-11" (a `YYYY-MM` month) → "novembre 2026"; anything else as it is.
pub fn month(code: &str) -> String {
    let parsed = code
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<usize>().ok()?)));
    match parsed {
        Some((year, m)) if (1..=12).contains(&m) => format!("{} {year}", MONTHS[m - 1]),
        _ => code.to_owned(),
    }
}

/// 90 → "1 h 30", 45 → "45 min", 120 → "2 h"
pub fn minutes(total: i64) -> String {
    match (total / 60, total % 60) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m:02}"),
    }
}

/// 21369008400015 → « 213 690 084 00015 » (SIREN by threes, then the establishment's NIC),
/// as a SIRET is read; anything else as it is.
pub fn siret(number: &str) -> String {
    if number.len() != 14 || !number.is_ascii() {
        return number.to_owned();
    }
    format!(
        "{} {} {} {}",
        &number[..3],
        &number[3..6],
        &number[6..9],
        &number[9..]
    )
}

/// A day typed in a form: `2027-03-18`, as a date field sends it, or `18/03/2027`, as a
/// person types it where the field is plain text.
pub fn typed_day(text: &str) -> Option<chrono::NaiveDate> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_read_as_people_say_them() {
        let at = Utc.with_ymd_and_hms(2027, 3, 2, 17, 0, 0).unwrap();
        assert_eq!(when(at, "Europe/Paris"), "mardi 2 mars 2027 à 18 h");
        let evening = Utc.with_ymd_and_hms(2027, 2, 1, 0, 30, 0).unwrap();
        assert_eq!(
            when(evening, "America/Guadeloupe"),
            "dimanche 31 janvier 2027 à 20 h 30"
        );
        let first = Utc.with_ymd_and_hms(2027, 4, 1, 8, 0, 0).unwrap();
        assert_eq!(day(&local(first, "Europe/Paris")), "jeudi 1er avril 2027");
    }

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(number(2_000_000), "2\u{202f}000\u{202f}000");
        assert_eq!(number(999), "999");
        assert_eq!(km(2.54), "2,5 km");
        assert_eq!(seats(Some(0)), "complet");
        assert_eq!(minutes(90), "1 h 30");
        assert_eq!(minutes(45), "45 min");
        assert_eq!(minutes(120), "2 h");
        assert_eq!(month("2026-11"), "novembre 2026");
        assert_eq!(month("2026-13"), "2026-13");
    }

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let doc = serde_json::json!({ "name": "</script><b>café & thé</b>" });
        let text = script_json(&doc);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            doc
        );
    }
}

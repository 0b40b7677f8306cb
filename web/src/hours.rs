//! Opening hours as people read them: venues keep OpenStreetMap's `opening_hours` syntax
//! (`Mo-Fr 09:00-12:00,14:00-17:30`, the national venues standard's), pages say it in French
//! ("du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h 30"). A rule this does not know
//! is shown as written rather than guessed at.

const DAYS: [(&str, &str); 8] = [
    ("Mo", "lundi"),
    ("Tu", "mardi"),
    ("We", "mercredi"),
    ("Th", "jeudi"),
    ("Fr", "vendredi"),
    ("Sa", "samedi"),
    ("Su", "dimanche"),
    ("PH", "jours fériés"),
];

/// `Mo-Fr 09:00-12:00; Sa 10:00-12:00` → "du lundi au vendredi, de 9 h à 12 h ; le samedi,
/// de 10 h à 12 h".
pub fn french(osm: &str) -> String {
    osm.split(';')
        .map(str::trim)
        .filter(|rule| !rule.is_empty())
        .map(|rule| self::rule(rule).unwrap_or_else(|| rule.to_owned()))
        .collect::<Vec<_>>()
        .join(" ; ")
}

fn rule(rule: &str) -> Option<String> {
    if rule == "24/7" {
        return Some("tous les jours, 24 h sur 24".into());
    }
    let (days, hours) = match rule.split_once(' ') {
        Some((days, hours)) => (days, hours.trim()),
        None if days(rule).is_some() => (rule, ""),
        None => ("", rule),
    };
    let days = if days.is_empty() {
        None
    } else {
        Some(self::days(days)?)
    };
    let hours = match hours {
        "" => None,
        "off" | "closed" => Some("fermé".to_owned()),
        spans => Some(
            spans
                .split(',')
                .map(span)
                .collect::<Option<Vec<_>>>()?
                .join(" et "),
        ),
    };
    match (days, hours) {
        (Some(d), Some(h)) => Some(format!("{d}, {h}")),
        (Some(d), None) => Some(d),
        (None, Some(h)) => Some(format!("tous les jours, {h}")),
        (None, None) => None,
    }
}

fn day(code: &str) -> Option<&'static str> {
    DAYS.iter().find(|(c, _)| *c == code).map(|(_, name)| *name)
}

/// `Mo-Fr,Su` → "du lundi au vendredi et le dimanche"
fn days(text: &str) -> Option<String> {
    let parts = text
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((from, to)) => Some(format!("du {} au {}", day(from)?, day(to)?)),
            None if part == "PH" => Some("les jours fériés".to_owned()),
            None => Some(format!("le {}", day(part)?)),
        })
        .collect::<Option<Vec<_>>>()?;
    Some(parts.join(" et "))
}

/// `14:00-17:30` → "de 14 h à 17 h 30"
fn span(text: &str) -> Option<String> {
    let (from, to) = text.trim().split_once('-')?;
    Some(format!("de {} à {}", clock(from)?, clock(to)?))
}

/// `09:00` → "9 h", `17:30` → "17 h 30"
fn clock(text: &str) -> Option<String> {
    let (h, m) = text.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 24 || m > 59 {
        return None;
    }
    Some(match m {
        0 => format!("{h} h"),
        m => format!("{h} h {m:02}"),
    })
}

#[cfg(test)]
mod tests {
    use super::french;

    #[test]
    fn opening_hours_read_in_french() {
        assert_eq!(
            french("Mo-Fr 09:00-12:00,14:00-17:30; Sa 10:00-12:00"),
            "du lundi au vendredi, de 9 h à 12 h et de 14 h à 17 h 30 ; le samedi, de 10 h à 12 h"
        );
        assert_eq!(
            french("Tu,Th 13:30-18:00"),
            "le mardi et le jeudi, de 13 h 30 à 18 h"
        );
        assert_eq!(french("24/7"), "tous les jours, 24 h sur 24");
        assert_eq!(french("PH off"), "les jours fériés, fermé");
        assert_eq!(french("10:00-16:00"), "tous les jours, de 10 h à 16 h");
    }

    #[test]
    fn what_it_does_not_know_stays_as_written() {
        assert_eq!(
            french("Mo-Fr 09:00-12:00; week 1-53 Sa 10:00-12:00"),
            "du lundi au vendredi, de 9 h à 12 h ; week 1-53 Sa 10:00-12:00"
        );
        assert_eq!(french("sunrise-sunset"), "sunrise-sunset");
    }
}

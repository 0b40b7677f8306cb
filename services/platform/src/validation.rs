//! Input validation shared by the services: a collector of field errors (so a form shows them
//! all at once), French identifiers (SIRET, RNA), email addresses, enum wire names.

use crate::errors::{AppError, FieldError};

/// Collects field errors so a form shows them all at once.
#[derive(Default, Debug)]
pub struct Problems(pub Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    pub fn check(&mut self, ok: bool, field: &str, message: &str) {
        if !ok {
            self.add(field, message);
        }
    }

    /// A required text of at most `max` characters, trimmed.
    pub fn text(&mut self, field: &str, value: &str, max: usize) -> String {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, "ne doit pas être vide");
        } else if value.chars().count() > max {
            self.add(field, format!("doit faire au plus {max} caractères"));
        } else if value
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            // NUL and the like: refused here rather than by the database (a 500).
            self.add(field, "contient des caractères de contrôle");
        }
        value.to_owned()
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::invalid_fields(self.0))
        }
    }
}

/// Most characters a staff decision's reason holds.
pub const MAX_REASON: usize = 1000;

/// A staff decision's reason: trimmed, blank as none; `missing` is the refusal when the
/// decision needs one (a refusal, a suspension). A reason given is a text (no control
/// character, at most [`MAX_REASON`] characters).
pub fn reason(value: Option<String>, missing: Option<&str>) -> Result<Option<String>, AppError> {
    let value = value.filter(|r| !r.trim().is_empty());
    match (value, missing) {
        (None, Some(why)) => Err(AppError::invalid("reason", why)),
        (None, None) => Ok(None),
        (Some(text), _) => {
            let mut p = Problems::default();
            let text = p.text("reason", &text, MAX_REASON);
            p.into_result()?;
            Ok(Some(text))
        }
    }
}

/// Validates a SIRET: 14 digits whose Luhn sum is a multiple of 10 (La Poste's establishments,
/// SIREN 356000000, may instead have a plain digit sum that is a multiple of 5).
pub fn valid_siret(siret: &str) -> bool {
    if siret.len() != 14 || !siret.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    if luhn(siret) {
        return true;
    }
    // La Poste numbers its establishments beyond what Luhn allows.
    siret.starts_with("356000000")
        && siret
            .bytes()
            .map(|b| u32::from(b - b'0'))
            .sum::<u32>()
            .is_multiple_of(5)
}

/// Validates a SIREN (a company's number, a SIRET's first nine digits): nine digits, not all
/// zeros, with their own Luhn key. A SIRET's key covers all 14 digits, so one random number
/// in ten passes it; checking the SIREN's key too leaves one in a hundred, and refuses the
/// zeros any sum accepts.
pub fn valid_siren(siren: &str) -> bool {
    siren.len() == 9
        && siren.bytes().all(|b| b.is_ascii_digit())
        && siren != "000000000"
        && luhn(siren)
}

/// Whether `digits` (ASCII digits only) pass the Luhn check: every second digit from the
/// right doubled (less 9 above 9), the sum a multiple of 10.
fn luhn(digits: &str) -> bool {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum::<u32>()
        .is_multiple_of(10)
}

/// Validates an RNA number (répertoire national des associations): `W` and nine characters,
/// digits except the department part which may hold letters (2A, 2B, 97x…).
pub fn valid_rna(rna: &str) -> bool {
    rna.len() == 10
        && rna.starts_with('W')
        && rna[1..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        && rna[4..].bytes().all(|b| b.is_ascii_digit())
}

pub use cafeia_api::vocabulary::wire_name;

/// Completes 13 digits into a SIRET whose Luhn key is valid (demo data, benchmarks).
pub fn complete_siret(prefix: &str) -> String {
    (0..10)
        .map(|d| format!("{prefix}{d}"))
        .find(|s| valid_siret(s))
        .unwrap_or_default()
}

/// A département filter must name a real département.
pub fn known_departement(code: &str) -> Result<(), AppError> {
    match crate::territory::Gazetteer::get().departement(code) {
        Some(_) => Ok(()),
        None => Err(AppError::invalid(
            "departement",
            format!("département inconnu : {code:?}"),
        )),
    }
}

/// A région filter must name a real région.
pub fn known_region(code: &str) -> Result<(), AppError> {
    match crate::territory::Gazetteer::get().region(code) {
        Some(_) => Ok(()),
        None => Err(AppError::invalid(
            "region",
            format!("région inconnue : {code:?}"),
        )),
    }
}

/// A plausible email address, trimmed and lower-cased.
pub fn email(value: &str, problems: &mut Problems) -> String {
    let value = value.trim().to_lowercase();
    let ok = value.chars().count() <= 254
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        })
        && !value.chars().any(|c| c.is_whitespace() || c.is_control());
    problems.check(ok, "email", "adresse électronique invalide");
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_but_line_breaks_kept() {
        let mut p = Problems::default();
        assert_eq!(
            p.text("description", "ligne 1\nligne 2\tfin", 100),
            "ligne 1\nligne 2\tfin"
        );
        p.text("name", "Zo\u{0}é", 100);
        email("zoe\u{0}@example.org", &mut p);
        let fields: Vec<String> = match p.into_result() {
            Err(e) => e.errors.into_iter().map(|f| f.field).collect(),
            Ok(()) => Vec::new(),
        };
        assert_eq!(fields, ["name", "email"]);
    }

    #[test]
    fn siret_checksums() {
        assert!(valid_siret("73282932000074")); // a well-known valid SIRET
        assert!(!valid_siret("73282932000075"));
        assert!(!valid_siret("7328293200007"));
        assert!(!valid_siret("7328293200007A"));
        assert!(valid_siret("35600000000048")); // La Poste, head office (Luhn)
        assert!(valid_siret("35600000000015")); // La Poste establishment (digit sum)
        assert!(!valid_siret("35600000000016"));
    }

    #[test]
    fn siren_checksums() {
        assert!(valid_siren("732829320"));
        assert!(valid_siren("356000000")); // La Poste
        assert!(!valid_siren("732829321"));
        assert!(!valid_siren("000000000"), "zeros pass any sum");
        assert!(!valid_siren("73282932"));
        assert!(!valid_siren("73282932A"));
        // 14 digits whose key holds while their SIREN's does not.
        assert!(valid_siret("12345678901237"));
        assert!(!valid_siren(&"12345678901237"[..9]));
    }

    #[test]
    fn rna_format() {
        assert!(valid_rna("W751234567"));
        assert!(valid_rna("W2A1002345"));
        assert!(!valid_rna("X751234567"));
        assert!(!valid_rna("W75123456"));
    }

    #[test]
    fn completed_sirets_are_valid_and_territory_filters_are_checked() {
        let siret = complete_siret("7328293200007");
        assert_eq!(siret, "73282932000074");
        assert!(known_departement("2A").is_ok());
        assert_eq!(
            known_departement("99").map_err(|e| e.errors[0].field.clone()),
            Err("departement".into())
        );
        assert_eq!(
            known_region("00").map_err(|e| e.errors[0].field.clone()),
            Err("region".into())
        );
    }

    #[test]
    fn problems_collect_every_field() {
        let mut p = Problems::default();
        assert_eq!(p.text("title", "  Café IA  ", 10), "Café IA");
        p.text("summary", "   ", 10);
        p.text("name", "abcdefghijk", 10);
        let err = p.into_result().expect_err("two problems");
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["summary", "name"]);
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        let mut p = Problems::default();
        assert_eq!(email(" Camille@Exemple.FR ", &mut p), "camille@exemple.fr");
        assert!(p.0.is_empty());
        email("pas-une-adresse", &mut p);
        email("a@b", &mut p);
        assert_eq!(p.0.len(), 2);
    }
}

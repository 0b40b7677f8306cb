//! The facilitator network's rules: kinds, statuses and their transitions, identifiers
//! (SIRET, RNA), territories, venues' coordinates and opening hours.

use cafeia_platform::territory::{Area, Gazetteer, distance_km, in_france};
pub use cafeia_platform::validation::{
    Problems, known_departement, known_region, valid_rna, valid_siret, wire_name,
};

use cafeia_api::vocabulary::from_wire;
pub use cafeia_facilitators_api::{FacilitatorKind, FacilitatorStatus, OrganisationKind};
use cafeia_platform::{AppError, ErrorCode, errors::AppResult};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A structure's SIRET: the platform's check (14 digits and their Luhn key, La Poste's
/// establishments aside) and a real SIREN in its first nine digits, with its own key.
pub fn valid_organisation_siret(siret: &str) -> bool {
    valid_siret(siret) && cafeia_platform::validation::valid_siren(&siret[..9])
}

/// A write a unique index refused (an account registered twice, a SIRET or RNA already known,
/// an import source id written meanwhile by another import) as `ALREADY_EXISTS`, saying what
/// exists; any other database error as usual.
pub fn already_exists(err: sea_orm::DbErr, what: &str) -> AppError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            AppError::new(ErrorCode::AlreadyExists, what)
        }
        _ => err.into(),
    }
}

/// Checks that an organisation a facilitator or a venue names exists (a foreign key refuses it
/// otherwise, as an internal error rather than the caller's mistake).
pub async fn known_organisation<C: ConnectionTrait>(
    conn: &C,
    id: Option<Uuid>,
    problems: &mut Problems,
) -> AppResult<()> {
    if let Some(id) = id {
        let exists = crate::storage::organisation::Entity::find_by_id(id)
            .count(conn)
            .await?
            > 0;
        problems.check(exists, "organisation_id", "structure inconnue");
    }
    Ok(())
}

/// A staff decision on a facilitator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Verify,
    Suspend,
    Reinstate,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Verify => "verify",
            Decision::Suspend => "suspend",
            Decision::Reinstate => "reinstate",
        }
    }

    /// The status a decision leads to from `from`, or why it cannot apply (an
    /// `INVALID_TRANSITION`).
    pub fn apply(self, from: FacilitatorStatus) -> Result<FacilitatorStatus, &'static str> {
        match (self, from) {
            (Decision::Verify, FacilitatorStatus::Pending) => Ok(FacilitatorStatus::Verified),
            (Decision::Verify, FacilitatorStatus::Verified) => Err("déjà vérifié·e"),
            (Decision::Verify, FacilitatorStatus::Suspended) => {
                Err("suspendu·e : utilisez la réintégration")
            }
            (Decision::Suspend, FacilitatorStatus::Pending | FacilitatorStatus::Verified) => {
                Ok(FacilitatorStatus::Suspended)
            }
            (Decision::Suspend, FacilitatorStatus::Suspended) => Err("déjà suspendu·e"),
            (Decision::Reinstate, FacilitatorStatus::Suspended) => Ok(FacilitatorStatus::Verified),
            (Decision::Reinstate, _) => {
                Err("seul·e un·e animateur·rice suspendu·e peut être réintégré·e")
            }
        }
    }
}

/// Resolves a list of served territories (commune or département INSEE codes) to their areas.
pub fn territories(codes: &[String], field: &str, problems: &mut Problems) -> Vec<Area> {
    let gazetteer = Gazetteer::get();
    if codes.is_empty() {
        problems.add(
            field,
            "au moins un territoire (commune ou département) est requis",
        );
    }
    if codes.len() > 200 {
        problems.add(field, "au plus 200 territoires");
        return Vec::new();
    }
    let mut areas = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        match gazetteer.area(code.trim()) {
            Some(area) => areas.push(area),
            None => problems.add(
                &format!("{field}[{i}]"),
                format!("code INSEE inconnu : {code:?}"),
            ),
        }
    }
    areas.sort_by(|a, b| a.departement.cmp(&b.departement));
    areas.dedup();
    areas
}

pub use cafeia_platform::vocabulary::{TOPICS, languages, topics};

/// Checks a venue's position: in France, and within 30 km of its commune's centre (a swapped
/// latitude/longitude or a wrong commune is caught here).
pub fn venue_position(lat: f64, lon: f64, insee: &str, problems: &mut Problems) {
    if !in_france(lat, lon) {
        problems.add(
            "latitude",
            "les coordonnées ne sont pas en France (métropole ou outre-mer)",
        );
        return;
    }
    if let Some(c) = Gazetteer::get().commune(insee) {
        let d = distance_km((lat, lon), (c.lat, c.lon));
        if d > 30.0 {
            problems.add(
                "latitude",
                format!(
                    "à {d:.0} km de {} : coordonnées ou commune erronées",
                    c.name
                ),
            );
        }
    }
}

/// Validates OSM `opening_hours` syntax (e.g. `Mo-Fr 09:00-12:00,14:00-17:30; Sa 10:00-12:00`).
pub fn opening_hours(value: &str, problems: &mut Problems) -> Option<String> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.len() > 500 {
        problems.add("opening_hours", "au plus 500 caractères");
        return None;
    }
    match opening_hours_syntax::parse(value) {
        Ok(_) => Some(value.to_owned()),
        Err(_) => {
            problems.add(
                "opening_hours",
                "syntaxe OpenStreetMap opening_hours invalide (ex. « Mo-Fr 09:00-12:00,14:00-17:30 »)",
            );
            None
        }
    }
}

/// Accessibility features a venue may offer, by their wire names (`wheelchair`…), which the
/// REST shapes carry as strings and storage keeps in a JSON list. Declared in the order of
/// those names, so a sorted list reads alphabetically.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Accessibility {
    /// Toilettes adaptées.
    AdaptedToilets,
    /// Facile à lire et à comprendre (easy-to-read material).
    EasyRead,
    /// Boucle magnétique (hearing loop).
    HearingLoop,
    /// Langue des signes française (French Sign Language).
    Lsf,
    /// Aides visuelles.
    VisualAids,
    /// Accès en fauteuil roulant.
    Wheelchair,
}

impl Accessibility {
    /// Every feature, in the order the error messages list them.
    pub const ALL: [Accessibility; 6] = [
        Accessibility::Wheelchair,
        Accessibility::HearingLoop,
        Accessibility::Lsf,
        Accessibility::EasyRead,
        Accessibility::AdaptedToilets,
        Accessibility::VisualAids,
    ];

    /// The wire names of `features`, as the REST shapes and messages carry them.
    pub fn names(features: &[Accessibility]) -> Vec<String> {
        features.iter().map(wire_name).collect()
    }
}

pub fn accessibility(values: &[String], problems: &mut Problems) -> Vec<Accessibility> {
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match from_wire::<Accessibility>(v) {
            Some(feature) => out.push(feature),
            None => problems.add(
                &format!("accessibility[{i}]"),
                format!(
                    "valeur inconnue : {v:?} (valeurs : {})",
                    Accessibility::names(&Accessibility::ALL).join(", ")
                ),
            ),
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_transitions() {
        assert_eq!(
            Decision::Verify.apply(FacilitatorStatus::Pending),
            Ok(FacilitatorStatus::Verified)
        );
        assert_eq!(
            Decision::Suspend.apply(FacilitatorStatus::Verified),
            Ok(FacilitatorStatus::Suspended)
        );
        assert_eq!(
            Decision::Reinstate.apply(FacilitatorStatus::Suspended),
            Ok(FacilitatorStatus::Verified)
        );
        assert!(
            Decision::Reinstate
                .apply(FacilitatorStatus::Verified)
                .is_err()
        );
        assert!(
            Decision::Verify
                .apply(FacilitatorStatus::Suspended)
                .is_err()
        );
        assert!(
            Decision::Suspend
                .apply(FacilitatorStatus::Suspended)
                .is_err()
        );
    }

    #[test]
    fn opening_hours_are_checked() {
        let mut p = Problems::default();
        assert_eq!(
            opening_hours("Mo-Fr 09:00-12:00,14:00-17:30; Sa 10:00-12:00", &mut p).as_deref(),
            Some("Mo-Fr 09:00-12:00,14:00-17:30; Sa 10:00-12:00")
        );
        assert!(p.0.is_empty());
        assert_eq!(opening_hours("lundi matin", &mut p), None);
        assert_eq!(p.0[0].field, "opening_hours");
    }
}

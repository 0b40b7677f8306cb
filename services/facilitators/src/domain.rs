//! The facilitator network's rules: kinds, statuses and their transitions, identifiers
//! (SIRET, RNA), territories, venues' coordinates and opening hours.

use cafeia_platform::territory::{Area, Gazetteer, distance_km, in_france};
pub use cafeia_platform::validation::{
    Problems, known_departement, known_region, valid_rna, valid_siret, wire_name,
};
use serde::{Deserialize, Serialize};

/// What kind of facilitator runs cafés.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FacilitatorKind {
    ConseillerNumerique,
    MediateurNumerique,
    Bibliothecaire,
    Benevole,
    Formateur,
    AgentPublic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Verified,
    Suspended,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Verified => "verified",
            Status::Suspended => "suspended",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [Status::Pending, Status::Verified, Status::Suspended]
            .into_iter()
            .find(|st| st.as_str() == s)
    }
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

    /// The status a decision leads to from `from`, or why it cannot apply.
    pub fn apply(self, from: Status) -> Result<Status, &'static str> {
        match (self, from) {
            (Decision::Verify, Status::Pending) => Ok(Status::Verified),
            (Decision::Verify, Status::Verified) => Err("déjà vérifié·e"),
            (Decision::Verify, Status::Suspended) => Err("suspendu·e : utilisez la réintégration"),
            (Decision::Suspend, Status::Pending | Status::Verified) => Ok(Status::Suspended),
            (Decision::Suspend, Status::Suspended) => Err("déjà suspendu·e"),
            (Decision::Reinstate, Status::Suspended) => Ok(Status::Verified),
            (Decision::Reinstate, _) => {
                Err("seul·e un·e animateur·rice suspendu·e peut être réintégré·e")
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    FranceServices,
    Mediatheque,
    Association,
    Collectivite,
    Entreprise,
    EtablissementScolaire,
    TiersLieu,
    AutreStructurePublique,
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

/// Accessibility features a venue may offer.
pub const ACCESSIBILITY: [&str; 6] = [
    "wheelchair",
    "hearing_loop",
    "lsf",
    "easy_read",
    "adapted_toilets",
    "visual_aids",
];

pub fn accessibility(values: &[String], problems: &mut Problems) -> Vec<String> {
    let mut out = Vec::new();
    for (i, v) in values.iter().enumerate() {
        if ACCESSIBILITY.contains(&v.as_str()) {
            out.push(v.clone());
        } else {
            problems.add(
                &format!("accessibility[{i}]"),
                format!(
                    "valeur inconnue : {v:?} (valeurs : {})",
                    ACCESSIBILITY.join(", ")
                ),
            );
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
            Decision::Verify.apply(Status::Pending),
            Ok(Status::Verified)
        );
        assert_eq!(
            Decision::Suspend.apply(Status::Verified),
            Ok(Status::Suspended)
        );
        assert_eq!(
            Decision::Reinstate.apply(Status::Suspended),
            Ok(Status::Verified)
        );
        assert!(Decision::Reinstate.apply(Status::Verified).is_err());
        assert!(Decision::Verify.apply(Status::Suspended).is_err());
        assert!(Decision::Suspend.apply(Status::Suspended).is_err());
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

//! What the events endpoints take in their query strings.

use crate::enums::SessionStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use uuid::Uuid;

/// Most ids one batch look-up takes.
pub const MAX_BATCH_IDS: usize = 100;
/// Most sessions a batch look-up by venue or facilitator answers for each id.
pub const UPCOMING_PER_GROUP: usize = 20;

/// Which public sessions to list (also the public calendar feed's filter).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// INSEE code of the département (e.g. `69`, `2A`).
    pub departement: Option<String>,
    /// A topic of the shared vocabulary.
    pub topic: Option<String>,
    /// Sessions starting at or after (RFC 3339); default now.
    pub from: Option<DateTime<Utc>>,
    /// Sessions starting before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Sessions of one series.
    pub series_id: Option<Uuid>,
    /// `published` (default), `cancelled` or `completed`.
    pub status: Option<SessionStatus>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size (1 to 100, default 20).
    pub limit: Option<u64>,
}

/// One page of a list that takes no filter ("my sessions", "my registrations", a roll).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page (or the id of any item, to resume after it).
    pub cursor: Option<String>,
    /// Page size (1 to 100, default 20).
    pub limit: Option<u64>,
}

/// A batch look-up: `ids=<uuid>,<uuid>,…` (at most [`MAX_BATCH_IDS`]); unknown ids are
/// simply absent from the answer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// Comma-separated UUIDs, 100 at most.
    #[cfg_attr(feature = "openapi", param(value_type = String, example = "0193a7c4-5b1e-7d2a-9f00-2c1d3e4f5a6b,0193a7c4-5b1e-7d2a-9f00-2c1d3e4f5a6c"))]
    pub ids: Ids,
}

/// UUIDs travelling as one comma-separated query parameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids(pub Vec<Uuid>);

impl Serialize for Ids {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text: Vec<String> = self.0.iter().map(Uuid::to_string).collect();
        serializer.serialize_str(&text.join(","))
    }
}

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Ids;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("UUIDs separated by commas")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Ids, E> {
                text.split(',')
                    .map(str::trim)
                    .filter(|part| !part.is_empty())
                    .map(|part| {
                        Uuid::parse_str(part)
                            .map_err(|_| E::custom(format!("identifiant invalide : {part:?}")))
                    })
                    .collect::<Result<Vec<_>, E>>()
                    .map(Ids)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A new session is a draft, or published straight away with `publish`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct CreateQuery {
    /// Publish at once (verified facilitators only).
    #[serde(default)]
    pub publish: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_as_one_comma_separated_parameter() {
        let ids = Ids(vec![Uuid::now_v7(), Uuid::now_v7()]);
        let json = serde_json::to_value(&ids).expect("serialize");
        assert_eq!(json, format!("{},{}", ids.0[0], ids.0[1]));
        let back: Ids = serde_json::from_value(json).expect("deserialize");
        assert_eq!(back, ids);
        let empty: Ids = serde_json::from_value(serde_json::json!("")).expect("empty");
        assert!(empty.0.is_empty());
        assert!(serde_json::from_value::<Ids>(serde_json::json!("nope")).is_err());
    }
}

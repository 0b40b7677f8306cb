//! Look-ups of many items at once (`…/batch?ids=<uuid>,<uuid>`, `…/by-venue?ids=…`): the
//! gateway's DataLoaders gather every look-up of one kind in a GraphQL request into one call.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use uuid::Uuid;

/// At most this many ids per call; typed clients split longer lists ([`chunks`]).
pub const MAX_BATCH: usize = 100;

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
                        Uuid::parse_str(part).map_err(|_| {
                            E::custom(format!("identifiant invalide (UUID attendu) : {part:?}"))
                        })
                    })
                    .collect::<Result<Vec<_>, E>>()
                    .map(Ids)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// The query of a batch look-up. The answer holds the items found that the caller may see, in
/// no particular order; unknown (or hidden) ids are simply absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// Identifiers, comma-separated (at most 100; repeated ones count once; none answers an
    /// empty list).
    #[cfg_attr(
        feature = "openapi",
        param(
            value_type = String,
            pattern = "^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}){0,99})?$",
            example = "0190a4e2-7b1c-7cc3-9d2e-5f8a1b2c3d4e,0190a4e2-7b1c-7cc3-9d2e-5f8a1b2c3d4f"
        )
    )]
    pub ids: Ids,
}

impl BatchQuery {
    pub fn new(ids: &[Uuid]) -> Self {
        Self {
            ids: Ids(ids.to_vec()),
        }
    }

    /// The ids asked for, each once, in the order asked; `Err` (the reason, in French) beyond
    /// [`MAX_BATCH`].
    pub fn distinct(&self) -> Result<Vec<Uuid>, String> {
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<Uuid> = self
            .ids
            .0
            .iter()
            .copied()
            .filter(|id| seen.insert(*id))
            .collect();
        if ids.len() > MAX_BATCH {
            return Err(format!("au plus {MAX_BATCH} identifiants par appel"));
        }
        Ok(ids)
    }
}

/// Splits a long list into calls of at most [`MAX_BATCH`] ids.
pub fn chunks(ids: &[Uuid]) -> impl Iterator<Item = BatchQuery> + '_ {
    ids.chunks(MAX_BATCH).map(BatchQuery::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_comma_separated_and_are_counted_once() {
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let query = BatchQuery::new(&[a, b, a]);
        let json = serde_json::to_value(&query).expect("serialise");
        assert_eq!(json["ids"], format!("{a},{b},{a}"));
        let back: BatchQuery = serde_json::from_value(json).expect("deserialise");
        assert_eq!(back.distinct(), Ok(vec![a, b]));
        let empty: BatchQuery = serde_json::from_value(serde_json::json!({"ids": ""})).expect("");
        assert!(empty.ids.0.is_empty());
        assert!(serde_json::from_value::<BatchQuery>(serde_json::json!({"ids": "x"})).is_err());
        let many: Vec<Uuid> = (0..=MAX_BATCH).map(|_| Uuid::now_v7()).collect();
        assert!(BatchQuery::new(&many).distinct().is_err());
        assert_eq!(chunks(&many).count(), 2);
    }
}

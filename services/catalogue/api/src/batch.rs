//! Look-ups of many items at once (`…/batch?ids=<uuid>,<uuid>`): the gateway's DataLoaders
//! gather every look-up of one kind in a GraphQL request into one such call.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// At most this many ids per batch call; the typed client splits longer lists.
pub const MAX_BATCH: usize = 100;

/// The ids to look up. The answer holds the items found that the caller may see, in no
/// particular order; unknown (or hidden) ids are simply absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::IntoParams),
    into_params(parameter_in = Query)
)]
#[serde(deny_unknown_fields)]
pub struct BatchQuery {
    /// Identifiers, comma-separated (at most 100).
    #[serde(serialize_with = "comma_separated", deserialize_with = "split_commas")]
    #[cfg_attr(
        feature = "openapi",
        param(
            value_type = String,
            example = "0190a4e2-7b1c-7cc3-9d2e-5f8a1b2c3d4e,0190a4e2-7b1c-7cc3-9d2e-5f8a1b2c3d4f"
        )
    )]
    pub ids: Vec<Uuid>,
}

fn comma_separated<S: Serializer>(ids: &[Uuid], s: S) -> Result<S::Ok, S::Error> {
    let text = ids
        .iter()
        .map(Uuid::to_string)
        .collect::<Vec<_>>()
        .join(",");
    s.serialize_str(&text)
}

fn split_commas<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Uuid>, D::Error> {
    let text = String::deserialize(d)?;
    text.split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            Uuid::parse_str(id).map_err(|_| {
                serde::de::Error::custom(format!("identifiant invalide (UUID attendu) : {id:?}"))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_travel_comma_separated() {
        let ids = vec![Uuid::now_v7(), Uuid::now_v7()];
        let query = BatchQuery { ids: ids.clone() };
        let text = serde_json::to_value(&query).expect("serialises");
        assert_eq!(text["ids"], format!("{},{}", ids[0], ids[1]));
        let back: BatchQuery = serde_json::from_value(text).expect("deserialises");
        assert_eq!(back, query);
        let bad = serde_json::from_value::<BatchQuery>(serde_json::json!({"ids": "x"}));
        assert!(bad.is_err());
        let empty: BatchQuery =
            serde_json::from_value(serde_json::json!({"ids": ""})).expect("empty");
        assert!(empty.ids.is_empty());
    }
}

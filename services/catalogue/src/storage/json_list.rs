//! A column holding a list as JSON text (`["general_public","seniors"]`, `TEXT` on both
//! backends, as the first migration made it), read as a typed list. Text that is not a JSON
//! list of that type (a value this service never writes, or corrupt text) fails the read with
//! an error naming the column, never an empty or shortened list.
//!
//! sea-orm's `FromJsonQueryResult` would need `json`/`jsonb` columns on PostgreSQL (sqlx refuses
//! to decode `TEXT` as JSON there), and the lists are matched with `LIKE '%"value"%'`: hence
//! this wrapper over the columns as they are.

use sea_orm::{
    ColIdx, ColumnTrait, DbErr, QueryResult, TryGetError, TryGetable,
    sea_query::{ArrayType, ColumnType, Expr, Nullable, Value, ValueType, ValueTypeErr},
};
use serde::{Serialize, de::DeserializeOwned};

/// A list stored as the JSON text of its elements (enums by their serde names).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonList<T>(pub Vec<T>);

impl<T> From<Vec<T>> for JsonList<T> {
    fn from(values: Vec<T>) -> Self {
        Self(values)
    }
}

impl<T: Serialize> JsonList<T> {
    /// The text stored: the same bytes as the lists written before this type existed.
    fn text(&self) -> String {
        // Strings and enums with serde names always serialise.
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }
}

/// The rows whose list in `column` holds `value`.
pub fn holds<T: Serialize>(column: impl ColumnTrait, value: &T) -> Expr {
    // An element is stored as its JSON text, quotes included, so a value never matches
    // another that merely contains it.
    column.contains(serde_json::to_string(value).unwrap_or_default())
}

fn unreadable(column: &str, text: &str, why: impl std::fmt::Display) -> DbErr {
    DbErr::Type(format!("column {column}: unreadable list {text:?}: {why}"))
}

impl<T: Serialize> From<JsonList<T>> for Value {
    fn from(list: JsonList<T>) -> Self {
        Value::String(Some(list.text()))
    }
}

impl<T: DeserializeOwned> TryGetable for JsonList<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let text = <String as TryGetable>::try_get_by(res, idx)?;
        serde_json::from_str(&text).map(JsonList).map_err(|e| {
            let column = idx
                .as_str()
                .map_or_else(|| format!("{idx:?}"), str::to_owned);
            TryGetError::DbErr(unreadable(&column, &text, e))
        })
    }
}

impl<T: DeserializeOwned> ValueType for JsonList<T> {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(text)) => serde_json::from_str(&text)
                .map(JsonList)
                .map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "JsonList".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl<T> Nullable for JsonList<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl<T: Serialize> sea_orm::IntoActiveValue<JsonList<T>> for JsonList<T> {
    fn into_active_value(self) -> sea_orm::ActiveValue<JsonList<T>> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafeia_catalogue_api::Audience;

    #[test]
    fn lists_are_stored_as_before_and_unknown_values_do_not_read() {
        let list = JsonList(vec![Audience::GeneralPublic, Audience::Seniors]);
        // The text `cafeia_platform::db::list_to_json` wrote for the same wire names.
        assert_eq!(
            list.text(),
            cafeia_platform::db::list_to_json(&["general_public".into(), "seniors".into()])
        );
        let back = <JsonList<Audience> as ValueType>::try_from(Value::from(list.clone()));
        assert_eq!(back.ok(), Some(list));
        for bad in ["[\"martians\"]", "not json", "{}"] {
            assert!(
                <JsonList<Audience> as ValueType>::try_from(Value::String(Some(bad.into())))
                    .is_err(),
                "{bad}"
            );
        }
    }
}

//! A column holding JSON as text (`TEXT` on both backends, as the first migration made it), read
//! as its Rust type. Text that is not valid JSON of that type is an error naming the column,
//! never an empty list.
//!
//! sea-orm's `FromJsonQueryResult` would need `json`/`jsonb` columns on PostgreSQL (sqlx refuses
//! to decode `TEXT` as JSON there), hence this wrapper over the columns as they are.

use sea_orm::{
    ColIdx, DbErr, QueryResult, TryGetError, TryGetable,
    sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr},
};
use serde::{Serialize, de::DeserializeOwned};

/// `T` stored as its JSON text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonText<T>(pub T);

impl<T: Serialize> From<JsonText<T>> for Value {
    fn from(value: JsonText<T>) -> Self {
        // Lists, maps and enums with serde names always serialise.
        Value::String(serde_json::to_string(&value.0).ok())
    }
}

impl<T: DeserializeOwned> TryGetable for JsonText<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let text = <String as TryGetable>::try_get_by(res, idx)?;
        serde_json::from_str(&text).map(JsonText).map_err(|e| {
            let column = idx
                .as_str()
                .map_or_else(|| format!("{idx:?}"), str::to_owned);
            TryGetError::DbErr(DbErr::Type(format!(
                "column {column}: unreadable JSON {text:?}: {e}"
            )))
        })
    }
}

impl<T: DeserializeOwned> ValueType for JsonText<T> {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(text)) => serde_json::from_str(&text)
                .map(JsonText)
                .map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "JsonText".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl<T> Nullable for JsonText<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl<T: Serialize> sea_orm::IntoActiveValue<JsonText<T>> for JsonText<T> {
    fn into_active_value(self) -> sea_orm::ActiveValue<JsonText<T>> {
        sea_orm::ActiveValue::Set(self)
    }
}

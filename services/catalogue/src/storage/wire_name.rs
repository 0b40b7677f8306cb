//! A column holding an enum of the shared vocabulary (`cafeia_api::vocabulary`) that does not
//! derive sea-orm's `DeriveActiveEnum` there (today `Level`), stored as its serde name. A name
//! this service never writes fails the read with an error naming the column and the enum.
//!
//! A stopgap: once the vocabulary derives `DeriveActiveEnum` for the enum behind its `storage`
//! feature (as it does for `Format`), the column takes the enum itself and this goes.

use cafeia_api::vocabulary::{from_wire, wire_name};
use sea_orm::{
    ColIdx, DbErr, QueryResult, TryGetError, TryGetable,
    sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr},
};
use serde::{Serialize, de::DeserializeOwned};

/// An enum stored as the text it travels as (`discovery`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireName<T>(pub T);

fn enum_name<T>() -> &'static str {
    let path = std::any::type_name::<T>();
    path.rsplit("::").next().unwrap_or(path)
}

impl<T: Serialize> From<WireName<T>> for Value {
    fn from(value: WireName<T>) -> Self {
        Value::String(Some(wire_name(&value.0)))
    }
}

impl<T: DeserializeOwned> TryGetable for WireName<T> {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let text = <String as TryGetable>::try_get_by(res, idx)?;
        from_wire(&text).map(WireName).ok_or_else(|| {
            let column = idx
                .as_str()
                .map_or_else(|| format!("{idx:?}"), str::to_owned);
            TryGetError::DbErr(DbErr::Type(format!(
                "column {column}: unexpected value for {} enum: {text}",
                enum_name::<T>()
            )))
        })
    }
}

impl<T: DeserializeOwned> ValueType for WireName<T> {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(text)) => from_wire(&text).map(WireName).ok_or(ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        format!("WireName<{}>", enum_name::<T>())
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::Text
    }
}

impl<T> Nullable for WireName<T> {
    fn null() -> Value {
        Value::String(None)
    }
}

impl<T: Serialize> sea_orm::IntoActiveValue<WireName<T>> for WireName<T> {
    fn into_active_value(self) -> sea_orm::ActiveValue<WireName<T>> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cafeia_api::vocabulary::Level;

    #[test]
    fn stored_as_the_wire_name_and_unknown_names_do_not_read() {
        assert_eq!(
            Value::from(WireName(Level::Discovery)),
            Value::String(Some("discovery".into()))
        );
        let back = <WireName<Level> as ValueType>::try_from("advanced".into());
        assert_eq!(back.ok(), Some(WireName(Level::Advanced)));
        assert!(<WireName<Level> as ValueType>::try_from("expert".into()).is_err());
        assert_eq!(enum_name::<Level>(), "Level");
    }
}

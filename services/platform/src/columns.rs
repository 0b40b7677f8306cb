//! Column types shared by the services' storage.
//!
//! [`JsonText`]: a column holding JSON as text (`TEXT` on both backends, as the services' first
//! migrations made them: lists, maps), read as its Rust type. Text that is not valid JSON of
//! that type is an error naming the column, never an empty list. [`holds`] finds the rows whose
//! list holds a value.
//!
//! sea-orm's `FromJsonQueryResult` would need `json`/`jsonb` columns on PostgreSQL (sqlx refuses
//! to decode `TEXT` as JSON there), and lists are matched with `LIKE '%"value"%'`: hence this
//! wrapper over the columns as they are.

use sea_orm::{
    ColIdx, ColumnTrait, DbErr, QueryResult, TryGetError, TryGetable,
    sea_query::{ArrayType, ColumnType, Expr, Nullable, Value, ValueType, ValueTypeErr},
};
use serde::{Serialize, de::DeserializeOwned};

/// `T` stored as its JSON text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JsonText<T>(pub T);

impl<T> From<T> for JsonText<T> {
    fn from(value: T) -> Self {
        Self(value)
    }
}

/// The rows whose list (a `JsonText<Vec<_>>` column) holds `value`.
pub fn holds<T: Serialize>(column: impl ColumnTrait, value: &T) -> Expr {
    // An element is stored as its JSON text, quotes included (`["seniors","students"]`), so a
    // value never matches another that merely contains it.
    column.contains(serde_json::to_string(value).unwrap_or_default())
}

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

#[cfg(test)]
mod tests {
    use super::{JsonText, holds};
    use sea_orm::{
        DbBackend, EntityTrait, QueryFilter, QueryTrait,
        sea_query::{Value, ValueType},
    };

    #[test]
    fn json_text_round_trips_and_refuses_what_is_not_its_type() {
        let value: Value = JsonText(vec!["a".to_owned(), "b".to_owned()]).into();
        assert_eq!(value, Value::String(Some(r#"["a","b"]"#.to_owned())));
        let back: JsonText<Vec<String>> = ValueType::try_from(value).expect("reads back");
        assert_eq!(back.0, vec!["a", "b"]);
        let bad = Value::String(Some("{not json".to_owned()));
        assert!(<JsonText<Vec<String>> as ValueType>::try_from(bad).is_err());
        let wrong = Value::String(Some("[1, 2]".to_owned()));
        assert!(<JsonText<Vec<String>> as ValueType>::try_from(wrong).is_err());
    }

    mod tagged {
        use super::JsonText;
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
        #[sea_orm(table_name = "tagged")]
        pub struct Model {
            #[sea_orm(primary_key)]
            pub id: i32,
            #[sea_orm(column_type = "Text")]
            pub tags: JsonText<Vec<String>>,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    #[test]
    fn holds_matches_a_whole_element_by_its_json_text() {
        let sql = tagged::Entity::find()
            .filter(holds(tagged::Column::Tags, &"ai"))
            .build(DbBackend::Postgres)
            .to_string();
        // Quotes included: `"ai"` is not found inside `"ai_ethics"`.
        assert!(
            sql.ends_with(r#"WHERE "tagged"."tags" LIKE '%"ai"%'"#),
            "{sql}"
        );
        let stored: Value = JsonText::from(vec!["ai_ethics".to_owned(), "ai".to_owned()]).into();
        assert_eq!(
            stored,
            Value::String(Some(r#"["ai_ethics","ai"]"#.to_owned()))
        );
    }
}

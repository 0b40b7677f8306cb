//! A column holding an IANA time zone by its name (`Europe/Paris`), read as the zone. A name
//! the time-zone database does not know fails the read with an error naming the column, never
//! another zone in its place (local times would move).

use chrono_tz::Tz;
use sea_orm::{
    ColIdx, DbErr, QueryResult, TryGetError, TryGetable,
    sea_query::{ArrayType, ColumnType, Nullable, Value, ValueType, ValueTypeErr},
};

/// The zone a session's local times are in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone(pub Tz);

impl Zone {
    /// Its IANA name, as stored and as it travels.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

impl From<Zone> for Value {
    fn from(zone: Zone) -> Self {
        Value::String(Some(zone.name().to_owned()))
    }
}

impl TryGetable for Zone {
    fn try_get_by<I: ColIdx>(res: &QueryResult, idx: I) -> Result<Self, TryGetError> {
        let text = <String as TryGetable>::try_get_by(res, idx)?;
        text.parse().map(Zone).map_err(|_| {
            let column = idx
                .as_str()
                .map_or_else(|| format!("{idx:?}"), str::to_owned);
            TryGetError::DbErr(DbErr::Type(format!(
                "column {column}: unknown IANA time zone {text:?}"
            )))
        })
    }
}

impl ValueType for Zone {
    fn try_from(v: Value) -> Result<Self, ValueTypeErr> {
        match v {
            Value::String(Some(text)) => text.parse().map(Zone).map_err(|_| ValueTypeErr),
            _ => Err(ValueTypeErr),
        }
    }

    fn type_name() -> String {
        "Zone".to_owned()
    }

    fn array_type() -> ArrayType {
        ArrayType::String
    }

    fn column_type() -> ColumnType {
        ColumnType::String(sea_orm::sea_query::StringLen::N(64))
    }
}

impl Nullable for Zone {
    fn null() -> Value {
        Value::String(None)
    }
}

impl sea_orm::IntoActiveValue<Zone> for Zone {
    fn into_active_value(self) -> sea_orm::ActiveValue<Zone> {
        sea_orm::ActiveValue::Set(self)
    }
}

#[cfg(test)]
mod tests {
    use super::Zone;
    use sea_orm::sea_query::{Value, ValueType};

    #[test]
    fn stored_by_its_name_and_unknown_names_do_not_read() {
        let paris = Zone(chrono_tz::Europe::Paris);
        assert_eq!(
            Value::from(paris),
            Value::String(Some("Europe/Paris".into()))
        );
        let back = <Zone as ValueType>::try_from("America/Cayenne".into());
        assert_eq!(back.ok(), Some(Zone(chrono_tz::America::Cayenne)));
        assert!(<Zone as ValueType>::try_from("Europe/Lutece".into()).is_err());
    }
}

//! Third migration: the history keeps nothing that leads to a facilitator. Their states used
//! to be kept as they came, with their name and account link; the rows already there lose
//! both here (the figures never read them), as [`crate::ingest`] now drops them on arrival.

use crate::storage::history;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use sea_orm_migration::prelude::*;

pub struct AnonymousHistory;

impl MigrationName for AnonymousHistory {
    fn name(&self) -> &str {
        "m20261222_000203_outreach_anonymous_history"
    }
}

/// A facilitator message's `data` without the name and with an empty account link; `None`
/// when it held neither.
pub fn anonymised(data: &str) -> Result<Option<String>, DbErr> {
    let mut value: serde_json::Value = serde_json::from_str(data)
        .map_err(|e| DbErr::Migration(format!("history data is not JSON: {e}")))?;
    let Some(fields) = value.as_object_mut() else {
        return Ok(None);
    };
    let named = fields.remove("display_name").is_some();
    let linked = fields
        .get("account")
        .is_some_and(|a| a.as_str() != Some(""));
    if linked {
        fields.insert("account".into(), serde_json::Value::String(String::new()));
    }
    if !(named || linked) {
        return Ok(None);
    }
    serde_json::to_string(&value)
        .map(Some)
        .map_err(|e| DbErr::Migration(format!("cannot encode history data: {e}")))
}

#[async_trait::async_trait]
impl MigrationTrait for AnonymousHistory {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let rows = history::Entity::find()
            .filter(history::Column::Kind.starts_with("fr.cafeia.facilitators.facilitator."))
            .all(db)
            .await?;
        for row in rows {
            if let Some(data) = anonymised(&row.data)? {
                history::ActiveModel {
                    seq: Set(row.seq),
                    data: Set(data),
                    ..Default::default()
                }
                .update(db)
                .await?;
            }
        }
        Ok(())
    }
}

//! Reading a service's own rows. A stored value that does not read (an enum value the service
//! never writes, a list that is not JSON of its type, an unknown time zone) fails the read with
//! an error naming the table and the column or its enum: the handler answers `INTERNAL` and
//! logs it, and the rows that read well stay readable. Never a default in place of what is
//! stored.

use crate::AppError;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Select};
use std::future::Future;

/// `one`/`all` of a query on one of the service's tables, naming the table when a stored value
/// does not read.
pub trait Rows<E: EntityTrait> {
    /// The first row the query finds, if any.
    fn row<C: ConnectionTrait>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<Option<E::Model>, DbErr>> + Send;

    /// Every row the query finds.
    fn rows<C: ConnectionTrait>(
        self,
        conn: &C,
    ) -> impl Future<Output = Result<Vec<E::Model>, DbErr>> + Send;
}

impl<E: EntityTrait> Rows<E> for Select<E>
where
    E::Model: Send + Sync,
{
    async fn row<C: ConnectionTrait>(self, conn: &C) -> Result<Option<E::Model>, DbErr> {
        self.one(conn).await.map_err(unreadable::<E>)
    }

    async fn rows<C: ConnectionTrait>(self, conn: &C) -> Result<Vec<E::Model>, DbErr> {
        self.all(conn).await.map_err(unreadable::<E>)
    }
}

/// A decoding error with the table of `E` it came from (for rows read otherwise than by
/// [`Rows`]: `UPDATE … RETURNING`); other errors (connection, SQL) unchanged.
pub fn unreadable<E: EntityTrait>(err: DbErr) -> DbErr {
    in_table(E::default().table_name(), err)
}

/// A decoding error with the table (or tables, for a join) it came from; other errors
/// (connection, SQL) unchanged, so a lost connection still answers "unavailable".
pub fn in_table(table: &str, err: DbErr) -> DbErr {
    match err {
        DbErr::Type(why) => DbErr::Type(format!("table {table}: {why}")),
        DbErr::Json(why) => DbErr::Type(format!("table {table}: {why}")),
        DbErr::TryIntoErr { from, into, source } => {
            DbErr::Type(format!("table {table}: {from} into {into}: {source}"))
        }
        other => other,
    }
}

/// Columns of one row that disagree with each other (every column read, but not as the code
/// writes them together): the same internal error as a value that does not read.
pub fn corrupt(table: &str, id: impl std::fmt::Display, why: impl std::fmt::Display) -> AppError {
    AppError::internal(format!("table {table}: row {id}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{ActiveModelTrait, Database, Schema, Set};

    mod item {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum Colour {
            #[sea_orm(string_value = "red")]
            Red,
        }

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "item")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: i32,
            pub colour: Colour,
        }

        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    }

    #[tokio::test]
    async fn a_value_that_does_not_read_names_its_table_and_the_others_still_read() {
        let db = Database::connect("sqlite::memory:").await.expect("db");
        let schema = Schema::new(db.get_database_backend());
        db.execute(&schema.create_table_from_entity(item::Entity))
            .await
            .expect("table");
        item::ActiveModel {
            id: Set(1),
            colour: Set(item::Colour::Red),
        }
        .insert(&db)
        .await
        .expect("row");
        db.execute_unprepared("INSERT INTO item (id, colour) VALUES (2, 'mauve')")
            .await
            .expect("a damaged row");

        let sound = item::Entity::find_by_id(1).row(&db).await.expect("reads");
        assert_eq!(sound.map(|m| m.colour), Some(item::Colour::Red));
        let err = item::Entity::find()
            .rows(&db)
            .await
            .expect_err("the damaged row");
        assert!(
            matches!(&err, DbErr::Type(why) if why.starts_with("table item: ")),
            "{err}"
        );
        assert!(
            err.to_string().contains("mauve") || err.to_string().contains("Colour"),
            "{err}"
        );
    }

    #[test]
    fn other_errors_stay_what_they_were() {
        let err = in_table("item", DbErr::Custom("lost".into()));
        assert!(matches!(err, DbErr::Custom(_)), "{err}");
        let json = in_table("item", DbErr::Json("expected a list".into()));
        assert_eq!(
            json.to_string(),
            DbErr::Type("table item: expected a list".into()).to_string()
        );
    }
}

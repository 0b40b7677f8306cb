//! Reading this service's rows. A stored value that does not read (an enum value this service
//! never writes, a list that is not JSON of its type) fails the read with an error naming the
//! table and the column or its enum: the handler answers `INTERNAL` and logs it, and the rows
//! that read well stay readable. Never a default in place of what is stored.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Select};
use std::future::Future;

/// `one`/`all` of a query on one of this service's tables, naming the table when a stored
/// value does not read.
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
        self.one(conn).await.map_err(in_table::<E>)
    }

    async fn rows<C: ConnectionTrait>(self, conn: &C) -> Result<Vec<E::Model>, DbErr> {
        self.all(conn).await.map_err(in_table::<E>)
    }
}

/// A decoding error with the table it came from; other errors (connection, SQL) unchanged.
fn in_table<E: EntityTrait>(err: DbErr) -> DbErr {
    match err {
        DbErr::Type(why) => DbErr::Type(format!("table {}: {why}", E::default().table_name())),
        DbErr::TryIntoErr { from, into, source } => DbErr::Type(format!(
            "table {}: {from} into {into}: {source}",
            E::default().table_name()
        )),
        other => other,
    }
}

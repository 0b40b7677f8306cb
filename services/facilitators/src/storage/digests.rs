//! Fifth migration: what the digest of a session's registrations needs ([`crate::digests`]).
//!
//! - `digest_session`: the events service's sessions as the bus tells them (public state and
//!   seat counters, no registrant), one row per session, with `digest_at` once its digest was
//!   queued (or passed over: no address, opted out), so each session gets one at most.
//! - `digest_link`: the digests' one-click unsubscription tokens (their SHA-256 only) and
//!   whether the facilitator used one (`stopped_at`). Erasing a facilitator deletes theirs.

use cafeia_platform::db::columns::{
    big_int, id, index, int, short, text, text_null, timestamp, timestamp_null,
};
use sea_orm_migration::prelude::*;

pub struct Digests;

impl MigrationName for Digests {
    fn name(&self) -> &str {
        "m20270501_000105_facilitators_digests"
    }
}

#[derive(DeriveIden)]
enum DigestSession {
    Table,
    SessionId,
    FacilitatorId,
    Revision,
    Status,
    Title,
    StartsAt,
    Timezone,
    Place,
    Capacity,
    Confirmed,
    Waitlisted,
    SeatsRevision,
    DigestAt,
}

#[derive(DeriveIden)]
enum DigestLink {
    Table,
    TokenHash,
    FacilitatorId,
    CreatedAt,
    StoppedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Digests {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DigestSession::Table)
                .col(id(DigestSession::SessionId))
                .col(
                    ColumnDef::new(DigestSession::FacilitatorId)
                        .uuid()
                        .not_null(),
                )
                .col(int(DigestSession::Revision))
                .col(short(DigestSession::Status, 20))
                .col(text(DigestSession::Title))
                .col(timestamp(DigestSession::StartsAt))
                .col(short(DigestSession::Timezone, 64))
                .col(text_null(DigestSession::Place))
                .col(ColumnDef::new(DigestSession::Capacity).integer().null())
                .col(int(DigestSession::Confirmed))
                .col(int(DigestSession::Waitlisted))
                .col(big_int(DigestSession::SeatsRevision))
                .col(timestamp_null(DigestSession::DigestAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "digest_session",
            "idx_digest_session_due",
            &["digest_at", "starts_at"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(DigestLink::Table)
                .col(
                    ColumnDef::new(DigestLink::TokenHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(DigestLink::FacilitatorId).uuid().not_null())
                .col(timestamp(DigestLink::CreatedAt))
                .col(timestamp_null(DigestLink::StoppedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "digest_link",
            "idx_digest_link_facilitator",
            &["facilitator_id"],
        ))
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(DigestLink::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DigestSession::Table).to_owned())
            .await
    }
}

/// A session as the bus told it.
pub mod session {
    use cafeia_events_api::SessionStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "digest_session")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        /// The lead facilitator: who gets the digest.
        pub facilitator_id: Uuid,
        /// The session's revision last applied; an older message changes nothing.
        pub revision: i32,
        pub status: SessionStatus,
        pub title: String,
        pub starts_at: DateTimeUtc,
        /// IANA zone the times are read in.
        pub timezone: String,
        /// The venue's name and address, for in-person and hybrid sessions.
        pub place: Option<String>,
        pub capacity: Option<i32>,
        pub confirmed: i32,
        pub waitlisted: i32,
        /// The revision of the counters held ([`cafeia_events_api::messages::SeatsChanged`]).
        pub seats_revision: i64,
        /// When its digest was queued or passed over; `None` until then.
        pub digest_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A digest's unsubscription token.
pub mod link {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "digest_link")]
    pub struct Model {
        /// SHA-256 of the token, hex.
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub facilitator_id: Uuid,
        pub created_at: DateTimeUtc,
        /// When the facilitator used it to stop digests.
        pub stopped_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

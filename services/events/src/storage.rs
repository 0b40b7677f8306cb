//! The events database: the platform's outbox and inbox first, then the replicas of what the
//! facilitators service publishes (facilitator status, venues), sessions, registrations,
//! attendance reports and citizens' private calendar feeds, then the foreign keys between them
//! ([`foreign_keys`]), then the mail outbox and what registering with an email needs to be
//! confirmed ([`mail_outbox`]), then the replica without facilitators' names
//! ([`replica_without_names`]: they are read from the facilitators service when shown), then
//! what the mail to registrants needs ([`notifications`]: the links of later mails, reminders
//! turned off), then one token kept per mail rather than per kind ([`mail_links_kept`]).
//!
//! Columns are typed: statuses, kinds, formats, levels and registration modes are the
//! contracts' enums (stored as their wire names), lists and counts per category are JSON text
//! read as their Rust type ([`JsonText`]), a session's time zone is an IANA zone ([`Zone`]). A
//! stored value the code does not know fails the read with an error naming the table
//! ([`Rows`], [`unreadable`]) and the column or its enum, never a default.

mod foreign_keys;
mod mail_links_kept;
mod mail_outbox;
mod notifications;
mod replica_without_names;
mod zone;

pub use cafeia_platform::columns::JsonText;
pub use cafeia_platform::stored::{Rows, corrupt, in_table, unreadable};
pub use zone::Zone;

use cafeia_platform::db::columns::{
    big_int, id, index, int, short, short_null, text, text_null, timestamp, timestamp_null,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut migrations = cafeia_platform::db::platform_migrations();
        migrations.push(Box::new(CreateEvents));
        migrations.push(Box::new(SessionVenueIndex));
        migrations.push(Box::new(foreign_keys::EventsForeignKeys));
        migrations.push(Box::new(mail_outbox::MailOutbox));
        migrations.push(Box::new(replica_without_names::ReplicaWithoutNames));
        migrations.push(Box::new(notifications::Notifications));
        migrations.push(Box::new(mail_links_kept::MailLinksKept));
        migrations
    }
}

/// Facilitators as the facilitators service last announced them (no name: see
/// [`crate::names`]).
pub mod facilitator {
    use cafeia_facilitators_api::{FacilitatorKind, FacilitatorStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "facilitator_replica")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        /// `auth::account_key` of the facilitator's account: how a caller is recognised.
        pub account: String,
        pub kind: FacilitatorKind,
        pub status: FacilitatorStatus,
        /// Time of the message this row reflects; older messages arriving late are ignored.
        pub as_of: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Venues as the facilitators service last announced them.
pub mod venue {
    use super::JsonText;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "venue_replica")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub name: String,
        pub address: String,
        pub postcode: String,
        pub insee: String,
        pub departement: String,
        pub region: String,
        pub lat: f64,
        pub lon: f64,
        /// Accessibility features, as the facilitators service names them.
        pub accessibility: JsonText<Vec<String>>,
        pub capacity: Option<i32>,
        pub removed: bool,
        pub as_of: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod session {
    use super::{JsonText, Zone};
    use cafeia_api::vocabulary::{Audience, Format, Level};
    use cafeia_events_api::{Accessibility, RegistrationMode, SessionStatus};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "session")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub series_id: Option<Uuid>,
        pub title: String,
        pub description: String,
        /// Educational modules of the catalogue used in the session.
        pub modules: JsonText<Vec<Uuid>>,
        /// Topics of the shared vocabulary (matched with `LIKE '%"topic"%'`).
        pub topics: JsonText<Vec<String>>,
        pub audiences: JsonText<Vec<Audience>>,
        /// Language codes of the shared vocabulary.
        pub languages: JsonText<Vec<String>>,
        pub accessibility: JsonText<Vec<Accessibility>>,
        /// Facilitators running it with `facilitator_id` (matched with `LIKE '%<id>%'`).
        pub co_facilitators: JsonText<Vec<Uuid>>,
        pub facilitator_id: Uuid,
        pub format: Format,
        pub level: Level,
        pub registration_mode: RegistrationMode,
        pub waitlist_enabled: bool,
        pub venue_id: Option<Uuid>,
        /// Copied from the venue when the session is saved, so feeds and filters need no join.
        pub place_name: Option<String>,
        pub address: Option<String>,
        pub insee: Option<String>,
        pub departement: Option<String>,
        pub region: Option<String>,
        pub lat: Option<f64>,
        pub lon: Option<f64>,
        pub online_url: Option<String>,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        /// The zone its local times are in.
        pub timezone: Zone,
        pub capacity: Option<i32>,
        /// Counters kept in step with the registration rows in the same transaction.
        pub confirmed: i32,
        pub waitlisted: i32,
        /// Registrations ever received: the arrival order of the next one.
        pub arrivals: i64,
        pub status: SessionStatus,
        pub status_reason: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// Sequence of the session's public state (iCalendar SEQUENCE, message ordering).
        pub revision: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod registration {
    use cafeia_events_api::RegistrationStatus;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "registration")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub session_id: Uuid,
        /// Who this is, unique per session while the registration is active: the account key
        /// or the folded email; `cancelled:<id>` once cancelled, so the person may come back.
        pub identity: String,
        pub account: Option<String>,
        pub email: Option<String>,
        pub name: Option<String>,
        pub consent_at: Option<DateTimeUtc>,
        pub status: RegistrationStatus,
        /// Arrival order within the session.
        pub position: i64,
        /// SHA-256 of the anonymous registrant's cancellation token.
        pub token_hash: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub erased_at: Option<DateTimeUtc>,
        /// While unconfirmed: SHA-256 of the token of the confirmation link mailed (the
        /// latest one; each mail carries a new token).
        pub confirm_hash: Option<String>,
        /// While unconfirmed: when the request is erased if nobody confirmed it (never after
        /// the session starts).
        pub confirm_by: Option<DateTimeUtc>,
        /// When the registrant asked for no reminder (the one-click link of a reminder).
        pub reminders_off_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attendance {
    use super::JsonText;
    use sea_orm::entity::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attendance_report")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: Uuid,
        /// 1 for the first report, +1 per correction.
        pub version: i32,
        pub attended: i32,
        pub no_shows: i32,
        pub walk_ins: i32,
        pub first_timers: i32,
        /// Counts per age band, per occupation (categories of `domain`).
        pub age_bands: JsonText<BTreeMap<String, i32>>,
        pub occupations: JsonText<BTreeMap<String, i32>>,
        pub first_reported_at: DateTimeUtc,
        pub reported_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Mail waiting to be sent, written in the transaction of the change it tells about
/// ([`crate::mail`]). Once sent, its recipient and content are blanked.
pub mod mail_message {
    use super::JsonText;
    use cafeia_platform::mail::Attachment;
    use sea_orm::entity::prelude::*;

    /// What a mail is about (its templates, its metrics label). Mail to registrants only so
    /// far; mail to facilitators (verified, suspended, reinstated, the digest of the day
    /// before) gets kinds of its own here, keyed by facilitator or session rather than by
    /// registration (`registration_id` stays empty).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
    pub enum MailKind {
        /// The link confirming a registration made with an email.
        RegistrationConfirmation,
        /// To the owner of an email registered already who asked again: a new cancellation
        /// link.
        AlreadyRegistered,
        /// A seat is held: when, where, how to get there, the cancellation link, the `.ics`.
        SeatConfirmed,
        /// A place in the waiting list, with its position.
        Waitlisted,
        /// From the waiting list to a seat, with « je libère ma place ».
        Promoted,
        /// The session's time or place changed (edits close together make one mail).
        SessionChanged,
        /// The session is cancelled, with the reason (`METHOD:CANCEL`).
        SessionCancelled,
        /// The day before (`events.reminder_hours`), with one-click unsubscription.
        Reminder,
    }

    impl MailKind {
        /// The stored name, also the metrics label.
        pub fn as_str(self) -> &'static str {
            match self {
                MailKind::RegistrationConfirmation => "registration_confirmation",
                MailKind::AlreadyRegistered => "already_registered",
                MailKind::SeatConfirmed => "seat_confirmed",
                MailKind::Waitlisted => "waitlisted",
                MailKind::Promoted => "promoted",
                MailKind::SessionChanged => "session_changed",
                MailKind::SessionCancelled => "session_cancelled",
                MailKind::Reminder => "reminder",
            }
        }
    }

    /// Where a mail stands: the platform's sender reads and marks the rows.
    pub use cafeia_platform::mail::outbox::MailStatus;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_outbox")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub kind: MailKind,
        /// What makes the mail one of a kind: at most one row per key (one per registration
        /// and kind), so asking again re-queues that row instead of adding mail.
        pub dedupe_key: String,
        pub recipient: String,
        pub subject: String,
        pub text: String,
        pub html: Option<String>,
        pub attachments: JsonText<Vec<Attachment>>,
        /// The registration it tells about: its mail goes when it is erased.
        pub registration_id: Option<Uuid>,
        pub status: MailStatus,
        /// Sending attempts that the server refused for now (4xx).
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        /// Why the last attempt failed: a category and an SMTP code, never personal data.
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        /// A reminder's one-click unsubscription address (it holds a token).
        pub list_unsubscribe: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The token of a link in a mail other than a registration's first: only its digest is kept
/// ([`notifications`]).
pub mod mail_link {
    use super::mail_message::MailKind;
    use sea_orm::entity::prelude::*;

    /// What following a mailed link does.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
    pub enum LinkAction {
        /// Cancels the registration (the page asks first), like its first cancellation link.
        Cancel,
        /// Stops the reminders of the registration (RFC 8058 one-click).
        StopReminders,
    }

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mail_link")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub registration_id: Uuid,
        /// The mail that carries it.
        pub kind: MailKind,
        pub action: LinkAction,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A citizen's private calendar feed: the secret travels in the URL, only its digest is kept.
pub mod calendar_feed {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "calendar_feed")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub account: String,
        pub token_hash: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

struct CreateEvents;

impl MigrationName for CreateEvents {
    fn name(&self) -> &str {
        "m20261125_000101_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateEvents {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("facilitator_replica")
                .col(id("id"))
                .col(short("account", 64))
                .col(text("display_name"))
                .col(short("kind", 40))
                .col(short("status", 20))
                .col(timestamp("as_of"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("venue_replica")
                .col(id("id"))
                .col(text("name"))
                .col(text("address"))
                .col(short("postcode", 5))
                .col(short("insee", 5))
                .col(short("departement", 3))
                .col(short("region", 3))
                .col(ColumnDef::new("lat").double().not_null())
                .col(ColumnDef::new("lon").double().not_null())
                .col(text("accessibility"))
                .col(ColumnDef::new("capacity").integer().null())
                .col(ColumnDef::new("removed").boolean().not_null())
                .col(timestamp("as_of"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("session")
                .col(id("id"))
                .col(ColumnDef::new("series_id").uuid().null())
                .col(text("title"))
                .col(text("description"))
                .col(text("modules"))
                .col(text("topics"))
                .col(text("audiences"))
                .col(text("languages"))
                .col(text("accessibility"))
                .col(text("co_facilitators"))
                .col(ColumnDef::new("facilitator_id").uuid().not_null())
                .col(short("format", 20))
                .col(short("level", 20))
                .col(short("registration_mode", 20))
                .col(ColumnDef::new("waitlist_enabled").boolean().not_null())
                .col(ColumnDef::new("venue_id").uuid().null())
                .col(text_null("place_name"))
                .col(text_null("address"))
                .col(short_null("insee", 5))
                .col(short_null("departement", 3))
                .col(short_null("region", 3))
                .col(ColumnDef::new("lat").double().null())
                .col(ColumnDef::new("lon").double().null())
                .col(text_null("online_url"))
                .col(timestamp("starts_at"))
                .col(timestamp("ends_at"))
                .col(short("timezone", 64))
                .col(ColumnDef::new("capacity").integer().null())
                .col(int("confirmed"))
                .col(int("waitlisted"))
                .col(big_int("arrivals"))
                .col(short("status", 20))
                .col(text_null("status_reason"))
                .col(timestamp("created_at"))
                .col(timestamp("updated_at"))
                .col(int("revision"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("registration")
                .col(id("id"))
                .col(ColumnDef::new("session_id").uuid().not_null())
                .col(short("identity", 400))
                .col(short_null("account", 64))
                .col(text_null("email"))
                .col(text_null("name"))
                .col(timestamp_null("consent_at"))
                .col(short("status", 20))
                .col(big_int("position"))
                .col(short_null("token_hash", 64))
                .col(timestamp("created_at"))
                .col(timestamp("updated_at"))
                .col(timestamp_null("erased_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("attendance_report")
                .col(id("session_id"))
                .col(int("version"))
                .col(int("attended"))
                .col(int("no_shows"))
                .col(int("walk_ins"))
                .col(int("first_timers"))
                .col(text("age_bands"))
                .col(text("occupations"))
                .col(timestamp("first_reported_at"))
                .col(timestamp("reported_at"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("calendar_feed")
                .col(
                    ColumnDef::new("account")
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(short("token_hash", 64))
                .col(timestamp("created_at"))
                .to_owned(),
        )
        .await?;
        for statement in [
            index("facilitator_replica", "idx_replica_account", &["account"]),
            index("session", "idx_session_facilitator", &["facilitator_id"]),
            index("session", "idx_session_starts", &["starts_at"]),
            index("session", "idx_session_departement", &["departement"]),
            index("session", "idx_session_series", &["series_id"]),
            index(
                "registration",
                "idx_registration_queue",
                &["session_id", "status", "position"],
            ),
            index("registration", "idx_registration_account", &["account"]),
            index("registration", "idx_registration_token", &["token_hash"]),
        ] {
            m.create_index(statement).await?;
        }
        for statement in [
            index(
                "registration",
                "uq_registration_identity",
                &["session_id", "identity"],
            ),
            index("calendar_feed", "uq_calendar_feed_token", &["token_hash"]),
        ] {
            let mut statement = statement;
            m.create_index(statement.unique().to_owned()).await?;
        }
        Ok(())
    }
}

/// The upcoming sessions of a venue (`GET /v1/sessions/by-venue`) are read by venue and start.
struct SessionVenueIndex;

impl MigrationName for SessionVenueIndex {
    fn name(&self) -> &str {
        "m20270101_000102_events_session_venue"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for SessionVenueIndex {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(index(
            "session",
            "idx_session_venue",
            &["venue_id", "starts_at"],
        ))
        .await
    }
}

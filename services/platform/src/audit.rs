//! Who did what to whom, when, and why: services record staff decisions and edits in the same
//! transaction as the change (the table comes with the platform's migrations).
//!
//! Every entry keeps the actor's token subject and the role they acted in. Staff read the
//! subject; anyone else reads their own entries as they are and other people's by role only
//! ([`Entry::seen_by`]): a provider or a facilitator learns that "staff" decided, never which
//! staff account did.

use crate::auth::{Caller, Role};
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use sea_orm_migration::{MigrationTrait, prelude::*};
use serde::Serialize;
use uuid::Uuid;

/// The role an actor acted in, stored beside their subject (its wire name is the stored text).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
)]
#[serde(rename_all = "snake_case")]
#[sea_orm(rs_type = "String", db_type = "Text", rename_all = "snake_case")]
pub enum ActorRole {
    /// The Café IA team (national staff or a coordinator), or an operator's import.
    Staff,
    Provider,
    Facilitator,
    Citizen,
}

impl ActorRole {
    /// The role a caller acts in: the most powerful one their token holds.
    pub fn of(caller: &Caller) -> Self {
        if caller.has(Role::Staff) {
            Self::Staff
        } else if caller.has(Role::Provider) {
            Self::Provider
        } else if caller.has(Role::Facilitator) {
            Self::Facilitator
        } else {
            Self::Citizen
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Provider => "provider",
            Self::Facilitator => "facilitator",
            Self::Citizen => "citizen",
        }
    }
}

/// Who acted: their token subject and the role they acted in.
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub sub: &'a str,
    pub role: ActorRole,
}

impl<'a> From<&'a Caller> for Actor<'a> {
    fn from(caller: &'a Caller) -> Self {
        Self {
            sub: &caller.sub,
            role: ActorRole::of(caller),
        }
    }
}

impl<'a> Actor<'a> {
    /// An operator's or staff's bulk import, named by `sub` (`cli`, a staff subject).
    pub fn staff(sub: &'a str) -> Self {
        Self {
            sub,
            role: ActorRole::Staff,
        }
    }
}

pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entry")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub at: DateTimeUtc,
        pub actor: String,
        /// Absent on entries recorded before roles were.
        pub actor_role: Option<super::ActorRole>,
        pub action: String,
        pub subject_kind: String,
        pub subject_id: Uuid,
        pub reason: Option<String>,
        /// What changed (e.g. the edited fields).
        pub detail: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity as audit;

pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: Actor<'_>,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    reason: Option<&str>,
) -> Result<(), DbErr> {
    record_change(conn, actor, action, subject_kind, subject_id, reason, None).await
}

/// Like [`record`], with what changed.
pub async fn record_change<C: ConnectionTrait>(
    conn: &C,
    actor: Actor<'_>,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    reason: Option<&str>,
    detail: Option<&str>,
) -> Result<(), DbErr> {
    audit::Entity::insert(audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor: Set(actor.sub.to_owned()),
        actor_role: Set(Some(actor.role)),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        reason: Set(reason.map(str::to_owned)),
        detail: Set(detail.map(str::to_owned)),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Records the same action on many subjects in one statement (bulk imports).
pub async fn record_many<C: ConnectionTrait>(
    conn: &C,
    actor: Actor<'_>,
    action: &str,
    subject_kind: &str,
    subject_ids: &[Uuid],
) -> Result<(), DbErr> {
    if subject_ids.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    audit::Entity::insert_many(subject_ids.iter().map(|id| audit::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(now),
        actor: Set(actor.sub.to_owned()),
        actor_role: Set(Some(actor.role)),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(*id),
        reason: Set(None),
        detail: Set(None),
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub at: chrono::DateTime<Utc>,
    /// The account that acted, for staff and for the actor themself; for anyone else the
    /// role it acted in (`staff`, `provider`…, `unknown` for entries older than roles).
    pub actor: String,
    /// The role the actor acted in, when recorded.
    pub actor_role: Option<ActorRole>,
    pub action: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

impl Entry {
    /// The entry as `viewer` may read it: staff see who acted; anyone else sees their own
    /// subject, and other people's role only (a staff subject identifies a CNNum employee).
    pub fn seen_by(self, viewer: &Caller) -> Self {
        if viewer.has(Role::Staff) || self.actor == viewer.sub {
            return self;
        }
        Self {
            actor: self
                .actor_role
                .map_or("unknown", ActorRole::as_str)
                .to_owned(),
            ..self
        }
    }
}

/// Replaces an erased person's subject in the log, keeping what happened.
pub async fn anonymise_actor<C: ConnectionTrait>(conn: &C, actor: &str) -> Result<(), DbErr> {
    audit::Entity::update_many()
        .col_expr(
            audit::Column::Actor,
            sea_orm::sea_query::Expr::value("erased"),
        )
        .filter(audit::Column::Actor.eq(actor))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn trail<C: ConnectionTrait>(conn: &C, subject_id: Uuid) -> Result<Vec<Entry>, DbErr> {
    Ok(audit::Entity::find()
        .filter(audit::Column::SubjectId.eq(subject_id))
        .order_by_asc(audit::Column::At)
        .all(conn)
        .await?
        .into_iter()
        .map(|e| Entry {
            at: e.at,
            actor: e.actor,
            actor_role: e.actor_role,
            action: e.action,
            reason: e.reason,
            detail: e.detail,
        })
        .collect())
}

/// [`trail`] as `viewer` may read it ([`Entry::seen_by`]).
pub async fn trail_seen_by<C: ConnectionTrait>(
    conn: &C,
    subject_id: Uuid,
    viewer: &Caller,
) -> Result<Vec<Entry>, DbErr> {
    Ok(trail(conn, subject_id)
        .await?
        .into_iter()
        .map(|e| e.seen_by(viewer))
        .collect())
}

/// Adds `actor_role` to the log. Earlier entries of actions only staff take get `staff`; the
/// others stay without a role (shown as `unknown` to anyone but staff and the actor).
pub(crate) struct AddActorRole;

impl MigrationName for AddActorRole {
    fn name(&self) -> &str {
        "m20261222_000003_platform_audit_actor_role"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddActorRole {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_entry")
                    .add_column(ColumnDef::new("actor_role").text().null())
                    .to_owned(),
            )
            .await?;
        // Publishing, refusing, verifying, suspending, reinstating and imports are staff's.
        manager
            .exec_stmt(
                Query::update()
                    .table("audit_entry")
                    .value("actor_role", ActorRole::Staff.as_str())
                    .and_where(Expr::col("action").is_in([
                        "publish",
                        "reject",
                        "verify",
                        "suspend",
                        "reinstate",
                        "import",
                        "venue_imported",
                    ]))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("audit_entry")
                    .drop_column("actor_role")
                    .to_owned(),
            )
            .await
    }
}

//! Registrations: hard capacity, a waiting list in arrival order, automatic promotion, private
//! cancellation tokens for people who registered without an account, and erasure of personal
//! data (on request, and automatically some time after the session).
//!
//! Every seat decision runs in one transaction holding the session's row lock (the first
//! statement is an `UPDATE … RETURNING` on it), so counters and rows always agree: on
//! PostgreSQL concurrent writers queue on that lock, on SQLite on the write lock. New
//! registrations are decided in batches per session ([`crate::admission`]).

use crate::{
    State,
    admission::Applicant,
    domain::{RegistrationStatus, SessionStatus},
    messages::{self, RegistrationChange},
    sessions::{self, SessionView},
    storage::{facilitator, registration, session},
};
use actix_web::{HttpResponse, web};
use cafeia_platform::{
    AppError,
    auth::{Caller, MaybeCaller, Role},
    envelope::{Envelope, MessageType},
    errors::AppResult,
    http::Json,
    outbox,
    validation::Problems,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub(crate) const CONFIRMED: &str = "confirmed";
pub(crate) const WAITLISTED: &str = "waitlisted";
const CANCELLED: &str = "cancelled";

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// Required without an account; never asked of signed-in citizens.
    pub email: Option<String>,
    pub name: Option<String>,
    /// Explicit consent to keep the email and name until the session is over (required
    /// without an account).
    #[serde(default)]
    pub consent: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RegistrationView {
    pub id: Uuid,
    pub session_id: Uuid,
    pub status: RegistrationStatus,
    /// Place in the waiting list (1 = next to get a seat).
    pub waitlist_position: Option<i64>,
    /// Shown once, to a person registering without an account: keep it to cancel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation_token: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn status_of(s: &str) -> RegistrationStatus {
    match s {
        CONFIRMED => RegistrationStatus::Confirmed,
        WAITLISTED => RegistrationStatus::Waitlisted,
        "attended" => RegistrationStatus::Attended,
        "no_show" => RegistrationStatus::NoShow,
        _ => RegistrationStatus::Cancelled,
    }
}

pub async fn waitlist_position<C: ConnectionTrait>(
    conn: &C,
    model: &registration::Model,
) -> AppResult<Option<i64>> {
    if model.status != WAITLISTED {
        return Ok(None);
    }
    let ahead = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(model.session_id))
        .filter(registration::Column::Status.eq(WAITLISTED))
        .filter(registration::Column::Position.lt(model.position))
        .count(conn)
        .await?;
    Ok(Some(i64::try_from(ahead).unwrap_or(i64::MAX) + 1))
}

fn view(
    model: &registration::Model,
    waitlist_position: Option<i64>,
    token: Option<String>,
) -> RegistrationView {
    RegistrationView {
        id: model.id,
        session_id: model.session_id,
        status: status_of(&model.status),
        waitlist_position,
        cancellation_token: token,
        created_at: model.created_at,
    }
}

pub use cafeia_platform::auth::sha256_hex as digest;

/// 32 random bytes, URL-safe hex.
pub fn secret() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) fn change_envelope(
    kind: MessageType,
    model: &registration::Model,
    waitlist_position: Option<i64>,
    cause: Option<&str>,
) -> AppResult<(MessageType, Envelope<serde_json::Value>)> {
    let change = RegistrationChange {
        registration_id: model.id,
        session_id: model.session_id,
        status: model.status.clone(),
        waitlist_position,
        signed_in: model.account.is_some(),
        cause: cause.map(str::to_owned),
    };
    let data = serde_json::to_value(change).map_err(AppError::internal)?;
    Ok((
        kind,
        Envelope::new(kind, format!("registration/{}", model.id), data),
    ))
}

async fn announce<C: ConnectionTrait>(
    conn: &C,
    kind: MessageType,
    model: &registration::Model,
    waitlist_position: Option<i64>,
    cause: Option<&str>,
) -> AppResult<()> {
    let message = change_envelope(kind, model, waitlist_position, cause)?;
    outbox::enqueue_many(conn, &[message]).await?;
    Ok(())
}

/// Why the session does not take registrations (admission's conditions, one by one).
pub(crate) async fn why_not(
    db: &sea_orm::DatabaseConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppError {
    let session = match sessions::find(db, id).await {
        Ok(s) => s,
        Err(e) => return e,
    };
    match sessions::parse_status(&session.status) {
        SessionStatus::Published => {}
        SessionStatus::Cancelled => return AppError::conflict("session annulée"),
        SessionStatus::Completed => return AppError::conflict("session terminée"),
        SessionStatus::Draft => return AppError::not_found("session inconnue"),
    }
    if now >= session.starts_at {
        AppError::conflict("les inscriptions sont closes : la session a commencé")
    } else if session.registration_mode != "open" {
        AppError::conflict("inscription sur place uniquement pour cette session")
    } else {
        // Every condition holds again: the session changed in the meantime.
        AppError::conflict("la session vient de changer : réessayez")
    }
}

struct Who {
    identity: String,
    account: Option<String>,
    email: Option<String>,
    name: Option<String>,
}

fn who(caller: Option<&Caller>, input: RegistrationInput) -> AppResult<Who> {
    if let Some(caller) = caller {
        // The account identifies the person: no email or name is collected.
        let mut p = Problems::default();
        p.check(
            input.email.is_none() && input.name.is_none(),
            "email",
            "inutile avec un compte : ne l'envoyez pas",
        );
        p.into_result()?;
        let account = caller.account();
        return Ok(Who {
            identity: format!("account:{account}"),
            account: Some(account),
            email: None,
            name: None,
        });
    }
    let mut p = Problems::default();
    let email = match &input.email {
        Some(e) => cafeia_platform::validation::email(e, &mut p),
        None => {
            p.add("email", "obligatoire sans compte");
            String::new()
        }
    };
    let name = input
        .name
        .as_deref()
        .map(|n| p.text("name", n, 120))
        .filter(|n| !n.is_empty());
    p.check(
        input.consent,
        "consent",
        "le consentement à la conservation de l'adresse jusqu'à la session est requis",
    );
    p.into_result()?;
    Ok(Who {
        identity: format!("email:{}", email.to_lowercase()),
        account: None,
        email: Some(email),
        name,
    })
}

/// POST /v1/sessions/{id}/registrations — signed in (any role) or anonymously with an email
/// and consent. Confirmed while seats remain, then waitlisted in arrival order.
#[utoipa::path(post, path = "/v1/sessions/{id}/registrations", tag = "registrations", request_body = RegistrationInput, responses((status = 201, body = RegistrationView), (status = 400, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem), (status = 409, description = "Déjà inscrit·e, session complète, annulée, commencée", body = cafeia_platform::errors::Problem)))]
pub async fn register(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    input: Json<RegistrationInput>,
) -> AppResult<HttpResponse> {
    let who = who(caller.0.as_ref(), input.0)?;
    let token = if who.account.is_none() {
        Some(secret()?)
    } else {
        None
    };
    let applicant = Applicant {
        identity: who.identity,
        account: who.account,
        email: who.email,
        name: who.name,
        token_hash: token.as_deref().map(digest),
    };
    let taken = state.admissions.admit(*id, applicant).await?;
    Ok(HttpResponse::Created().json(view(&taken.model, taken.waitlist_position, token)))
}

/// The message announcing a new registration in `status`.
pub(crate) fn kind_of(status: &str) -> MessageType {
    if status == CONFIRMED {
        messages::REGISTRATION_CONFIRMED
    } else {
        messages::REGISTRATION_WAITLISTED
    }
}

/// Adds `delta` to the counter of `status` and returns the session as it now stands.
async fn bump<C: ConnectionTrait>(
    conn: &C,
    session_id: Uuid,
    status: &str,
    delta: i32,
) -> AppResult<session::Model> {
    let column = if status == WAITLISTED {
        session::Column::Waitlisted
    } else {
        session::Column::Confirmed
    };
    session::Entity::update_many()
        .col_expr(column, Expr::col(column).add(delta))
        .filter(session::Column::Id.eq(session_id))
        .exec_with_returning(conn)
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("session inconnue"))
}

/// Promotes waitlisted people, first come first served, while seats are free. The caller holds
/// the session lock. Returns how many were promoted.
pub async fn fill_seats<C: ConnectionTrait>(
    conn: &C,
    session: &mut session::Model,
) -> AppResult<u64> {
    let free = session.capacity.unwrap_or(i32::MAX) - session.confirmed;
    if free <= 0 || session.waitlisted == 0 {
        return Ok(0);
    }
    let next = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session.id))
        .filter(registration::Column::Status.eq(WAITLISTED))
        .order_by_asc(registration::Column::Position)
        .limit(u64::try_from(free).unwrap_or(0))
        .all(conn)
        .await?;
    let n = i32::try_from(next.len()).unwrap_or(i32::MAX);
    if n == 0 {
        return Ok(0);
    }
    let now = Utc::now();
    for reg in next {
        let mut model = reg.into_active_model();
        model.status = Set(CONFIRMED.to_owned());
        model.updated_at = Set(now);
        let model = model.update(conn).await?;
        announce(conn, messages::REGISTRATION_PROMOTED, &model, None, None).await?;
    }
    *session = session::Entity::update_many()
        .col_expr(
            session::Column::Confirmed,
            Expr::col(session::Column::Confirmed).add(n),
        )
        .col_expr(
            session::Column::Waitlisted,
            Expr::col(session::Column::Waitlisted).sub(n),
        )
        .filter(session::Column::Id.eq(session.id))
        .exec_with_returning(conn)
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("session inconnue"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Cancels one registration (the caller holds nothing yet): frees its seat or its place in
/// the waiting list, promotes the next person, announces both.
async fn cancel_one<C: ConnectionTrait>(
    conn: &C,
    reg: registration::Model,
    cause: &str,
) -> AppResult<registration::Model> {
    let session = sessions::lock(conn, reg.session_id).await?;
    // Re-read under the lock: a concurrent cancellation may have won.
    let reg = registration::Entity::find_by_id(reg.id)
        .one(conn)
        .await?
        .ok_or_else(|| AppError::not_found("inscription inconnue"))?;
    if reg.status != CONFIRMED && reg.status != WAITLISTED {
        return Err(AppError::conflict("inscription déjà annulée ou close"));
    }
    if Utc::now() >= session.starts_at {
        return Err(AppError::conflict(
            "la session a commencé : l'inscription ne s'annule plus",
        ));
    }
    let was = reg.status.clone();
    let mut model = reg.into_active_model();
    model.status = Set(CANCELLED.to_owned());
    // Frees the identity so the person may register again later.
    model.identity = Set(format!("cancelled:{}", Uuid::now_v7()));
    model.updated_at = Set(Utc::now());
    let model = model.update(conn).await?;
    let mut session = bump(conn, session.id, &was, -1).await?;
    announce(
        conn,
        messages::REGISTRATION_CANCELLED,
        &model,
        None,
        Some(cause),
    )
    .await?;
    fill_seats(conn, &mut session).await?;
    sessions::announce_seats(conn, &session).await?;
    Ok(model)
}

/// Cancels every active registration of a cancelled session, one message each so everyone
/// registered can be told.
pub async fn cancel_all<C: ConnectionTrait>(
    conn: &C,
    session: &mut session::Model,
    cause: &str,
) -> AppResult<()> {
    let active = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session.id))
        .filter(registration::Column::Status.is_in([CONFIRMED, WAITLISTED]))
        .order_by_asc(registration::Column::Position)
        .all(conn)
        .await?;
    let now = Utc::now();
    for reg in active {
        let mut model = reg.into_active_model();
        model.status = Set(CANCELLED.to_owned());
        model.updated_at = Set(now);
        let model = model.update(conn).await?;
        announce(
            conn,
            messages::REGISTRATION_CANCELLED,
            &model,
            None,
            Some(cause),
        )
        .await?;
    }
    *session = session::Entity::update_many()
        .col_expr(session::Column::Confirmed, Expr::value(0))
        .col_expr(session::Column::Waitlisted, Expr::value(0))
        .filter(session::Column::Id.eq(session.id))
        .exec_with_returning(conn)
        .await?
        .pop()
        .ok_or_else(|| AppError::not_found("session inconnue"))?;
    Ok(())
}

/// DELETE /v1/registrations/{id} — the signed-in registrant cancels.
#[utoipa::path(delete, path = "/v1/registrations/{id}", tag = "registrations", responses((status = 200, body = RegistrationView), (status = 403, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn cancel(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let reg = registration::Entity::find_by_id(*id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("inscription inconnue"))?;
    if reg.account.as_deref() != Some(caller.account().as_str()) {
        return Err(AppError::forbidden("cette inscription n'est pas la vôtre"));
    }
    let txn = cafeia_platform::db::begin(db).await?;
    let model = cancel_one(&txn, reg, "registrant").await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(&model, None, None)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenInput {
    pub token: String,
}

async fn by_token<C: ConnectionTrait>(conn: &C, token: &str) -> AppResult<registration::Model> {
    let valid = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let found = if valid {
        registration::Entity::find()
            .filter(registration::Column::TokenHash.eq(digest(&token.to_ascii_lowercase())))
            .one(conn)
            .await?
    } else {
        None
    };
    found.ok_or_else(|| AppError::not_found("jeton d'annulation inconnu"))
}

/// POST /v1/registrations/cancel — a person registered without an account cancels with the
/// private token given at registration.
#[utoipa::path(post, path = "/v1/registrations/cancel", tag = "registrations", request_body = TokenInput, responses((status = 200, body = RegistrationView), (status = 404, description = "Jeton inconnu", body = cafeia_platform::errors::Problem), (status = 409, description = "Déjà annulée", body = cafeia_platform::errors::Problem)))]
pub async fn cancel_with_token(
    state: web::Data<State>,
    input: Json<TokenInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let reg = by_token(db, input.0.token.trim()).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    let model = cancel_one(&txn, reg, "registrant").await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(&model, None, None)))
}

/// Removes the personal data of `reg` (email, name, account link, token); the row stays for
/// the counts. A registration still active is cancelled first.
async fn erase<C: ConnectionTrait>(conn: &C, reg: registration::Model) -> AppResult<()> {
    let reg = if (reg.status == CONFIRMED || reg.status == WAITLISTED)
        && sessions::find(conn, reg.session_id).await?.starts_at > Utc::now()
    {
        cancel_one(conn, reg, "erased").await?
    } else {
        reg
    };
    let id = reg.id;
    let mut model = reg.into_active_model();
    model.identity = Set(format!("erased:{id}"));
    // (Bulk erasure uses `erased:<position>`; both are unique within the session.)
    model.account = Set(None);
    model.email = Set(None);
    model.name = Set(None);
    model.token_hash = Set(None);
    model.erased_at = Set(Some(Utc::now()));
    model.update(conn).await?;
    Ok(())
}

/// POST /v1/registrations/erase — a person registered without an account erases their email
/// and name with their token.
#[utoipa::path(post, path = "/v1/registrations/erase", tag = "registrations", request_body = TokenInput, responses((status = 204), (status = 404, body = cafeia_platform::errors::Problem)))]
pub async fn erase_with_token(
    state: web::Data<State>,
    input: Json<TokenInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let reg = by_token(db, input.0.token.trim()).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    erase(&txn, reg).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::NoContent().finish())
}

/// DELETE /v1/me/registrations — a signed-in citizen erases every registration of theirs
/// (future ones are cancelled).
#[utoipa::path(delete, path = "/v1/me/registrations", tag = "registrations", responses((status = 204)), security(("bearer" = [])))]
pub async fn erase_mine(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let regs = registration::Entity::find()
        .filter(registration::Column::Account.eq(caller.account()))
        .all(db)
        .await?;
    let txn = cafeia_platform::db::begin(db).await?;
    for reg in regs {
        erase(&txn, reg).await?;
    }
    crate::storage::calendar_feed::Entity::delete_by_id(caller.account())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::NoContent().finish())
}

/// Erases the personal data of registrations whose session ended before `cutoff`. Returns how
/// many were erased.
pub async fn erase_before<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> AppResult<u64> {
    let ended: Vec<Uuid> = session::Entity::find()
        .filter(session::Column::EndsAt.lt(cutoff))
        .all(db)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    let mut erased = 0;
    for chunk in ended.chunks(500) {
        let result = registration::Entity::update_many()
            .col_expr(registration::Column::Account, Expr::value(None::<String>))
            .col_expr(registration::Column::Email, Expr::value(None::<String>))
            .col_expr(registration::Column::Name, Expr::value(None::<String>))
            .col_expr(registration::Column::TokenHash, Expr::value(None::<String>))
            .col_expr(
                registration::Column::Identity,
                Expr::cust("'erased:' || CAST(position AS TEXT)"),
            )
            .col_expr(registration::Column::ErasedAt, Expr::value(Utc::now()))
            .filter(registration::Column::SessionId.is_in(chunk.iter().copied()))
            .filter(registration::Column::ErasedAt.is_null())
            .exec(db)
            .await?;
        erased += result.rows_affected;
    }
    Ok(erased)
}

/// A citizen's registration with its session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MyRegistration {
    pub registration: RegistrationView,
    pub session: SessionView,
}

/// GET /v1/me/registrations — the signed-in citizen's registrations, soonest session first.
#[utoipa::path(get, path = "/v1/me/registrations", tag = "registrations", responses((status = 200, body = Vec<MyRegistration>)), security(("bearer" = [])))]
pub async fn mine(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let regs = registration::Entity::find()
        .filter(registration::Column::Account.eq(caller.account()))
        .order_by_asc(registration::Column::CreatedAt)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = regs.iter().map(|r| r.session_id).collect();
    let sessions = session::Entity::find()
        .filter(session::Column::Id.is_in(ids))
        .all(db)
        .await?;
    let names = sessions::facilitator_names(db, &sessions).await?;
    let mut out = Vec::with_capacity(regs.len());
    for reg in regs {
        let Some(s) = sessions.iter().find(|s| s.id == reg.session_id) else {
            continue;
        };
        let revealed = reg.status == CONFIRMED || reg.status == "attended";
        let position = waitlist_position(db, &reg).await?;
        let f = names.iter().find(|f| f.id == s.facilitator_id);
        out.push(MyRegistration {
            registration: view(&reg, position, None),
            session: sessions::view(s.clone(), f, revealed),
        });
    }
    out.sort_by_key(|r| r.session.starts_at);
    Ok(HttpResponse::Ok().json(out))
}

/// One line of a session's roll: what its facilitators need to welcome people.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RollEntry {
    pub id: Uuid,
    pub status: RegistrationStatus,
    pub waitlist_position: Option<i64>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub signed_in: bool,
    pub created_at: DateTime<Utc>,
}

/// GET /v1/sessions/{id}/registrations — for the session's facilitators and staff covering it.
#[utoipa::path(get, path = "/v1/sessions/{id}/registrations", tag = "registrations", responses((status = 200, body = Vec<RollEntry>), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn roll(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let session = sessions::find(db, *id).await?;
    let allowed = sessions::staff_covers(&caller, &session)
        || (caller.has(Role::Facilitator)
            && facilitator::Entity::find()
                .filter(facilitator::Column::Account.eq(caller.account()))
                .one(db)
                .await?
                .is_some_and(|me| sessions::runs(&session, &me)));
    if !allowed {
        return Err(AppError::forbidden(
            "la liste des inscrit·es est réservée aux animateur·rices de la session",
        ));
    }
    let regs = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session.id))
        .order_by_asc(registration::Column::Position)
        .all(db)
        .await?;
    let mut waiting = 0;
    let roll: Vec<RollEntry> = regs
        .into_iter()
        .map(|r| {
            let position = (r.status == WAITLISTED).then(|| {
                waiting += 1;
                waiting
            });
            RollEntry {
                id: r.id,
                status: status_of(&r.status),
                waitlist_position: position,
                name: r.name,
                email: r.email,
                signed_in: r.account.is_some(),
                created_at: r.created_at,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(roll))
}

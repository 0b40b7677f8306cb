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
    domain::{RegistrationStatus, SessionAction},
    messages::{self, RegistrationChange},
    sessions,
    storage::{Rows, facilitator, in_table, registration, session, unreadable},
};
use actix_web::{HttpResponse, web};
use cafeia_events_api::{
    CancellationCause, MyRegistration, PageQuery, RegistrationInput, RegistrationView, RollEntry,
    TokenInput, paths,
};
use cafeia_platform::{
    AppError, ErrorCode,
    auth::{Caller, MaybeCaller, Role},
    envelope::{Envelope, MessageType},
    errors::AppResult,
    http::{Json, Query},
    outbox,
    paging::{self, Page},
    validation::Problems,
};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, JoinType,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use RegistrationStatus::{Attended, Cancelled, Confirmed, NoShow, Waitlisted};

/// Holding a seat or a place in the waiting list.
pub(crate) const ACTIVE: [RegistrationStatus; 2] = [Confirmed, Waitlisted];

/// Holding a seat: confirmed, or marked at the roll call.
pub(crate) const HELD: [RegistrationStatus; 3] = [Confirmed, Attended, NoShow];

pub async fn waitlist_position<C: ConnectionTrait>(
    conn: &C,
    model: &registration::Model,
) -> AppResult<Option<i64>> {
    if model.status != Waitlisted {
        return Ok(None);
    }
    let ahead = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(model.session_id))
        .filter(registration::Column::Status.eq(Waitlisted))
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
        status: model.status,
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
    cause: Option<CancellationCause>,
) -> AppResult<(MessageType, Envelope<serde_json::Value>)> {
    let change = RegistrationChange {
        registration_id: model.id,
        session_id: model.session_id,
        status: model.status,
        waitlist_position,
        signed_in: model.account.is_some(),
        cause,
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
    cause: Option<CancellationCause>,
) -> AppResult<()> {
    let message = change_envelope(kind, model, waitlist_position, cause)?;
    outbox::enqueue_many(conn, &[message]).await?;
    Ok(())
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
#[utoipa::path(post, path = paths::SESSION_REGISTRATIONS, params(("id" = Uuid, Path, description = "The session.")), tag = "registrations", request_body = RegistrationInput, responses((status = 201, body = RegistrationView), (status = 400, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem), (status = 409, description = "Déjà inscrit·e, session complète, annulée, commencée", body = cafeia_platform::errors::Problem)))]
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
pub(crate) fn kind_of(status: RegistrationStatus) -> MessageType {
    if status == Confirmed {
        messages::REGISTRATION_CONFIRMED
    } else {
        messages::REGISTRATION_WAITLISTED
    }
}

/// Adds `delta` to the counter of `status` and returns the session as it now stands.
async fn bump<C: ConnectionTrait>(
    conn: &C,
    session_id: Uuid,
    status: RegistrationStatus,
    delta: i32,
) -> AppResult<session::Model> {
    let column = if status == Waitlisted {
        session::Column::Waitlisted
    } else {
        session::Column::Confirmed
    };
    session::Entity::update_many()
        .col_expr(column, Expr::col(column).add(delta))
        .filter(session::Column::Id.eq(session_id))
        .exec_with_returning(conn)
        .await
        .map_err(unreadable::<session::Entity>)?
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
        .filter(registration::Column::Status.eq(Waitlisted))
        .order_by_asc(registration::Column::Position)
        .limit(u64::try_from(free).unwrap_or(0))
        .rows(conn)
        .await?;
    let n = i32::try_from(next.len()).unwrap_or(i32::MAX);
    if n == 0 {
        return Ok(0);
    }
    let now = Utc::now();
    for reg in next {
        let mut model = reg.into_active_model();
        model.status = Set(Confirmed);
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
        .await
        .map_err(unreadable::<session::Entity>)?
        .pop()
        .ok_or_else(|| AppError::not_found("session inconnue"))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Cancels one registration (the caller holds nothing yet): frees its seat or its place in
/// the waiting list, promotes the next person, announces both.
async fn cancel_one<C: ConnectionTrait>(
    conn: &C,
    reg: registration::Model,
    cause: CancellationCause,
) -> AppResult<registration::Model> {
    let session = sessions::lock(conn, reg.session_id).await?;
    // Re-read under the lock: a concurrent cancellation may have won.
    let reg = registration::Entity::find_by_id(reg.id)
        .row(conn)
        .await?
        .ok_or_else(|| AppError::not_found("inscription inconnue"))?;
    if !ACTIVE.contains(&reg.status) {
        return Err(AppError::new(
            ErrorCode::RegistrationNotActive,
            "inscription déjà annulée ou close",
        ));
    }
    sessions::transition(&session, SessionAction::CancelRegistration, Utc::now())?;
    let was = reg.status;
    let mut model = reg.into_active_model();
    model.status = Set(Cancelled);
    // Frees the identity so the person may register again later.
    model.identity = Set(format!("cancelled:{}", Uuid::now_v7()));
    model.updated_at = Set(Utc::now());
    let model = model.update(conn).await?;
    let mut session = bump(conn, session.id, was, -1).await?;
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
    cause: CancellationCause,
) -> AppResult<()> {
    let active = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session.id))
        .filter(registration::Column::Status.is_in(ACTIVE))
        .order_by_asc(registration::Column::Position)
        .rows(conn)
        .await?;
    let now = Utc::now();
    for reg in active {
        let mut model = reg.into_active_model();
        model.status = Set(Cancelled);
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
        .await
        .map_err(unreadable::<session::Entity>)?
        .pop()
        .ok_or_else(|| AppError::not_found("session inconnue"))?;
    Ok(())
}

/// DELETE /v1/registrations/{id} — the signed-in registrant cancels.
#[utoipa::path(delete, path = paths::REGISTRATION, params(("id" = Uuid, Path, description = "The registration.")), tag = "registrations", responses((status = 200, body = RegistrationView), (status = 403, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem), (status = 409, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn cancel(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let reg = registration::Entity::find_by_id(*id)
        .row(db)
        .await?
        .ok_or_else(|| AppError::not_found("inscription inconnue"))?;
    if reg.account.as_deref() != Some(caller.account().as_str()) {
        return Err(AppError::forbidden("cette inscription n'est pas la vôtre"));
    }
    let txn = cafeia_platform::db::begin(db).await?;
    let model = cancel_one(&txn, reg, CancellationCause::Registrant).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(&model, None, None)))
}

async fn by_token<C: ConnectionTrait>(conn: &C, token: &str) -> AppResult<registration::Model> {
    let valid = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let found = if valid {
        registration::Entity::find()
            .filter(registration::Column::TokenHash.eq(digest(&token.to_ascii_lowercase())))
            .row(conn)
            .await?
    } else {
        None
    };
    found.ok_or_else(|| AppError::not_found("jeton d'annulation inconnu"))
}

/// POST /v1/registrations/cancel — a person registered without an account cancels with the
/// private token given at registration.
#[utoipa::path(post, path = paths::REGISTRATIONS_CANCEL, tag = "registrations", request_body = TokenInput, responses((status = 200, body = RegistrationView), (status = 404, description = "Jeton inconnu", body = cafeia_platform::errors::Problem), (status = 409, description = "Déjà annulée", body = cafeia_platform::errors::Problem)))]
pub async fn cancel_with_token(
    state: web::Data<State>,
    input: Json<TokenInput>,
) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let reg = by_token(db, input.0.token.trim()).await?;
    let txn = cafeia_platform::db::begin(db).await?;
    let model = cancel_one(&txn, reg, CancellationCause::Registrant).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    Ok(HttpResponse::Ok().json(view(&model, None, None)))
}

/// Removes the personal data of `reg` (email, name, account link, token); the row stays for
/// the counts. A registration still active is cancelled first.
async fn erase<C: ConnectionTrait>(conn: &C, reg: registration::Model) -> AppResult<()> {
    let reg = if ACTIVE.contains(&reg.status)
        && sessions::find(conn, reg.session_id).await?.starts_at > Utc::now()
    {
        cancel_one(conn, reg, CancellationCause::Erased).await?
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
#[utoipa::path(post, path = paths::REGISTRATIONS_ERASE, tag = "registrations", request_body = TokenInput, responses((status = 204), (status = 404, body = cafeia_platform::errors::Problem)))]
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
#[utoipa::path(delete, path = paths::MY_REGISTRATIONS, tag = "registrations", responses((status = 204)), security(("bearer" = [])))]
pub async fn erase_mine(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    let db = &state.platform.db;
    let regs = registration::Entity::find()
        .filter(registration::Column::Account.eq(caller.account()))
        .rows(db)
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
    // Only the ids: the sweep reads nothing else of the sessions.
    let ended: Vec<Uuid> = session::Entity::find()
        .select_only()
        .column(session::Column::Id)
        .filter(session::Column::EndsAt.lt(cutoff))
        .into_tuple()
        .all(db)
        .await?;
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

/// GET /v1/me/registrations — the signed-in citizen's registrations, soonest session first,
/// in cursor pages (the cursor is a registration's id) with their total.
#[utoipa::path(get, path = paths::MY_REGISTRATIONS, tag = "registrations", params(PageQuery), responses((status = 200, body = Page<MyRegistration>), (status = 400, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn mine(
    state: web::Data<State>,
    caller: Caller,
    query: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let limit = paging::limit(query.limit)?;
    let after = paging::cursor(query.cursor.as_deref())?;
    let account = caller.account();
    let with_session = registration::Entity::belongs_to(session::Entity)
        .from(registration::Column::SessionId)
        .to(session::Column::Id)
        .into();
    let txn = cafeia_platform::db::snapshot(&state.platform.db).await?;
    let mine = registration::Entity::find()
        .join(JoinType::InnerJoin, with_session)
        .filter(registration::Column::Account.eq(account.as_str()));
    let total = mine.clone().count(&txn).await?;
    let mut select = mine;
    if let Some(after) = after {
        let after = registration::Entity::find_by_id(after)
            .filter(registration::Column::Account.eq(account.as_str()))
            .row(&txn)
            .await?
            .ok_or_else(sessions::unknown_cursor)?;
        let starts_at = sessions::find(&txn, after.session_id).await?.starts_at;
        select = select.filter(
            Condition::any()
                .add(session::Column::StartsAt.gt(starts_at))
                .add(
                    Condition::all()
                        .add(session::Column::StartsAt.eq(starts_at))
                        .add(registration::Column::Id.gt(after.id)),
                ),
        );
    }
    let rows = select
        .order_by_asc(session::Column::StartsAt)
        .order_by_asc(registration::Column::Id)
        .limit(limit + 1)
        .select_also(session::Entity)
        .all(&txn)
        .await
        .map_err(|e| in_table("registration (with its session)", e))?;
    let (rows, next_cursor) = paging::split(rows, limit, |(r, _)| r.id);
    let held: Vec<session::Model> = rows.iter().filter_map(|(_, s)| s.clone()).collect();
    let names = sessions::facilitator_names(&txn, &held).await?;
    let mut items = Vec::with_capacity(rows.len());
    for (reg, s) in rows {
        let Some(s) = s else { continue };
        let revealed = matches!(reg.status, Confirmed | Attended);
        let position = waitlist_position(&txn, &reg).await?;
        let f = names.iter().find(|f| f.id == s.facilitator_id);
        items.push(MyRegistration {
            registration: view(&reg, position, None),
            session: sessions::view(s, f, revealed)?,
        });
    }
    txn.commit().await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor,
        total: Some(total),
    }))
}

/// GET /v1/sessions/{id}/registrations — for the session's facilitators and staff covering
/// it: every registration in arrival order (cursor pages, the cursor being a registration's
/// id), with the total.
#[utoipa::path(get, path = paths::SESSION_REGISTRATIONS, tag = "registrations", params(("id" = Uuid, Path, description = "The session."), PageQuery), responses((status = 200, body = Page<RollEntry>), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn roll(
    state: web::Data<State>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let limit = paging::limit(query.limit)?;
    let after = paging::cursor(query.cursor.as_deref())?;
    let db = &state.platform.db;
    let session = sessions::find(db, *id).await?;
    let allowed = sessions::staff_covers(&caller, &session)
        || (caller.has(Role::Facilitator)
            && facilitator::Entity::find()
                .filter(facilitator::Column::Account.eq(caller.account()))
                .row(db)
                .await?
                .is_some_and(|me| sessions::runs(&session, &me)));
    if !allowed {
        return Err(AppError::forbidden(
            "la liste des inscrit·es est réservée aux animateur·rices de la session",
        ));
    }
    let txn = cafeia_platform::db::snapshot(db).await?;
    let of_session =
        || registration::Entity::find().filter(registration::Column::SessionId.eq(session.id));
    let total = of_session().count(&txn).await?;
    let mut select = of_session();
    // Waiting-list places count the people waiting ahead, on earlier pages too.
    let mut waiting = 0;
    if let Some(after) = after {
        let after = of_session()
            .filter(registration::Column::Id.eq(after))
            .row(&txn)
            .await?
            .ok_or_else(sessions::unknown_cursor)?;
        select = select.filter(registration::Column::Position.gt(after.position));
        waiting = of_session()
            .filter(registration::Column::Status.eq(Waitlisted))
            .filter(registration::Column::Position.lte(after.position))
            .count(&txn)
            .await?;
    }
    let rows = select
        .order_by_asc(registration::Column::Position)
        .limit(limit + 1)
        .rows(&txn)
        .await?;
    txn.commit().await?;
    let (rows, next_cursor) = paging::split(rows, limit, |r| r.id);
    let items: Vec<RollEntry> = rows
        .into_iter()
        .map(|r| {
            let position = (r.status == Waitlisted).then(|| {
                waiting += 1;
                i64::try_from(waiting).unwrap_or(i64::MAX)
            });
            RollEntry {
                id: r.id,
                status: r.status,
                waitlist_position: position,
                name: r.name,
                email: r.email,
                signed_in: r.account.is_some(),
                created_at: r.created_at,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor,
        total: Some(total),
    }))
}

//! Registrations: hard capacity, a waiting list in arrival order, automatic promotion, private
//! cancellation tokens for people who registered without an account, and erasure of personal
//! data (on request, and automatically some time after the session).
//!
//! Registering with an email holds nothing until the owner of the address confirms: the
//! request is an `unconfirmed` row and a mail with a confirmation link, written in one
//! transaction ([`ask`]); the answer is the same whether the address was new, waiting for
//! confirmation (the link is mailed again, at most once per `events.mail_resend_minutes`) or
//! registered already (its owner is mailed a new cancellation link), so it tells nobody which.
//! Confirming ([`confirm`], a POST: a mail scanner following the link confirms nothing) goes
//! through admission like a signed-in registration and gives the cancellation token. Requests
//! nobody confirms are erased at their deadline ([`expire_unconfirmed`]). Signed-in citizens
//! register directly: their account is who they are. The address their identity provider
//! verified (the token's `email` claim, when `email_verified`) is kept for the mail about
//! their registration only if they consent to it when they register (`consent: true`);
//! otherwise nothing of it is kept and they get no mail (their registrations are on « Mes
//! inscriptions »). The mail about a registration is [`crate::notify`]'s.
//!
//! Every seat decision runs in one transaction holding the session's row lock (the first
//! statement is an `UPDATE … RETURNING` on it), so counters and rows always agree: on
//! PostgreSQL concurrent writers queue on that lock, on SQLite on the write lock. New
//! registrations are decided in batches per session ([`crate::admission`]).

use crate::{
    State,
    admission::{Applicant, confirmation_unknown},
    config::EventsConfig,
    domain::{RegistrationStatus, SessionAction},
    mail::{self, Outgoing},
    mail_text,
    messages::{self, RegistrationChange},
    notify, sessions,
    storage::{
        Rows, in_table, mail_link::LinkAction, mail_message::MailKind, registration, session,
        unreadable,
    },
};
use actix_web::{HttpResponse, web};
use cafeia_events_api::{
    CancellationCause, MyRegistration, PageQuery, RegistrationInput, RegistrationPending,
    RegistrationView, RollEntry, TokenInput, paths,
};
use cafeia_platform::{
    AppError, ErrorCode,
    auth::{Caller, MaybeCaller},
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
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use RegistrationStatus::{Attended, Cancelled, Confirmed, NoShow, Unconfirmed, Waitlisted};

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

pub use cafeia_platform::auth::new_secret as secret;

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

/// A signed-in citizen asking for a place: their account is who they are.
fn signed_in(caller: &Caller, input: &RegistrationInput) -> AppResult<Applicant> {
    // The account identifies the person: no email or name is collected.
    let mut p = Problems::default();
    p.check(
        input.email.is_none() && input.name.is_none(),
        "email",
        "inutile avec un compte : ne l'envoyez pas",
    );
    p.into_result()?;
    let account = caller.account();
    // Only an address the identity provider verified, and only with consent: the mail about
    // this registration goes there. An unverified one is never kept.
    let email = caller
        .verified_email()
        .filter(|_| input.consent)
        .map(str::to_owned);
    // With an address, the first mail carries a cancellation link like everyone's.
    let cancel_token = email.as_ref().map(|_| secret()).transpose()?;
    Ok(Applicant {
        identity: format!("account:{account}"),
        account: Some(account),
        email,
        name: None,
        token_hash: cancel_token.as_deref().map(digest),
        cancel_token,
        confirming: None,
    })
}

/// Someone registering with an email: what they gave, checked.
pub struct Request {
    pub email: String,
    pub name: Option<String>,
}

impl Request {
    /// Who the registration is, within its session: the folded address.
    fn identity(&self) -> String {
        format!("email:{}", self.email.to_lowercase())
    }
}

fn anonymous(input: RegistrationInput) -> AppResult<Request> {
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
    Ok(Request { email, name })
}

/// POST /v1/sessions/{id}/registrations — signed in (any role): confirmed while seats remain,
/// then waitlisted in arrival order (201). With an email and consent: 202 and the same answer
/// whatever the address holds; a mail to it carries the link that confirms (see [`ask`]).
#[utoipa::path(post, path = paths::SESSION_REGISTRATIONS, params(("id" = Uuid, Path, description = "The session.")), tag = "registrations", request_body = RegistrationInput, responses((status = 201, description = "Signed in: the registration", body = RegistrationView), (status = 202, description = "With an email: the same answer for every address; the owner confirms by mail", body = RegistrationPending), (status = 400, body = cafeia_platform::errors::Problem), (status = 404, body = cafeia_platform::errors::Problem), (status = 409, description = "Signed in and registered already; session full, cancelled, started", body = cafeia_platform::errors::Problem)))]
pub async fn register(
    state: web::Data<State>,
    caller: MaybeCaller,
    id: web::Path<Uuid>,
    input: Json<RegistrationInput>,
) -> AppResult<HttpResponse> {
    if let Some(caller) = caller.0.as_ref() {
        let applicant = signed_in(caller, &input.0)?;
        let taken = state.admissions.admit(*id, applicant).await?;
        return Ok(HttpResponse::Created().json(view(&taken.model, taken.waitlist_position, None)));
    }
    let request = anonymous(input.0)?;
    let db = &state.platform.db;
    let txn = cafeia_platform::db::begin(db).await?;
    ask(&txn, &state.settings, *id, &request, Utc::now()).await?;
    txn.commit().await?;
    state.mail.wake();
    Ok(HttpResponse::Accepted().json(RegistrationPending::for_session(*id)))
}

/// What a request with an email did. The HTTP answer is the same for all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    /// A new unconfirmed registration, and its confirmation mail.
    New(Uuid),
    /// The registration was waiting already: the confirmation mail again, with a new link.
    Resent(Uuid),
    /// The address holds a seat or a waiting-list place: its owner is told, with a new
    /// cancellation link.
    Reminded(Uuid),
    /// Nothing sent: a mail about this registration is queued already, or went moments ago.
    Quiet(Uuid),
}

/// A registration with an email to `session_id`, decided in the caller's transaction: the
/// unconfirmed row and its mail, both or neither. Refusals depend on the session only (not
/// open, full without a waiting list), never on the address.
pub async fn ask<C: ConnectionTrait>(
    conn: &C,
    settings: &EventsConfig,
    session_id: Uuid,
    request: &Request,
    now: DateTime<Utc>,
) -> AppResult<Asked> {
    let session = sessions::find(conn, session_id).await?;
    sessions::admission(&session, now)?;
    let full = session.capacity.is_some_and(|c| session.confirmed >= c);
    if full && !session.waitlist_enabled {
        return Err(AppError::new(
            ErrorCode::SessionFull,
            "session complète (pas de liste d'attente)",
        ));
    }
    // The deadline never passes the start: nobody takes a seat once the session has begun.
    let confirm_by = std::cmp::min(now + settings.confirmation_window(), session.starts_at);
    let identity = request.identity();
    let existing = match held(conn, session_id, &identity).await? {
        Some(existing) => existing,
        None => {
            let token = confirmation_token(session_id)?;
            let model = registration::Model {
                id: Uuid::now_v7(),
                session_id,
                identity: identity.clone(),
                account: None,
                email: Some(request.email.clone()),
                name: request.name.clone(),
                consent_at: Some(now),
                status: Unconfirmed,
                // Arrival order is given at confirmation, when the seat is decided.
                position: 0,
                token_hash: None,
                created_at: now,
                updated_at: now,
                erased_at: None,
                confirm_hash: Some(digest(&token)),
                confirm_by: Some(confirm_by),
                reminders_off_at: None,
            };
            let inserted = registration::Entity::insert(model.clone().into_active_model())
                .on_conflict(
                    OnConflict::columns([
                        registration::Column::SessionId,
                        registration::Column::Identity,
                    ])
                    .do_nothing()
                    .to_owned(),
                )
                .exec_without_returning(conn)
                .await?;
            if inserted == 1 {
                let mail = confirmation_mail(settings, &session, &model, &token, confirm_by);
                mail::queue(conn, mail, now, settings.resend_after()).await?;
                return Ok(Asked::New(model.id));
            }
            // Someone asked for the same address at the same moment: theirs is the row.
            held(conn, session_id, &identity).await?.ok_or_else(|| {
                AppError::new(
                    ErrorCode::RetryableConflict,
                    "la session vient de changer : réessayez",
                )
            })?
        }
    };
    match existing.status {
        Unconfirmed => {
            let token = confirmation_token(session_id)?;
            let mail = confirmation_mail(settings, &session, &existing, &token, confirm_by);
            if !mail::queue(conn, mail, now, settings.resend_after()).await? {
                return Ok(Asked::Quiet(existing.id));
            }
            // The new link replaces the old one; the name is the latest request's, the one
            // whose link will be followed.
            let mut model = existing.into_active_model();
            model.confirm_hash = Set(Some(digest(&token)));
            model.confirm_by = Set(Some(confirm_by));
            model.name = Set(request.name.clone());
            model.updated_at = Set(now);
            let model = model.update(conn).await?;
            Ok(Asked::Resent(model.id))
        }
        Confirmed | Waitlisted => {
            let token = secret()?;
            let link = format!("{}/annuler?jeton={token}", settings.web_base_url);
            let to = existing.email.clone().unwrap_or_default();
            let mail = Outgoing {
                kind: MailKind::AlreadyRegistered,
                dedupe_key: mail::registration_key(existing.id, MailKind::AlreadyRegistered),
                registration_id: Some(existing.id),
                mail: mail_text::already_registered(&to, &session, existing.status, &link),
            };
            if !mail::queue(conn, mail, now, settings.resend_after()).await? {
                return Ok(Asked::Quiet(existing.id));
            }
            // Only the owner of the mailbox gets the new link: the one given before stops.
            let mut model = existing.into_active_model();
            model.token_hash = Set(Some(digest(&token)));
            model.updated_at = Set(now);
            let model = model.update(conn).await?;
            Ok(Asked::Reminded(model.id))
        }
        // Marked at the roll call: the session has started, refused above already.
        Cancelled | Attended | NoShow => Ok(Asked::Quiet(existing.id)),
    }
}

/// A confirmation link's token: the session (32 hex digits), so a confirmation joins its
/// session's admission queue without a query, then 32 random bytes (64 hex digits). Only its
/// digest is kept.
fn confirmation_token(session_id: Uuid) -> AppResult<String> {
    Ok(format!("{}{}", session_id.simple(), secret()?))
}

/// The session a confirmation token names, if it is shaped like one.
fn token_session(token: &str) -> Option<Uuid> {
    let well_formed = token.len() == 96 && token.bytes().all(|b| b.is_ascii_hexdigit());
    well_formed
        .then(|| Uuid::try_parse(&token[..32]).ok())
        .flatten()
}

/// The registration of `identity` to `session_id`, whatever its status.
async fn held<C: ConnectionTrait>(
    conn: &C,
    session_id: Uuid,
    identity: &str,
) -> AppResult<Option<registration::Model>> {
    Ok(registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session_id))
        .filter(registration::Column::Identity.eq(identity))
        .row(conn)
        .await?)
}

/// The mail with the link confirming `model`, valid until `confirm_by`.
fn confirmation_mail(
    settings: &EventsConfig,
    session: &session::Model,
    model: &registration::Model,
    token: &str,
    confirm_by: DateTime<Utc>,
) -> Outgoing {
    let link = format!(
        "{}/inscriptions/confirmer?jeton={token}",
        settings.web_base_url
    );
    let to = model.email.clone().unwrap_or_default();
    Outgoing {
        kind: MailKind::RegistrationConfirmation,
        dedupe_key: mail::registration_key(model.id, MailKind::RegistrationConfirmation),
        registration_id: Some(model.id),
        mail: mail_text::confirmation(&to, session, &link, confirm_by),
    }
}

/// POST /v1/registrations/confirm — the owner of an email confirms the registration asked for
/// with it, with the token of the mailed link: the seat (or the waiting-list place) is decided
/// now, and the answer carries the cancellation token, given this once.
#[utoipa::path(post, path = paths::REGISTRATIONS_CONFIRM, tag = "registrations", request_body = TokenInput, responses((status = 200, description = "The registration, with its cancellation token", body = RegistrationView), (status = 404, description = "Lien inconnu, expiré ou déjà utilisé", body = cafeia_platform::errors::Problem), (status = 409, description = "Session complète, annulée, commencée", body = cafeia_platform::errors::Problem)))]
pub async fn confirm(state: web::Data<State>, input: Json<TokenInput>) -> AppResult<HttpResponse> {
    let token = input.0.token.trim().to_ascii_lowercase();
    let session_id = token_session(&token).ok_or_else(confirmation_unknown)?;
    let cancellation = secret()?;
    // The batch finds the registration by the token's digest, under the session's lock.
    let applicant = Applicant {
        identity: String::new(),
        account: None,
        email: None,
        name: None,
        token_hash: Some(digest(&cancellation)),
        cancel_token: Some(cancellation.clone()),
        confirming: Some(digest(&token)),
    };
    let taken = state
        .admissions
        .admit(session_id, applicant)
        .await
        .map_err(|e| {
            // A token naming no session is as unknown as any other.
            if e.code == ErrorCode::NotFound {
                confirmation_unknown()
            } else {
                e
            }
        })?;
    Ok(HttpResponse::Ok().json(view(
        &taken.model,
        taken.waitlist_position,
        Some(cancellation),
    )))
}

/// Erases the registrations made with an email that nobody confirmed by their deadline, with
/// their mail. They held nothing and were never announced: their rows go. Returns how many.
pub async fn expire_unconfirmed<C: ConnectionTrait>(
    conn: &C,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let expired: Vec<Uuid> = registration::Entity::find()
        .select_only()
        .column(registration::Column::Id)
        .filter(registration::Column::Status.eq(Unconfirmed))
        .filter(registration::Column::ConfirmBy.lte(now))
        .into_tuple()
        .all(conn)
        .await?;
    let mut erased = 0;
    for chunk in expired.chunks(500) {
        mail::forget(conn, chunk).await?;
        erased += registration::Entity::delete_many()
            .filter(registration::Column::Id.is_in(chunk.iter().copied()))
            .filter(registration::Column::Status.eq(Unconfirmed))
            .filter(registration::Column::ConfirmBy.lte(now))
            .exec(conn)
            .await?
            .rows_affected;
    }
    Ok(erased)
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

/// Promotes waitlisted people, first come first served, while seats are free, and mails them
/// (« je libère ma place »). The caller holds the session lock. Returns how many were promoted.
pub async fn fill_seats<C: ConnectionTrait>(
    conn: &C,
    session: &mut session::Model,
    settings: &EventsConfig,
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
        notify::promoted(conn, settings, session, &model, now).await?;
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
    settings: &EventsConfig,
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
    fill_seats(conn, &mut session, settings).await?;
    sessions::announce_seats(conn, &session).await?;
    Ok(model)
}

/// Cancels every active registration of a cancelled session, one message each so everyone
/// registered can be told (and a mail to each one with an address). Requests still waiting for
/// confirmation go, with their mail: there is nothing left to confirm.
pub async fn cancel_all<C: ConnectionTrait>(
    conn: &C,
    session: &mut session::Model,
    cause: CancellationCause,
    settings: &EventsConfig,
) -> AppResult<()> {
    let waiting: Vec<Uuid> = registration::Entity::find()
        .select_only()
        .column(registration::Column::Id)
        .filter(registration::Column::SessionId.eq(session.id))
        .filter(registration::Column::Status.eq(Unconfirmed))
        .into_tuple()
        .all(conn)
        .await?;
    for chunk in waiting.chunks(500) {
        mail::forget(conn, chunk).await?;
        registration::Entity::delete_many()
            .filter(registration::Column::Id.is_in(chunk.iter().copied()))
            .exec(conn)
            .await?;
    }
    let now = Utc::now();
    notify::session_cancelled(conn, settings, session, now).await?;
    let active = registration::Entity::find()
        .filter(registration::Column::SessionId.eq(session.id))
        .filter(registration::Column::Status.is_in(ACTIVE))
        .order_by_asc(registration::Column::Position)
        .rows(conn)
        .await?;
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
    let model = cancel_one(&txn, reg, CancellationCause::Registrant, &state.settings).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    state.mail.wake();
    Ok(HttpResponse::Ok().json(view(&model, None, None)))
}

/// The registration of a cancellation token: the one given at registration, or the link of a
/// later mail (a promotion, a change, a reminder).
async fn by_token<C: ConnectionTrait>(conn: &C, token: &str) -> AppResult<registration::Model> {
    let valid = token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let mut found = None;
    if valid {
        let digest = digest(&token.to_ascii_lowercase());
        found = registration::Entity::find()
            .filter(registration::Column::TokenHash.eq(digest.as_str()))
            .row(conn)
            .await?;
        if found.is_none()
            && let Some(id) = notify::by_link(conn, &digest, LinkAction::Cancel).await?
        {
            found = registration::Entity::find_by_id(id).row(conn).await?;
        }
    }
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
    let model = cancel_one(&txn, reg, CancellationCause::Registrant, &state.settings).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    state.mail.wake();
    Ok(HttpResponse::Ok().json(view(&model, None, None)))
}

/// Removes the personal data of `reg` (email, name, account link, token); the row stays for
/// the counts. A registration still active is cancelled first.
async fn erase<C: ConnectionTrait>(
    conn: &C,
    reg: registration::Model,
    settings: &EventsConfig,
) -> AppResult<()> {
    let reg = if ACTIVE.contains(&reg.status)
        && sessions::find(conn, reg.session_id).await?.starts_at > Utc::now()
    {
        cancel_one(conn, reg, CancellationCause::Erased, settings).await?
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
    model.confirm_hash = Set(None);
    model.confirm_by = Set(None);
    model.erased_at = Set(Some(Utc::now()));
    model.update(conn).await?;
    // The mail about it held the address too.
    mail::forget(conn, &[id]).await?;
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
    erase(&txn, reg, &state.settings).await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    state.mail.wake();
    Ok(HttpResponse::NoContent().finish())
}

/// POST /v1/registrations/reminders/stop — the one-click unsubscription of a reminder (RFC
/// 8058, through the gateway's public address): no more reminder for that registration. The
/// token is the link's; no sign-in.
#[utoipa::path(post, path = paths::REGISTRATIONS_STOP_REMINDERS, tag = "registrations", request_body = TokenInput, responses((status = 204), (status = 404, description = "Lien inconnu", body = cafeia_platform::errors::Problem)))]
pub async fn stop_reminders(
    state: web::Data<State>,
    input: Json<TokenInput>,
) -> AppResult<HttpResponse> {
    let txn = cafeia_platform::db::begin(&state.platform.db).await?;
    let stopped = notify::stop_reminders(&txn, input.0.token.trim(), Utc::now()).await?;
    txn.commit().await?;
    if !stopped {
        return Err(AppError::not_found("lien de désabonnement inconnu"));
    }
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
        erase(&txn, reg, &state.settings).await?;
    }
    crate::storage::calendar_feed::Entity::delete_by_id(caller.account())
        .exec(&txn)
        .await?;
    txn.commit().await?;
    state.platform.outbox.wake();
    state.mail.wake();
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
        let held: Vec<Uuid> = registration::Entity::find()
            .select_only()
            .column(registration::Column::Id)
            .filter(registration::Column::SessionId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        mail::forget(db, &held).await?;
        let result = registration::Entity::update_many()
            .col_expr(registration::Column::Account, Expr::value(None::<String>))
            .col_expr(registration::Column::Email, Expr::value(None::<String>))
            .col_expr(registration::Column::Name, Expr::value(None::<String>))
            .col_expr(registration::Column::TokenHash, Expr::value(None::<String>))
            .col_expr(
                registration::Column::ConfirmHash,
                Expr::value(None::<String>),
            )
            .col_expr(
                registration::Column::Identity,
                Expr::cust("'erased:' || CAST(position AS TEXT)"),
            )
            .col_expr(registration::Column::ErasedAt, Expr::value(Utc::now()))
            .filter(registration::Column::SessionId.is_in(chunk.iter().copied()))
            .filter(registration::Column::ErasedAt.is_null())
            // Requests never confirmed are deleted at their deadline, before the start.
            .filter(registration::Column::Status.ne(Unconfirmed))
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
    let mut held = Vec::with_capacity(rows.len());
    for (reg, s) in rows {
        let Some(s) = s else { continue };
        let position = waitlist_position(&txn, &reg).await?;
        held.push((reg, position, s));
    }
    txn.commit().await?;
    // Names come from the facilitators service: asked once the snapshot is released.
    let names = state
        .names
        .names(held.iter().map(|(_, _, s)| s.facilitator_id))
        .await;
    let mut items = Vec::with_capacity(held.len());
    for (reg, position, s) in held {
        let revealed = matches!(reg.status, Confirmed | Attended);
        let name = names.of(s.facilitator_id);
        items.push(MyRegistration {
            registration: view(&reg, position, None),
            session: sessions::view(s, name, revealed)?,
        });
    }
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
    // Names and emails: a suspended facilitator is refused like any action of theirs.
    if !sessions::on_team(db, &caller, &session).await? {
        return Err(AppError::forbidden(
            "la liste des inscrit·es est réservée aux animateur·rices de la session",
        ));
    }
    let txn = cafeia_platform::db::snapshot(db).await?;
    // A registration waiting for confirmation is nobody's yet (the address may not be theirs).
    let of_session = || {
        registration::Entity::find()
            .filter(registration::Column::SessionId.eq(session.id))
            .filter(registration::Column::Status.ne(Unconfirmed))
    };
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
                // A signed-in citizen's address came from their identity provider, for the
                // service's mail only.
                email: r.email.filter(|_| r.account.is_none()),
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

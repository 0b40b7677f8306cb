//! AI Café sessions in GraphQL: publishing (one session or a series), registration and
//! cancellation, waiting list, attendance reports, "my sessions", the erasure of a citizen's
//! registrations, and a live seat count per session. Every resolver calls the events service
//! through its typed client; the shapes are the contract's (`cafeia_events_api`); lists are
//! Relay connections (`crate::connection`); the subscription listens to the bus through
//! [`crate::seats::SeatsHub`]. Sessions other types point to are loaded in batches by
//! `crate::loaders::events`.

use crate::{
    catalogue::EducationalModule,
    documents,
    facilitators::{FacilitatorProfile, Venue},
    loaders::{
        catalogue::ModuleLoader,
        facilitators::{FacilitatorProfileLoader, VenueLoader},
    },
};
use crate::{
    connection::{self, Page},
    errors::{client, gql},
    rest::services,
    seats::SeatsHub,
};
use async_graphql::{
    ComplexObject, Context, Object, Result, SimpleObject, Subscription, dataloader::DataLoader,
    types::Json,
};
use cafeia_events_api::{
    self as api, AttendanceInput, AttendanceView, CancelInput, ListQuery, PageQuery, PrivateFeed,
    Recurrence, RegisterAnswer, RegistrationInput, RegistrationPending, RegistrationView,
    RollEntry, SeriesInput, SessionInput, SessionStatus, SessionView, TokenInput,
    messages::SeatsChanged,
};
use cafeia_platform::AppError;
use chrono::{DateTime, Utc};
use futures::Stream;
use uuid::Uuid;

/// What registering answers: the registration of a signed-in citizen, or, with an email, the
/// same pending answer for every address.
#[derive(async_graphql::Union)]
pub enum RegisterResult {
    Registration(RegistrationView),
    Pending(RegistrationPending),
}

impl From<RegisterAnswer> for RegisterResult {
    fn from(answer: RegisterAnswer) -> Self {
        match answer {
            RegisterAnswer::Registered(registration) => Self::Registration(registration),
            RegisterAnswer::Pending(pending) => Self::Pending(pending),
        }
    }
}

/// An AI Café session ("Café IA"): a short, free gathering, in person or online, where a
/// facilitator (animateur·rice) helps people discover AI. `startsAt` and `endsAt` are UTC
/// instants, to be shown in the session's `timezone`; `onlineUrl` is given only to its
/// facilitators, staff and the people holding a seat.
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "Session")]
pub struct Session {
    #[graphql(flatten)]
    pub data: SessionView,
}

/// Fields of a session that come from other services (its venue, its facilitators' public
/// profiles, its educational modules), through the per-request loaders: a page of sessions
/// costs one call per kind, whatever its length.
#[ComplexObject]
impl Session {
    /// Where it takes place (in-person and hybrid sessions); null for an online session, or a
    /// venue no longer listed.
    async fn venue(&self, ctx: &Context<'_>) -> Result<Option<Venue>> {
        let Some(place) = &self.data.place else {
            return Ok(None);
        };
        ctx.data::<DataLoader<VenueLoader>>()?
            .load_one(place.venue_id)
            .await
    }

    /// Who runs it: the lead facilitator first, then the co-facilitators (public profiles;
    /// an erased facilitator is left out).
    #[graphql(
        complexity = "crate::cost::capped_list(crate::cost::SESSION_FACILITATORS, child_complexity)"
    )]
    async fn facilitators(&self, ctx: &Context<'_>) -> Result<Vec<FacilitatorProfile>> {
        let ids: Vec<Uuid> = std::iter::once(self.data.facilitator.id)
            .chain(self.data.co_facilitators.iter().copied())
            .collect();
        let mut found = ctx
            .data::<DataLoader<FacilitatorProfileLoader>>()?
            .load_many(ids.iter().copied())
            .await?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// The educational modules of the catalogue it uses, in the facilitator's order (those
    /// the caller may not see, or withdrawn since, are left out).
    #[graphql(
        complexity = "crate::cost::capped_list(crate::cost::SESSION_MODULES, child_complexity)"
    )]
    async fn modules(&self, ctx: &Context<'_>) -> Result<Vec<EducationalModule>> {
        let mut found = ctx
            .data::<DataLoader<ModuleLoader>>()?
            .load_many(self.data.modules.iter().copied())
            .await?;
        Ok(self
            .data
            .modules
            .iter()
            .filter_map(|id| found.remove(id))
            .collect())
    }

    /// Its iCalendar file (`.ics`, to add to a calendar): a path on this API's host.
    async fn ical_url(&self) -> String {
        documents::session_ical_path(self.data.id)
    }

    /// Its schema.org `Event` as JSON-LD, for search engines: a path on this API's host.
    async fn json_ld_url(&self) -> String {
        documents::session_jsonld_path(self.data.id)
    }

    /// Its schema.org `Event` itself (the document at `jsonLdUrl`), for a page to embed; null
    /// when the session is not public. One call to the events service per session.
    #[graphql(complexity = "crate::cost::LIST + child_complexity")]
    async fn json_ld(&self, ctx: &Context<'_>) -> Result<Option<Json<serde_json::Value>>> {
        let (s, call) = services(ctx)?;
        let answer = match s.events.session_jsonld(&call, self.data.id).await {
            Ok(answer) => answer,
            Err(e) if e.code() == cafeia_platform::ErrorCode::NotFound => return Ok(None),
            Err(e) => return Err(client(e)),
        };
        let document =
            serde_json::from_slice(&answer.body).map_err(|e| gql(AppError::internal(e)))?;
        Ok(Some(Json(document)))
    }
}

impl From<SessionView> for Session {
    fn from(data: SessionView) -> Self {
        Self { data }
    }
}

fn sessions_of(views: Vec<SessionView>) -> Vec<Session> {
    views.into_iter().map(Session::from).collect()
}

/// The sessions of a new series.
#[derive(SimpleObject)]
pub struct Series {
    /// The series: every occurrence carries it as `seriesId`.
    pub series_id: Uuid,
    /// Its occurrences, in order; each one is a session of its own.
    pub sessions: Vec<Session>,
}

impl From<api::SeriesView> for Series {
    fn from(series: api::SeriesView) -> Self {
        Self {
            series_id: series.series_id,
            sessions: sessions_of(series.sessions),
        }
    }
}

/// A citizen's registration with its session.
#[derive(SimpleObject)]
pub struct MyRegistration {
    /// The registration.
    pub registration: RegistrationView,
    /// Its session (with the online link once the seat is confirmed).
    pub session: Session,
}

impl From<api::MyRegistration> for MyRegistration {
    fn from(mine: api::MyRegistration) -> Self {
        Self {
            registration: mine.registration,
            session: Session::from(mine.session),
        }
    }
}

/// One page of a list that takes no filter, as the service reads it.
fn page_query(first: Option<i32>, after: Option<&str>) -> Result<PageQuery> {
    Ok(PageQuery {
        cursor: after.map(str::to_owned),
        limit: connection::first(first)?,
    })
}

#[derive(Default)]
pub struct EventsQuery;

#[Object]
impl EventsQuery {
    /// A session, or null when unknown (drafts only for their facilitators and staff).
    async fn session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] id: Uuid,
    ) -> Result<Option<Session>> {
        let (s, call) = services(ctx)?;
        let found = s.events.session(&call, id).await.map_err(client)?;
        Ok(found.map(Session::from))
    }

    /// Published sessions (or cancelled / completed ones with `status`), in creation order,
    /// as a connection whose `totalCount` counts the whole filtered list.
    #[allow(clippy::too_many_arguments)]
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "INSEE code of the département (e.g. `69`, `2A`).")] departement: Option<
            String,
        >,
        #[graphql(desc = "INSEE code of the région (e.g. `84`): all its départements at once.")]
        region: Option<String>,
        #[graphql(desc = "A topic of the shared vocabulary (e.g. `what_is_ai`).")] topic: Option<
            String,
        >,
        #[graphql(desc = "Sessions starting at or after this instant (UTC); default now.")]
        from: Option<DateTime<Utc>>,
        #[graphql(desc = "Sessions starting before this instant (UTC).")] to: Option<DateTime<Utc>>,
        #[graphql(desc = "Only the occurrences of this series.")] series_id: Option<Uuid>,
        #[graphql(
            desc = "`PUBLISHED` (default), `CANCELLED` or `COMPLETED`; drafts are never \
                          public."
        )]
        status: Option<SessionStatus>,
        #[graphql(desc = "`true`: only sessions with no seat left (every counted seat \
                          confirmed); `false`: only those with a seat left or no seat limit.")]
        full: Option<bool>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the edge to continue after.")] after: Option<String>,
    ) -> Result<Page<Session>> {
        let query = ListQuery {
            departement,
            region,
            full,
            topic,
            from,
            to,
            series_id,
            status,
            cursor: after.clone(),
            limit: connection::first(first)?,
        };
        let (s, call) = services(ctx)?;
        let page = s.events.sessions(&call, &query).await.map_err(client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, v| v.id.to_string(),
            Session::from,
        ))
    }

    /// The sessions the signed-in facilitator runs or co-runs, drafts included, soonest
    /// first.
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn my_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the edge to continue after.")] after: Option<String>,
    ) -> Result<Page<Session>> {
        let query = page_query(first, after.as_deref())?;
        let (s, call) = services(ctx)?;
        let page = s.events.my_sessions(&call, &query).await.map_err(client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, v| v.id.to_string(),
            Session::from,
        ))
    }

    /// The signed-in citizen's registrations, soonest session first.
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn my_registrations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the edge to continue after.")] after: Option<String>,
    ) -> Result<Page<MyRegistration>> {
        let query = page_query(first, after.as_deref())?;
        let (s, call) = services(ctx)?;
        let page = s
            .events
            .my_registrations(&call, &query)
            .await
            .map_err(client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, r| r.registration.id.to_string(),
            MyRegistration::from,
        ))
    }

    /// Who registered to a session, in arrival order (its facilitators and staff covering
    /// it); a popular session's roll runs over many pages.
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn session_roll(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: Uuid,
        #[graphql(desc = "Page size, 1 to 100 (default 20).")] first: Option<i32>,
        #[graphql(desc = "The cursor of the edge to continue after.")] after: Option<String>,
    ) -> Result<Page<RollEntry>> {
        let query = page_query(first, after.as_deref())?;
        let (s, call) = services(ctx)?;
        let page = s
            .events
            .roll(&call, session_id, &query)
            .await
            .map_err(client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, r| r.id.to_string(),
            |r| r,
        ))
    }

    /// A session's attendance report, or null before the first one (its facilitators and
    /// staff).
    async fn attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: Uuid,
    ) -> Result<Option<AttendanceView>> {
        let (s, call) = services(ctx)?;
        s.events.attendance(&call, session_id).await.map_err(client)
    }
}

#[derive(Default)]
pub struct EventsMutation;

#[Object]
impl EventsMutation {
    /// Creates a session: a draft, or published at once with `publish` (verified facilitators
    /// only). Its times are local wall-clock times in its `timezone`.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn create_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session as its facilitator describes it.")] input: SessionInput,
        #[graphql(default, desc = "Publish at once (verified facilitators only).")] publish: bool,
    ) -> Result<Session> {
        let (s, call) = services(ctx)?;
        let created = s.events.create_session(&call, &input, publish).await;
        created.map(Session::from).map_err(client)
    }

    /// Creates a weekly or monthly series in one call; each occurrence is its own session,
    /// at the same local wall-clock time (kept across daylight-saving changes).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn create_series(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first occurrence.")] session: SessionInput,
        #[graphql(desc = "How it repeats.")] recurrence: Recurrence,
        #[graphql(
            default,
            desc = "Publish every occurrence at once (verified facilitators \
                                   only)."
        )]
        publish: bool,
    ) -> Result<Series> {
        let input = SeriesInput {
            session,
            recurrence,
            publish,
        };
        let (s, call) = services(ctx)?;
        let series = s
            .events
            .create_series(&call, &input)
            .await
            .map_err(client)?;
        Ok(series.into())
    }

    /// Replaces the description of a session that has not started (its facilitator only); the
    /// capacity may not go below the confirmed seats, and a larger one gives seats to the
    /// waiting list.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn update_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] id: Uuid,
        #[graphql(desc = "Its new description, in full.")] input: SessionInput,
    ) -> Result<Session> {
        let (s, call) = services(ctx)?;
        let updated = s.events.update_session(&call, id, &input).await;
        updated.map(Session::from).map_err(client)
    }

    /// Publishes a draft that has not started (its facilitator, verified).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn publish_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft.")] id: Uuid,
    ) -> Result<Session> {
        let (s, call) = services(ctx)?;
        let published = s.events.publish_session(&call, id).await;
        published.map(Session::from).map_err(client)
    }

    /// Cancels a session before its end (its facilitator, or staff covering its territory);
    /// everyone registered is told.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn cancel_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] id: Uuid,
        #[graphql(desc = "Why, told to everyone registered (500 characters at most).")]
        reason: String,
    ) -> Result<Session> {
        let (s, call) = services(ctx)?;
        let cancelled = s
            .events
            .cancel_session(&call, id, &CancelInput { reason })
            .await;
        cancelled.map(Session::from).map_err(client)
    }

    /// Marks a published session that has started as held (its facilitators).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn complete_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] id: Uuid,
    ) -> Result<Session> {
        let (s, call) = services(ctx)?;
        let completed = s.events.complete_session(&call, id).await;
        completed.map(Session::from).map_err(client)
    }

    /// Registers. Signed in (nothing else asked): your `Registration`, a seat while some are
    /// free, then the waiting list in arrival order. With an email and explicit consent:
    /// `RegistrationPending`, the same answer whoever the address belongs to and whatever it
    /// holds; a mail to it carries the link whose token `confirmRegistration` takes, and only
    /// then is the seat decided.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: Uuid,
        #[graphql(desc = "Required without an account; never asked of signed-in citizens.")]
        email: Option<String>,
        #[graphql(desc = "Optional, without an account.")] name: Option<String>,
        #[graphql(
            default,
            desc = "Consent to keep the email and name until the session is over (required \
                    without an account)."
        )]
        consent: bool,
    ) -> Result<RegisterResult> {
        let input = RegistrationInput {
            email,
            name,
            consent,
        };
        let (s, call) = services(ctx)?;
        let answer = s.events.register(&call, session_id, &input).await;
        answer.map(RegisterResult::from).map_err(client)
    }

    /// Confirms a registration made with an email, with the token of the link mailed to it
    /// (the page the link opens sends it: following a link confirms nothing). The seat, or
    /// the waiting-list place, is decided now; the answer carries the cancellation token,
    /// given this once. `NOT_FOUND` for a token unknown, expired or used already;
    /// `SESSION_FULL` when no seat is left and there is no waiting list (the request may be
    /// confirmed again until it expires).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn confirm_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token of the confirmation link (`jeton`).")] token: String,
    ) -> Result<RegistrationView> {
        let (s, call) = services(ctx)?;
        s.events
            .confirm_registration(&call, &TokenInput { token })
            .await
            .map_err(client)
    }

    /// Cancels the signed-in citizen's registration (before the session starts).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn cancel_registration(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The registration.")] id: Uuid,
    ) -> Result<RegistrationView> {
        let (s, call) = services(ctx)?;
        s.events
            .cancel_registration(&call, id)
            .await
            .map_err(client)
    }

    /// Cancels a registration made without an account, with its private token.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn cancel_registration_with_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cancellation token given at registration.")] token: String,
    ) -> Result<RegistrationView> {
        let (s, call) = services(ctx)?;
        s.events
            .cancel_registration_with_token(&call, &TokenInput { token })
            .await
            .map_err(client)
    }

    /// Erases the signed-in citizen's registrations (GDPR erasure): those still to come are
    /// cancelled, the account link is removed from every one (the anonymous rows stay for the
    /// counts), and their private calendar feed stops working. Answers true.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn erase_my_registrations(&self, ctx: &Context<'_>) -> Result<bool> {
        let (s, call) = services(ctx)?;
        s.events
            .erase_my_registrations(&call)
            .await
            .map_err(client)?;
        Ok(true)
    }

    /// Erases the email and name of a registration made without an account, with its private
    /// token (GDPR erasure); cancelled first if still to come. Answers true.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn erase_registrations_with_token(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cancellation token given at registration.")] token: String,
    ) -> Result<bool> {
        let (s, call) = services(ctx)?;
        s.events
            .erase_registration_with_token(&call, &TokenInput { token })
            .await
            .map_err(client)?;
        Ok(true)
    }

    /// Reports attendance once the session has started, or corrects the report (until 7 days
    /// after its end; a correction replaces it). The session is completed by it.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn report_attendance(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: Uuid,
        #[graphql(desc = "Who came, and the anonymous aggregates.")] input: AttendanceInput,
    ) -> Result<AttendanceView> {
        let (s, call) = services(ctx)?;
        s.events
            .report_attendance(&call, session_id, &input)
            .await
            .map_err(client)
    }

    /// Creates (or replaces) the signed-in citizen's private calendar feed; its `path` is the
    /// gateway's (`/calendars/private/{token}.ics`).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn create_private_calendar(&self, ctx: &Context<'_>) -> Result<PrivateFeed> {
        let (s, call) = services(ctx)?;
        let feed = s
            .events
            .create_private_calendar(&call)
            .await
            .map_err(client)?;
        let path = crate::documents::private_calendar_path(&feed.path).ok_or_else(|| {
            client(cafeia_api::client::ClientError::BadAnswer(
                "private calendar path of an unexpected shape".into(),
            ))
        })?;
        Ok(PrivateFeed { path })
    }
}

#[derive(Default)]
pub struct EventsSubscription;

#[Subscription]
impl EventsSubscription {
    /// The seats of a session: now, then at every change, from whichever replica made it.
    #[graphql(complexity = "crate::cost::subscription(child_complexity)")]
    async fn seats(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The session.")] session_id: Uuid,
    ) -> Result<impl Stream<Item = SeatsChanged> + use<>> {
        let id = session_id;
        let hub = ctx.data::<SeatsHub>()?;
        // Listen before reading, so no change between the two is missed.
        let updates = hub.watch();
        let (s, call) = services(ctx)?;
        let now = s
            .events
            .session(&call, id)
            .await
            .map_err(client)?
            .ok_or_else(|| gql(AppError::not_found("session inconnue")))?;
        let first = SeatsChanged {
            session_id: now.id,
            capacity: now.capacity,
            confirmed: now.confirmed,
            waitlisted: now.waitlisted,
            seats_left: now.seats_left,
            // As new as the session's state read: announcements of older states are dropped.
            revision: SeatsChanged::revision_floor(now.revision),
        };
        Ok(crate::seats::follow(first, updates))
    }
}

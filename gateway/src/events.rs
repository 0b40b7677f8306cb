//! AI Café sessions in GraphQL: publishing (one session or a series), registration and
//! cancellation, waiting list, attendance reports, "my sessions", and a live seat count per
//! session. Every resolver calls the events service; the subscription listens to the bus
//! through [`crate::seats::SeatsHub`].

use crate::{
    catalogue::{Audience, Format, Level},
    clients::{CallContext, ServiceClient},
    errors::gql,
    rest::{client, query_string, required, segment, to_value, wire_enum},
    seats::SeatsHub,
};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject, Subscription};
use cafeia_platform::AppError;
use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};
use futures::{Stream, StreamExt};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokio::sync::broadcast::error::RecvError;

const SERVICE: &str = "events";

wire_enum!(SessionStatus {
    Draft,
    Published,
    Cancelled,
    Completed
});
wire_enum!(RegistrationStatus {
    Confirmed,
    Waitlisted,
    Cancelled,
    Attended,
    NoShow
});
wire_enum!(
    /// Open: registration online, seats counted. On-site only: people just come.
    RegistrationMode { Open, OnSiteOnly }
);
wire_enum!(SessionAccessibility {
    Wheelchair,
    Lsf,
    HearingLoop,
    EasyRead
});
wire_enum!(Frequency { Weekly, Monthly });

#[derive(SimpleObject, Deserialize)]
pub struct SessionPlace {
    pub venue_id: ID,
    pub name: String,
    pub address: String,
    pub insee: String,
    pub departement: String,
    pub region: String,
    pub latitude: f64,
    pub longitude: f64,
}

#[derive(SimpleObject, Deserialize)]
pub struct FacilitatorRef {
    pub id: ID,
    pub display_name: Option<String>,
}

/// An AI Café session. `onlineUrl` only for its facilitators, staff and people registered.
#[derive(SimpleObject, Deserialize)]
pub struct Session {
    pub id: ID,
    pub series_id: Option<ID>,
    pub title: String,
    pub description: String,
    pub status: SessionStatus,
    pub status_reason: Option<String>,
    pub facilitator: FacilitatorRef,
    pub co_facilitators: Vec<ID>,
    pub modules: Vec<ID>,
    pub topics: Vec<String>,
    pub format: Format,
    pub place: Option<SessionPlace>,
    pub online_url: Option<String>,
    /// Local time with its offset, in `timezone`.
    pub starts_at: DateTime<FixedOffset>,
    pub ends_at: DateTime<FixedOffset>,
    pub timezone: String,
    pub capacity: Option<i32>,
    pub confirmed: i32,
    pub waitlisted: i32,
    pub seats_left: Option<i32>,
    pub waitlist_enabled: bool,
    pub registration_mode: RegistrationMode,
    pub registration_open: bool,
    pub audiences: Vec<Audience>,
    pub level: Level,
    pub languages: Vec<String>,
    pub accessibility: Vec<SessionAccessibility>,
}

#[derive(SimpleObject, Deserialize)]
pub struct SessionPage {
    pub items: Vec<Session>,
    pub next_cursor: Option<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct Series {
    pub series_id: ID,
    pub sessions: Vec<Session>,
}

#[derive(SimpleObject, Deserialize)]
pub struct Registration {
    pub id: ID,
    pub session_id: ID,
    pub status: RegistrationStatus,
    /// 1 = next to get a seat.
    pub waitlist_position: Option<i64>,
    /// Given once, to people registering without an account: keep it to cancel.
    pub cancellation_token: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(SimpleObject, Deserialize)]
pub struct MyRegistration {
    pub registration: Registration,
    pub session: Session,
}

/// One line of a session's roll (its facilitators and staff only).
#[derive(SimpleObject, Deserialize)]
pub struct RollEntry {
    pub id: ID,
    pub status: RegistrationStatus,
    pub waitlist_position: Option<i64>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub signed_in: bool,
    pub created_at: DateTime<Utc>,
}

#[derive(SimpleObject, Deserialize)]
pub struct AttendanceReport {
    pub session_id: ID,
    pub version: i32,
    pub registered: i32,
    pub attended: i32,
    pub no_shows: i32,
    pub walk_ins: i32,
    pub first_timers: i32,
    pub age_bands: Json<BTreeMap<String, i32>>,
    pub occupations: Json<BTreeMap<String, i32>>,
    pub reported_at: DateTime<Utc>,
    pub correctable_until: DateTime<Utc>,
}

#[derive(SimpleObject, Deserialize)]
pub struct PrivateCalendar {
    /// Path of the private iCalendar feed; asking again replaces it.
    pub path: String,
}

/// Seats of one session, now.
#[derive(SimpleObject, Clone)]
pub struct Seats {
    pub session_id: ID,
    pub capacity: Option<i32>,
    pub confirmed: i32,
    pub waitlisted: i32,
    pub seats_left: Option<i32>,
}

/// A session as a facilitator describes it; times are local wall-clock times in `timezone`.
#[derive(InputObject, Serialize)]
pub struct SessionInput {
    pub title: String,
    #[graphql(default)]
    pub description: String,
    #[graphql(default)]
    pub modules: Vec<ID>,
    #[graphql(default)]
    pub topics: Vec<String>,
    #[graphql(default)]
    pub co_facilitators: Vec<ID>,
    pub format: Format,
    pub venue_id: Option<ID>,
    pub online_url: Option<String>,
    /// e.g. `2027-03-18T18:00:00`
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    #[graphql(default_with = "\"Europe/Paris\".to_string()")]
    pub timezone: String,
    pub capacity: Option<i32>,
    #[graphql(default_with = "vec![Audience::GeneralPublic]")]
    pub audiences: Vec<Audience>,
    #[graphql(default_with = "Level::Discovery")]
    pub level: Level,
    #[graphql(default_with = "vec![\"fr\".to_string()]")]
    pub languages: Vec<String>,
    #[graphql(default)]
    pub accessibility: Vec<SessionAccessibility>,
    #[graphql(default_with = "RegistrationMode::Open")]
    pub registration_mode: RegistrationMode,
    #[graphql(default = true)]
    pub waitlist: bool,
}

#[derive(InputObject, Serialize)]
pub struct RecurrenceInput {
    pub frequency: Frequency,
    pub count: u32,
    #[graphql(default = 1)]
    pub interval: u32,
}

#[derive(InputObject, Serialize)]
pub struct RollCallInput {
    pub registration_id: ID,
    pub attended: bool,
}

/// Who came. Registrations not listed count as no-shows; aggregates are anonymous counts.
#[derive(InputObject, Serialize)]
pub struct AttendanceInput {
    #[graphql(default)]
    pub registrations: Vec<RollCallInput>,
    #[graphql(default)]
    pub walk_ins: i32,
    pub first_timers: i32,
    /// Counts per age band: `under_18`, `18_24`, `25_39`, `40_59`, `60_74`, `75_plus`.
    #[graphql(default)]
    pub age_bands: Json<BTreeMap<String, i32>>,
    /// Counts per occupation: `student`, `employee`, `job_seeker`, `retired`, `other`.
    #[graphql(default)]
    pub occupations: Json<BTreeMap<String, i32>>,
}

#[derive(Default)]
pub struct EventsQuery;

#[Object]
impl EventsQuery {
    /// A session (drafts only for their facilitators and staff).
    async fn session(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Session>> {
        let (c, call) = client(ctx)?;
        c.find(SERVICE, &format!("/v1/sessions/{}", segment(&id)), call)
            .await
            .map_err(gql)
    }

    /// Published sessions (or cancelled/completed ones with `status`), stable cursor pages.
    #[allow(clippy::too_many_arguments)]
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        departement: Option<String>,
        topic: Option<String>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        series_id: Option<ID>,
        status: Option<SessionStatus>,
        cursor: Option<String>,
        limit: Option<u64>,
    ) -> Result<SessionPage> {
        let (c, call) = client(ctx)?;
        let q = query_string(&[
            ("departement", departement),
            ("topic", topic),
            ("from", from.map(|t| t.to_rfc3339())),
            ("to", to.map(|t| t.to_rfc3339())),
            ("series_id", series_id.map(|s| s.to_string())),
            ("status", status.and_then(|s| crate::rest::enum_text(&s))),
            ("cursor", cursor),
            ("limit", limit.map(|l| l.to_string())),
        ]);
        c.get(SERVICE, &format!("/v1/sessions{q}"), call)
            .await
            .map_err(gql)
    }

    /// The sessions the signed-in facilitator runs or co-runs, drafts included.
    async fn my_sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        let (c, call) = client(ctx)?;
        c.get(SERVICE, "/v1/me/sessions", call).await.map_err(gql)
    }

    /// The signed-in citizen's registrations.
    async fn my_registrations(&self, ctx: &Context<'_>) -> Result<Vec<MyRegistration>> {
        let (c, call) = client(ctx)?;
        c.get(SERVICE, "/v1/me/registrations", call)
            .await
            .map_err(gql)
    }

    /// Who registered to a session (its facilitators and staff).
    async fn session_roll(&self, ctx: &Context<'_>, session_id: ID) -> Result<Vec<RollEntry>> {
        let (c, call) = client(ctx)?;
        c.get(
            SERVICE,
            &format!("/v1/sessions/{}/registrations", segment(&session_id)),
            call,
        )
        .await
        .map_err(gql)
    }

    /// A session's attendance report (its facilitators and staff).
    async fn attendance(
        &self,
        ctx: &Context<'_>,
        session_id: ID,
    ) -> Result<Option<AttendanceReport>> {
        let (c, call) = client(ctx)?;
        c.find(
            SERVICE,
            &format!("/v1/sessions/{}/attendance", segment(&session_id)),
            call,
        )
        .await
        .map_err(gql)
    }
}

#[derive(Default)]
pub struct EventsMutation;

async fn send<T: for<'de> Deserialize<'de>>(
    ctx: &Context<'_>,
    method: Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> Result<T> {
    let (c, call) = client(ctx)?;
    required(c.send(method, SERVICE, path, call, body.as_ref()).await)
}

#[Object]
impl EventsMutation {
    /// Creates a session (a draft, or published at once with `publish`: verified facilitators).
    async fn create_session(
        &self,
        ctx: &Context<'_>,
        input: SessionInput,
        #[graphql(default)] publish: bool,
    ) -> Result<Session> {
        let path = format!("/v1/sessions?publish={publish}");
        send(ctx, Method::POST, &path, Some(to_value(&input)?)).await
    }

    /// Creates a weekly or monthly series in one call; each occurrence is its own session.
    async fn create_series(
        &self,
        ctx: &Context<'_>,
        session: SessionInput,
        recurrence: RecurrenceInput,
        #[graphql(default)] publish: bool,
    ) -> Result<Series> {
        let body = serde_json::json!({
            "session": to_value(&session)?,
            "recurrence": to_value(&recurrence)?,
            "publish": publish,
        });
        send(ctx, Method::POST, "/v1/series", Some(body)).await
    }

    /// Replaces a session's description (capacity may not go below the confirmed seats).
    async fn update_session(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SessionInput,
    ) -> Result<Session> {
        let path = format!("/v1/sessions/{}", segment(&id));
        send(ctx, Method::PUT, &path, Some(to_value(&input)?)).await
    }

    async fn publish_session(&self, ctx: &Context<'_>, id: ID) -> Result<Session> {
        let path = format!("/v1/sessions/{}/publish", segment(&id));
        send(ctx, Method::POST, &path, None).await
    }

    /// Cancels a session; everyone registered is told.
    async fn cancel_session(&self, ctx: &Context<'_>, id: ID, reason: String) -> Result<Session> {
        let path = format!("/v1/sessions/{}/cancel", segment(&id));
        let body = serde_json::json!({ "reason": reason });
        send(ctx, Method::POST, &path, Some(body)).await
    }

    async fn complete_session(&self, ctx: &Context<'_>, id: ID) -> Result<Session> {
        let path = format!("/v1/sessions/{}/complete", segment(&id));
        send(ctx, Method::POST, &path, None).await
    }

    /// Registers: signed in (nothing else asked), or with an email and explicit consent.
    async fn register(
        &self,
        ctx: &Context<'_>,
        session_id: ID,
        email: Option<String>,
        name: Option<String>,
        #[graphql(default)] consent: bool,
    ) -> Result<Registration> {
        let path = format!("/v1/sessions/{}/registrations", segment(&session_id));
        let mut body = serde_json::Map::new();
        if let Some(e) = email {
            body.insert("email".into(), e.into());
        }
        if let Some(n) = name {
            body.insert("name".into(), n.into());
        }
        if consent {
            body.insert("consent".into(), true.into());
        }
        send(ctx, Method::POST, &path, Some(body.into())).await
    }

    /// Cancels the signed-in citizen's registration.
    async fn cancel_registration(&self, ctx: &Context<'_>, id: ID) -> Result<Registration> {
        let path = format!("/v1/registrations/{}", segment(&id));
        send(ctx, Method::DELETE, &path, None).await
    }

    /// Cancels a registration made without an account, with its private token.
    async fn cancel_registration_with_token(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> Result<Registration> {
        let body = serde_json::json!({ "token": token });
        send(ctx, Method::POST, "/v1/registrations/cancel", Some(body)).await
    }

    /// Reports attendance, or corrects the report (within 7 days; replaces it).
    async fn report_attendance(
        &self,
        ctx: &Context<'_>,
        session_id: ID,
        input: AttendanceInput,
    ) -> Result<AttendanceReport> {
        let path = format!("/v1/sessions/{}/attendance", segment(&session_id));
        send(ctx, Method::PUT, &path, Some(to_value(&input)?)).await
    }

    /// Creates (or replaces) the signed-in citizen's private calendar feed.
    async fn create_private_calendar(&self, ctx: &Context<'_>) -> Result<PrivateCalendar> {
        send(ctx, Method::POST, "/v1/me/calendar", None).await
    }
}

#[derive(Default)]
pub struct EventsSubscription;

#[derive(Deserialize)]
struct SeatsNow {
    id: ID,
    capacity: Option<i32>,
    confirmed: i32,
    waitlisted: i32,
    seats_left: Option<i32>,
}

#[Subscription]
impl EventsSubscription {
    /// The seats of a session: now, then at every change, from whichever replica made it.
    async fn seats(
        &self,
        ctx: &Context<'_>,
        session_id: ID,
    ) -> Result<impl Stream<Item = Seats> + use<>> {
        let hub = ctx.data::<SeatsHub>()?.clone();
        let client = ctx.data::<ServiceClient>()?.clone();
        // Listen before reading, so no change between the two is missed.
        let updates = hub.watch();
        let now: SeatsNow = client
            .find(
                SERVICE,
                &format!("/v1/sessions/{}", segment(&session_id)),
                &CallContext::default(),
            )
            .await
            .map_err(gql)?
            .ok_or_else(|| gql(AppError::not_found("session inconnue")))?;
        let first = Seats {
            session_id: now.id.clone(),
            capacity: now.capacity,
            confirmed: now.confirmed,
            waitlisted: now.waitlisted,
            seats_left: now.seats_left,
        };
        let id = now.id.to_string();
        let changes = futures::stream::unfold(updates, move |mut rx| {
            let id = id.clone();
            async move {
                loop {
                    match rx.recv().await {
                        Ok(u) if u.session_id.to_string() == id => {
                            let seats = Seats {
                                session_id: ID(id),
                                capacity: u.capacity,
                                confirmed: u.confirmed,
                                waitlisted: u.waitlisted,
                                seats_left: u.seats_left,
                            };
                            return Some((seats, rx));
                        }
                        // Another session, or this subscriber fell behind: the next change
                        // carries the full counts anyway.
                        Ok(_) | Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        });
        Ok(futures::stream::once(async move { first }).chain(changes))
    }
}

//! Typed calls to the events service, one method per endpoint.

use crate::{
    inputs::{
        AttendanceInput, CancelInput, RegistrationInput, SeriesInput, SessionInput, TokenInput,
    },
    paths,
    queries::{CreateQuery, FeedQuery, ListQuery, PageQuery},
    views::{
        AttendanceView, MyRegistration, PrivateFeed, RegisterAnswer, RegistrationView, RollEntry,
        SeriesView, SessionGroup, SessionView,
    },
};
use cafeia_api::{
    Page,
    batch::chunks,
    client::{Call, ClientResult, Http, Method, RawAnswer, fill},
};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The events service over HTTP.
#[derive(Clone)]
pub struct EventsClient {
    http: Http,
}

/// No body to send.
const NO_BODY: Option<&()> = None;

fn at(template: &str, id: Uuid) -> String {
    fill(template, &[&id.to_string()])
}

impl EventsClient {
    pub fn new(http: Http) -> Self {
        Self { http }
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// A session, or `None` when unknown (drafts only for their facilitators and staff).
    pub async fn session(&self, call: &Call, id: Uuid) -> ClientResult<Option<SessionView>> {
        self.http.find(&at(paths::SESSION, id), &(), call).await
    }

    /// Public sessions, one cursor page (with the total of the filtered list).
    pub async fn sessions(
        &self,
        call: &Call,
        query: &ListQuery,
    ) -> ClientResult<Page<SessionView>> {
        self.http.get(paths::SESSIONS, query, call).await
    }

    /// A batch look-up at `path`: one call per `MAX_BATCH` ids (none for no ids), the
    /// answers put together.
    async fn batch<T: DeserializeOwned>(
        &self,
        call: &Call,
        path: &str,
        ids: &[Uuid],
    ) -> ClientResult<Vec<T>> {
        let mut found = Vec::new();
        for query in chunks(ids) {
            found.extend(self.http.get::<_, Vec<T>>(path, &query, call).await?);
        }
        Ok(found)
    }

    /// The sessions asked for that the caller may see (unknown ones absent).
    pub async fn sessions_by_ids(
        &self,
        call: &Call,
        ids: &[Uuid],
    ) -> ClientResult<Vec<SessionView>> {
        self.batch(call, paths::SESSIONS_BATCH, ids).await
    }

    /// The upcoming published sessions of each venue asked for, soonest first, at most 20
    /// each; venues without any are absent.
    pub async fn sessions_by_venue(
        &self,
        call: &Call,
        venue_ids: &[Uuid],
    ) -> ClientResult<Vec<SessionGroup>> {
        self.batch(call, paths::SESSIONS_BY_VENUE, venue_ids).await
    }

    /// The upcoming published sessions each facilitator asked for runs or co-runs, soonest
    /// first, at most 20 each; facilitators without any are absent.
    pub async fn sessions_by_facilitator(
        &self,
        call: &Call,
        facilitator_ids: &[Uuid],
    ) -> ClientResult<Vec<SessionGroup>> {
        self.batch(call, paths::SESSIONS_BY_FACILITATOR, facilitator_ids)
            .await
    }

    /// The sessions the signed-in facilitator runs or co-runs, drafts included, soonest
    /// first; one cursor page.
    pub async fn my_sessions(
        &self,
        call: &Call,
        page: &PageQuery,
    ) -> ClientResult<Page<SessionView>> {
        self.http.get(paths::MY_SESSIONS, page, call).await
    }

    /// Creates a session: a draft, or published at once with `publish`.
    pub async fn create_session(
        &self,
        call: &Call,
        input: &SessionInput,
        publish: bool,
    ) -> ClientResult<SessionView> {
        let query = CreateQuery { publish };
        self.http
            .change(Method::POST, paths::SESSIONS, &query, Some(input), call)
            .await
    }

    /// Creates a weekly or monthly series.
    pub async fn create_series(
        &self,
        call: &Call,
        input: &SeriesInput,
    ) -> ClientResult<SeriesView> {
        self.http
            .change(Method::POST, paths::SERIES, &(), Some(input), call)
            .await
    }

    /// Replaces a session's description.
    pub async fn update_session(
        &self,
        call: &Call,
        id: Uuid,
        input: &SessionInput,
    ) -> ClientResult<SessionView> {
        self.http
            .change(Method::PUT, &at(paths::SESSION, id), &(), Some(input), call)
            .await
    }

    /// Publishes a draft.
    pub async fn publish_session(&self, call: &Call, id: Uuid) -> ClientResult<SessionView> {
        self.http
            .change(
                Method::POST,
                &at(paths::SESSION_PUBLISH, id),
                &(),
                NO_BODY,
                call,
            )
            .await
    }

    /// Cancels a session; everyone registered is told.
    pub async fn cancel_session(
        &self,
        call: &Call,
        id: Uuid,
        input: &CancelInput,
    ) -> ClientResult<SessionView> {
        self.http
            .change(
                Method::POST,
                &at(paths::SESSION_CANCEL, id),
                &(),
                Some(input),
                call,
            )
            .await
    }

    /// Marks a started session as held.
    pub async fn complete_session(&self, call: &Call, id: Uuid) -> ClientResult<SessionView> {
        self.http
            .change(
                Method::POST,
                &at(paths::SESSION_COMPLETE, id),
                &(),
                NO_BODY,
                call,
            )
            .await
    }

    /// Registers to a session: signed in, the registration; with an email and consent, the
    /// same pending answer whatever the address holds (its owner confirms by mail).
    pub async fn register(
        &self,
        call: &Call,
        session_id: Uuid,
        input: &RegistrationInput,
    ) -> ClientResult<RegisterAnswer> {
        let path = at(paths::SESSION_REGISTRATIONS, session_id);
        self.http
            .change(Method::POST, &path, &(), Some(input), call)
            .await
    }

    /// Confirms a registration made with an email, with the token of the mailed link: the
    /// registration, with its cancellation token.
    pub async fn confirm_registration(
        &self,
        call: &Call,
        input: &TokenInput,
    ) -> ClientResult<RegistrationView> {
        self.http
            .change(
                Method::POST,
                paths::REGISTRATIONS_CONFIRM,
                &(),
                Some(input),
                call,
            )
            .await
    }

    /// A session's roll (its facilitators and staff), in arrival order; one cursor page.
    pub async fn roll(
        &self,
        call: &Call,
        session_id: Uuid,
        page: &PageQuery,
    ) -> ClientResult<Page<RollEntry>> {
        let path = at(paths::SESSION_REGISTRATIONS, session_id);
        self.http.get(&path, page, call).await
    }

    /// The signed-in registrant cancels.
    pub async fn cancel_registration(
        &self,
        call: &Call,
        id: Uuid,
    ) -> ClientResult<RegistrationView> {
        self.http
            .change(
                Method::DELETE,
                &at(paths::REGISTRATION, id),
                &(),
                NO_BODY,
                call,
            )
            .await
    }

    /// A person registered without an account cancels with their private token.
    pub async fn cancel_registration_with_token(
        &self,
        call: &Call,
        input: &TokenInput,
    ) -> ClientResult<RegistrationView> {
        self.http
            .change(
                Method::POST,
                paths::REGISTRATIONS_CANCEL,
                &(),
                Some(input),
                call,
            )
            .await
    }

    /// The signed-in citizen's registrations, soonest session first; one cursor page.
    pub async fn my_registrations(
        &self,
        call: &Call,
        page: &PageQuery,
    ) -> ClientResult<Page<MyRegistration>> {
        self.http.get(paths::MY_REGISTRATIONS, page, call).await
    }

    /// Erases every registration of the signed-in citizen (future ones are cancelled) and
    /// their private calendar feed.
    pub async fn erase_my_registrations(&self, call: &Call) -> ClientResult<()> {
        self.http
            .send::<_, _, serde_json::Value>(
                Method::DELETE,
                paths::MY_REGISTRATIONS,
                &(),
                NO_BODY,
                call,
            )
            .await
            .map(drop)
    }

    /// Erases the email and name of a registration made without an account, with its token
    /// (cancelled first if still to come).
    pub async fn erase_registration_with_token(
        &self,
        call: &Call,
        input: &TokenInput,
    ) -> ClientResult<()> {
        self.http
            .send::<_, _, serde_json::Value>(
                Method::POST,
                paths::REGISTRATIONS_ERASE,
                &(),
                Some(input),
                call,
            )
            .await
            .map(drop)
    }

    /// Stops the reminders of a registration, with the token of a reminder's unsubscription
    /// link.
    pub async fn stop_reminders(&self, call: &Call, input: &TokenInput) -> ClientResult<()> {
        self.http
            .send::<_, _, serde_json::Value>(
                Method::POST,
                paths::REGISTRATIONS_STOP_REMINDERS,
                &(),
                Some(input),
                call,
            )
            .await
            .map(drop)
    }

    /// Reports attendance, or corrects the report (replaces it).
    pub async fn report_attendance(
        &self,
        call: &Call,
        session_id: Uuid,
        input: &AttendanceInput,
    ) -> ClientResult<AttendanceView> {
        let path = at(paths::SESSION_ATTENDANCE, session_id);
        self.http
            .change(Method::PUT, &path, &(), Some(input), call)
            .await
    }

    /// A session's attendance report, or `None` before the first one.
    pub async fn attendance(
        &self,
        call: &Call,
        session_id: Uuid,
    ) -> ClientResult<Option<AttendanceView>> {
        let path = at(paths::SESSION_ATTENDANCE, session_id);
        self.http.find(&path, &(), call).await
    }

    /// Creates (or replaces) the signed-in citizen's private calendar feed.
    pub async fn create_private_calendar(&self, call: &Call) -> ClientResult<PrivateFeed> {
        self.http
            .change(Method::POST, paths::MY_CALENDAR, &(), NO_BODY, call)
            .await
    }

    /// One session as an iCalendar file (`text/calendar`).
    pub async fn session_calendar(&self, call: &Call, id: Uuid) -> ClientResult<RawAnswer> {
        self.http
            .raw(&at(paths::SESSION_CALENDAR, id), &(), call)
            .await
    }

    /// A facilitator's public sessions as an iCalendar feed.
    pub async fn facilitator_calendar(
        &self,
        call: &Call,
        facilitator_id: Uuid,
    ) -> ClientResult<RawAnswer> {
        self.http
            .raw(&at(paths::FACILITATOR_CALENDAR, facilitator_id), &(), call)
            .await
    }

    /// The public iCalendar feed (published and cancelled sessions), filtered like the list:
    /// by département, topic, dates.
    pub async fn public_calendar(&self, call: &Call, query: &FeedQuery) -> ClientResult<RawAnswer> {
        self.http.raw(paths::PUBLIC_CALENDAR, query, call).await
    }

    /// A citizen's private iCalendar feed, by the token of its path.
    pub async fn private_calendar(&self, call: &Call, token: &str) -> ClientResult<RawAnswer> {
        self.http
            .raw(&fill(paths::PRIVATE_CALENDAR, &[token]), &(), call)
            .await
    }

    /// A session as schema.org `Event`/`EducationEvent` (`application/ld+json`).
    pub async fn session_jsonld(&self, call: &Call, id: Uuid) -> ClientResult<RawAnswer> {
        self.http
            .raw(&at(paths::SESSION_JSONLD, id), &(), call)
            .await
    }
}

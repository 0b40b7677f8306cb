//! The events service's routes, full paths: the service registers exactly these, the client
//! fills them (`cafeia_api::client::fill`).

/// GET: published sessions (cursor pages); POST: creates a session (`?publish=true` to publish).
pub const SESSIONS: &str = "/v1/sessions";
/// GET `?ids=<uuid>,…`: the sessions asked for (at most 100) that the caller may see, with the
/// same visibility as one session's look-up; unknown ids are absent.
pub const SESSIONS_BATCH: &str = "/v1/sessions/batch";
/// GET `?ids=<venue uuid>,…`: the upcoming published sessions of each venue, soonest first,
/// at most 20 each.
pub const SESSIONS_BY_VENUE: &str = "/v1/sessions/by-venue";
/// GET `?ids=<facilitator uuid>,…`: the upcoming published sessions each facilitator runs or
/// co-runs, soonest first, at most 20 each.
pub const SESSIONS_BY_FACILITATOR: &str = "/v1/sessions/by-facilitator";
/// POST: creates a weekly or monthly series of sessions.
pub const SERIES: &str = "/v1/series";
/// GET: one session; PUT: replaces its description.
pub const SESSION: &str = "/v1/sessions/{id}";
/// POST: publishes a draft.
pub const SESSION_PUBLISH: &str = "/v1/sessions/{id}/publish";
/// POST: cancels a session (its facilitator, or staff covering its territory).
pub const SESSION_CANCEL: &str = "/v1/sessions/{id}/cancel";
/// POST: marks a started session as held.
pub const SESSION_COMPLETE: &str = "/v1/sessions/{id}/complete";
/// GET: the session as schema.org `Event`/`EducationEvent` (JSON-LD).
pub const SESSION_JSONLD: &str = "/v1/sessions/{id}/jsonld";
/// GET: the session as an iCalendar file.
pub const SESSION_CALENDAR: &str = "/v1/sessions/{id}/calendar.ics";
/// POST: registers to the session; GET: its roll (facilitators and staff; cursor pages).
pub const SESSION_REGISTRATIONS: &str = "/v1/sessions/{id}/registrations";
/// PUT: reports (or corrects) attendance; GET: the report.
pub const SESSION_ATTENDANCE: &str = "/v1/sessions/{id}/attendance";
/// POST: confirms a registration made without an account, with the token of the link mailed
/// to its email; the seat (or waiting-list place) is decided then.
pub const REGISTRATIONS_CONFIRM: &str = "/v1/registrations/confirm";
/// POST: cancels a registration made without an account, with its private token.
pub const REGISTRATIONS_CANCEL: &str = "/v1/registrations/cancel";
/// POST: erases the personal data of a registration made without an account, with its token.
pub const REGISTRATIONS_ERASE: &str = "/v1/registrations/erase";
/// POST: stops the reminders of a registration, with the token of a reminder's one-click
/// unsubscription link (RFC 8058); no sign-in.
pub const REGISTRATIONS_STOP_REMINDERS: &str = "/v1/registrations/reminders/stop";
/// DELETE: the signed-in registrant cancels.
pub const REGISTRATION: &str = "/v1/registrations/{id}";
/// GET: the sessions the signed-in facilitator runs or co-runs (cursor pages).
pub const MY_SESSIONS: &str = "/v1/me/sessions";
/// GET: the signed-in citizen's registrations (cursor pages); DELETE: erases all of them.
pub const MY_REGISTRATIONS: &str = "/v1/me/registrations";
/// POST: creates (or replaces) the signed-in citizen's private calendar feed.
pub const MY_CALENDAR: &str = "/v1/me/calendar";
/// GET: the public iCalendar feed, by département and topic.
pub const PUBLIC_CALENDAR: &str = "/v1/calendars/public.ics";
/// GET: a facilitator's public sessions as an iCalendar feed.
pub const FACILITATOR_CALENDAR: &str = "/v1/calendars/facilitators/{id}/feed.ics";
/// GET: a citizen's private iCalendar feed (the token is the secret).
pub const PRIVATE_CALENDAR: &str = "/v1/calendars/private/{token}/feed.ics";

/// Every route above, so tests can check the OpenAPI document lists each of them.
pub const ALL: [&str; 24] = [
    SESSIONS,
    SESSIONS_BATCH,
    SESSIONS_BY_VENUE,
    SESSIONS_BY_FACILITATOR,
    SERIES,
    SESSION,
    SESSION_PUBLISH,
    SESSION_CANCEL,
    SESSION_COMPLETE,
    SESSION_JSONLD,
    SESSION_CALENDAR,
    SESSION_REGISTRATIONS,
    SESSION_ATTENDANCE,
    REGISTRATIONS_CONFIRM,
    REGISTRATIONS_CANCEL,
    REGISTRATIONS_ERASE,
    REGISTRATIONS_STOP_REMINDERS,
    REGISTRATION,
    MY_SESSIONS,
    MY_REGISTRATIONS,
    MY_CALENDAR,
    PUBLIC_CALENDAR,
    FACILITATOR_CALENDAR,
    PRIVATE_CALENDAR,
];

/// Not a route of the service: the public address (on the web app's host, the gateway's) that a
/// reminder's `List-Unsubscribe` names; a mail reader POSTs `List-Unsubscribe=One-Click` there
/// and the gateway calls [`REGISTRATIONS_STOP_REMINDERS`] with the token.
pub const PUBLIC_UNSUBSCRIBE: &str = "/mail/unsubscribe/{token}";

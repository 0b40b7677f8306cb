//! The events service's contract: everything that crosses its boundary. The service serves these
//! shapes, the gateway and every consumer of its messages read them, so a drift between them
//! is a compile error.
//!
//! - `paths`: the routes, full paths;
//! - `enums`: statuses, registration modes, accessibility, frequencies;
//! - `inputs`, `queries`: request bodies and query strings, with their defaults;
//! - `views`: the answers;
//! - `messages`: what the service publishes on the bus;
//! - `client` (feature `client`): the typed client.

pub mod enums;
pub mod inputs;
pub mod messages;
pub mod paths;
pub mod queries;
pub mod views;

#[cfg(feature = "client")]
mod client;

#[cfg(feature = "client")]
pub use client::EventsClient;
pub use enums::{
    Accessibility, CancellationCause, Frequency, RegistrationMode, RegistrationStatus,
    SessionStatus,
};
pub use inputs::{
    AttendanceInput, CancelInput, Recurrence, RegistrationInput, RollCall, SeriesInput,
    SessionInput, TokenInput,
};
pub use queries::{CreateQuery, FeedQuery, ListQuery, PageQuery};
pub use views::{
    AttendanceView, FacilitatorRef, MyRegistration, PrivateFeed, RegisterAnswer,
    RegistrationPending, RegistrationView, RollEntry, SeriesView, SessionGroup, SessionPlace,
    SessionView,
};

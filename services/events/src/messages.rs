//! What the events service publishes through its outbox: the payloads and message types live
//! in the contract (`cafeia_events_api::messages`), which every consumer reads too.

pub use cafeia_events_api::messages::*;

//! What the catalogue publishes through its outbox: the payloads and message types live in the
//! contract (`cafeia_catalogue_api::messages`), shared with every consumer.

pub use cafeia_catalogue_api::messages::*;

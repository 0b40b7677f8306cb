//! What every service contract shares. Each service publishes a contract crate
//! (`cafeia-<service>-api`) with the shapes that cross its boundary — REST requests and
//! answers, query strings, enums with their defaults, message payloads, paths and a typed
//! client — built on the pieces here: the controlled vocabularies, the one catalogue of error
//! codes and its problem documents, message types, pages, and the client core.
//!
//! A contract depends on serde and, behind features, on the derives its users need
//! (`graphql` for the gateway, `openapi` for the services' documents, `client` for callers,
//! `storage` for the enum columns of the services that store them): never on a service, the
//! gateway or a database driver.

pub mod batch;
pub mod decisions;
pub mod errors;
pub mod message;
pub mod page;
#[cfg(feature = "openapi")]
pub mod schemas;
pub mod vocabulary;

#[cfg(feature = "client")]
pub mod client;

pub use errors::{ErrorCode, FieldError, Problem};
pub use message::MessageType;
pub use page::Page;

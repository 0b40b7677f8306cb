//! The launcher's library: the in-process stack, shared by the `cafeia` binary and the
//! end-to-end tests.

pub mod stack;

use cafeia_platform::config;

/// Why a command failed: a configuration error (exit code 2) or anything else (exit code 1).
#[derive(Debug)]
pub enum Failure {
    Config(config::ConfigError),
    Other(String),
}

impl From<config::ConfigError> for Failure {
    fn from(e: config::ConfigError) -> Self {
        Failure::Config(e)
    }
}

impl<E: std::fmt::Display> From<E> for Failure
where
    E: NotConfigError,
{
    fn from(e: E) -> Self {
        Failure::Other(e.to_string())
    }
}

impl From<cafeia_platform::runtime::StartError> for Failure {
    /// A service's own settings refused at start are configuration errors too (exit 2).
    fn from(e: cafeia_platform::runtime::StartError) -> Self {
        match e {
            cafeia_platform::runtime::StartError::Config(e) => Failure::Config(e),
            other => Failure::Other(other.to_string()),
        }
    }
}

/// Errors reported as plain failures (exit 1) rather than configuration errors (exit 2).
pub trait NotConfigError {}
impl NotConfigError for sea_orm::DbErr {}
impl NotConfigError for String {}
impl NotConfigError for std::io::Error {}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Config(e) => write!(f, "{e}"),
            Failure::Other(e) => f.write_str(e),
        }
    }
}

//! The web app in a real browser (headless Chromium), on the whole stack with its demo data,
//! one module per part of the app. Each flow starts its own stack, and `.config/nextest.toml`
//! runs them one at a time (test group `browser`).

mod citizen;
mod console_catalogue;
mod console_dashboard;
mod console_people;
mod dev_mailbox;
mod facilitator;
mod oidc;
mod sessions;

//! What the facilitators service tells the others, through its outbox: the payloads and
//! message types live in the contract (`cafeia_facilitators_api::messages`), which every
//! consumer reads too.

pub use cafeia_facilitators_api::messages::*;

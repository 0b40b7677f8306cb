//! LHEO (Langage Harmonisé d'Échange d'informations sur l'Offre de formation) import and
//! export: `lheo > offres > formation > action > session`, with
//! `organisme-formation-responsable`, plus our own values in `extras[@info="cafeia"]` so an
//! export imports back unchanged.
//!
//! The reader (crate `cafeia-lheo`) streams: it holds one `<formation>` at a time (bounded),
//! refuses DTDs (so no entity expansion, no billion laughs), bounds nesting depth and the size
//! of any single XML event, and accepts UTF-8 only. `mapping` turns an offer's tree into a programme to
//! validate, naming the element at fault. `import` writes offers in batches: a bad offer is
//! reported and skipped; a malformed or hostile file stops the import and nothing is written
//! (one transaction). `export` writes the published catalogue back as LHEO.

mod export;
mod import;
mod mapping;

pub use cafeia_lheo::{
    FileError, Guarded, MAX_DEPTH, MAX_EVENT_BYTES, MAX_FILE_BYTES, MAX_OFFER_BYTES, NextOffer,
    Node, OfferReader, read_all,
};
pub use export::export;
pub use import::import;
pub use mapping::{Offer, ProviderDraft, interpret};

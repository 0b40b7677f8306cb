//! Route templates of the facilitators service, full paths. The service registers exactly
//! these; the client fills them with `cafeia_api::client::fill`.

/// The staff directory (GET).
pub const FACILITATORS: &str = "/v1/facilitators";
/// Facilitators by status in each département (GET, staff).
pub const FACILITATOR_COUNTS: &str = "/v1/facilitators/stats/departements";
/// The signed-in facilitator: register (POST), read (GET), edit (PATCH), erase (DELETE).
pub const MY_PROFILE: &str = "/v1/facilitators/me";
/// Everything held about the signed-in facilitator (GET, personal data access).
pub const MY_DATA: &str = "/v1/facilitators/me/export";
/// The venues the signed-in facilitator created (GET).
pub const MY_VENUES: &str = "/v1/facilitators/me/venues";
/// Public profiles of facilitators by ids (GET `?ids=<uuid>,<uuid>`, at most 100; anyone).
/// Registered before [`FACILITATOR`], whose `{id}` would otherwise capture it.
pub const FACILITATOR_PROFILES_BATCH: &str = "/v1/facilitators/profiles/batch";
/// One facilitator (GET, staff).
pub const FACILITATOR: &str = "/v1/facilitators/{id}";
/// Who decided what about a facilitator (GET, staff).
pub const FACILITATOR_AUDIT: &str = "/v1/facilitators/{id}/audit";
/// Staff decisions (POST): verify a pending facilitator.
pub const VERIFY: &str = "/v1/facilitators/{id}/verify";
/// Suspend a facilitator (a reason is required).
pub const SUSPEND: &str = "/v1/facilitators/{id}/suspend";
/// Reinstate a suspended facilitator.
pub const REINSTATE: &str = "/v1/facilitators/{id}/reinstate";
/// Stops a facilitator's digests (POST, no account: the token of a digest's one-click
/// unsubscription).
pub const DIGESTS_STOP: &str = "/v1/facilitators/digests/stop";
/// The gateway's one-click unsubscription address of a digest (RFC 8058, POST).
pub const PUBLIC_DIGEST_UNSUBSCRIBE: &str = "/mail/digests/unsubscribe/{token}";

/// Organisations: create (POST), public directory (GET).
pub const ORGANISATIONS: &str = "/v1/organisations";
/// One organisation (GET).
pub const ORGANISATION: &str = "/v1/organisations/{id}";

/// Venues: create (POST), public list (GET).
pub const VENUES: &str = "/v1/venues";
/// Public venues in the national standard (GET, CSV or JSON).
pub const VENUES_EXPORT: &str = "/v1/venues/export";
/// Venues by ids (GET `?ids=<uuid>,<uuid>`, at most 100), each visible as [`VENUE`] shows it.
pub const VENUES_BATCH: &str = "/v1/venues/batch";
/// Import in the national standard (POST, national staff).
pub const VENUES_IMPORT: &str = "/v1/venues/import";
/// One venue: read (GET), replace (PUT), remove (DELETE).
pub const VENUE: &str = "/v1/venues/{id}";

/// Communes whose name or postcode starts with `search` (GET; suggestions while typing).
pub const COMMUNES: &str = "/v1/territories/communes";
/// A commune by INSEE code (GET).
pub const COMMUNE: &str = "/v1/territories/communes/{insee}";
/// The communes a postcode serves (GET).
pub const POSTCODE: &str = "/v1/territories/postcodes/{postcode}";

/// Every route above, so tests can check the OpenAPI document lists each of them.
pub const ALL: [&str; 22] = [
    FACILITATORS,
    FACILITATOR_COUNTS,
    MY_PROFILE,
    MY_DATA,
    MY_VENUES,
    FACILITATOR_PROFILES_BATCH,
    FACILITATOR,
    FACILITATOR_AUDIT,
    VERIFY,
    SUSPEND,
    REINSTATE,
    DIGESTS_STOP,
    ORGANISATIONS,
    ORGANISATION,
    VENUES,
    VENUES_EXPORT,
    VENUES_BATCH,
    VENUES_IMPORT,
    VENUE,
    COMMUNES,
    COMMUNE,
    POSTCODE,
];

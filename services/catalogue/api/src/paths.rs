//! Route templates of the catalogue's REST API, shared by the service's routes and the typed
//! client (`cafeia_api::client::fill` fills the `{id}` segments).

/// The OpenAPI document of the service.
pub const OPENAPI: &str = "/openapi.json";

/// Declare a provider (POST).
pub const PROVIDERS: &str = "/v1/providers";
/// Several providers at once (GET, `?ids=<uuid>,<uuid>`).
pub const PROVIDERS_BATCH: &str = "/v1/providers/batch";
/// One provider (GET).
pub const PROVIDER: &str = "/v1/providers/{id}";

/// Published programmes (GET, filtered) and submission (POST).
pub const TRAININGS: &str = "/v1/trainings";
/// Several programmes at once (GET, `?ids=<uuid>,<uuid>`), each if the caller may see it.
pub const TRAININGS_BATCH: &str = "/v1/trainings/batch";
/// The published catalogue as an LHEO document (GET).
pub const TRAININGS_EXPORT: &str = "/v1/trainings/export";
/// Import an LHEO document (POST, the XML file as the body).
pub const TRAININGS_IMPORT: &str = "/v1/trainings/import";
/// Programmes awaiting review, oldest first (GET; national staff).
pub const TRAININGS_REVIEW: &str = "/v1/trainings/review";
/// One programme (GET, PUT).
pub const TRAINING: &str = "/v1/trainings/{id}";
/// A programme as schema.org JSON-LD (GET).
pub const TRAINING_JSON_LD: &str = "/v1/trainings/{id}/jsonld";
/// A programme's audit trail (GET).
pub const TRAINING_AUDIT: &str = "/v1/trainings/{id}/audit";
/// What each edit of a programme changed, before and after (GET).
pub const TRAINING_EDITS: &str = "/v1/trainings/{id}/edits";
/// Staff publish a submitted programme (POST).
pub const TRAINING_PUBLISH: &str = "/v1/trainings/{id}/publish";
/// Staff refuse a submitted programme, with a reason (POST).
pub const TRAINING_REJECT: &str = "/v1/trainings/{id}/reject";
/// Staff or the provider withdraw a published programme (POST).
pub const TRAINING_WITHDRAW: &str = "/v1/trainings/{id}/withdraw";

/// Published educational modules (GET, filtered) and submission (POST).
pub const MODULES: &str = "/v1/modules";
/// Several modules at once (GET, `?ids=<uuid>,<uuid>`), each if the caller may see it.
pub const MODULES_BATCH: &str = "/v1/modules/batch";
/// Modules awaiting review, oldest first (GET; national staff).
pub const MODULES_REVIEW: &str = "/v1/modules/review";
/// One module (GET, PUT).
pub const MODULE: &str = "/v1/modules/{id}";
/// Staff review of a module (POST).
pub const MODULE_REVIEW: &str = "/v1/modules/{id}/review";

/// Every `/v1` route above (not the document itself), so tests can check the OpenAPI document
/// lists each of them.
pub const ALL: [&str; 20] = [
    PROVIDERS,
    PROVIDERS_BATCH,
    PROVIDER,
    TRAININGS,
    TRAININGS_BATCH,
    TRAININGS_EXPORT,
    TRAININGS_IMPORT,
    TRAININGS_REVIEW,
    TRAINING,
    TRAINING_JSON_LD,
    TRAINING_AUDIT,
    TRAINING_EDITS,
    TRAINING_PUBLISH,
    TRAINING_REJECT,
    TRAINING_WITHDRAW,
    MODULES,
    MODULES_BATCH,
    MODULES_REVIEW,
    MODULE,
    MODULE_REVIEW,
];

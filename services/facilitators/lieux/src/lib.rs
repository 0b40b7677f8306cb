//! The national open-data standard for digital-inclusion venues (« lieux de médiation
//! numérique »): its columns, and its CSV (lists joined with `|`) or JSON files read into rows.
//! A file that cannot be read as a whole (a bad header, a ragged or undecodable line, JSON of
//! the wrong shape) is refused with the reason, naming the line; reading each row into a venue
//! is the facilitators service's (`lieux`).
//!
//! Its own crate, without the service around it, so that the fuzz targets (`fuzz/`) build it
//! alone.

use cafeia_api::FieldError;
use cafeia_facilitators_api::VenueFileFormat;
use std::collections::BTreeMap;

/// Columns of the standard we read and write, in the standard's order.
pub const COLUMNS: [&str; 14] = [
    "id",
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "horaires",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "date_maj",
];

/// Columns a row cannot do without.
pub const REQUIRED: [&str; 5] = ["id", "nom", "code_postal", "adresse", "services"];

fn invalid(message: impl Into<String>) -> FieldError {
    FieldError {
        field: "file".into(),
        message: message.into(),
    }
}

/// One venue as the file gives it: column (or JSON key) → text, lists joined with `|`.
pub type Row = BTreeMap<String, String>;

/// Every row of a file, or why the file cannot be read (the field is `file`).
pub fn read_rows(format: VenueFileFormat, bytes: &[u8]) -> Result<Vec<Row>, FieldError> {
    match format {
        VenueFileFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
            let headers = reader
                .headers()
                .map_err(|e| invalid(format!("en-tête CSV illisible : {e}")))?
                .iter()
                .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
                .collect::<Vec<_>>();
            for column in REQUIRED {
                if !headers.iter().any(|h| h == column) {
                    return Err(invalid(format!("colonne obligatoire absente : {column}")));
                }
            }
            let mut rows = Vec::new();
            for (i, record) in reader.records().enumerate() {
                let record =
                    record.map_err(|e| invalid(format!("ligne {} illisible : {e}", i + 1)))?;
                rows.push(
                    headers
                        .iter()
                        .cloned()
                        .zip(record.iter().map(str::to_owned))
                        .collect(),
                );
            }
            Ok(rows)
        }
        VenueFileFormat::Json => {
            let value: serde_json::Value = serde_json::from_slice(bytes)
                .map_err(|e| invalid(format!("JSON illisible : {e}")))?;
            let items = match value {
                serde_json::Value::Array(items) => items,
                serde_json::Value::Object(mut map) => match map.remove("lieux") {
                    Some(serde_json::Value::Array(items)) => items,
                    _ => {
                        return Err(invalid(
                            "attendu un tableau de lieux (ou {\"lieux\": [...]})",
                        ));
                    }
                },
                _ => return Err(invalid("attendu un tableau de lieux")),
            };
            Ok(items
                .into_iter()
                .map(|item| match item {
                    serde_json::Value::Object(map) => map
                        .into_iter()
                        .map(|(k, v)| {
                            let text = match v {
                                serde_json::Value::String(s) => s,
                                serde_json::Value::Array(list) => list
                                    .into_iter()
                                    .map(|x| {
                                        x.as_str()
                                            .map(str::to_owned)
                                            .unwrap_or_else(|| x.to_string())
                                    })
                                    .collect::<Vec<_>>()
                                    .join("|"),
                                serde_json::Value::Null => String::new(),
                                other => other.to_string(),
                            };
                            (k, text)
                        })
                        .collect(),
                    _ => Row::new(),
                })
                .collect())
        }
    }
}

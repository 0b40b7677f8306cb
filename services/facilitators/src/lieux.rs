//! Import and export of venues in the national open-data standard for digital-inclusion venues
//! (« lieux de médiation numérique »): CSV (lists joined with `|`) or JSON. Imports are
//! idempotent by the standard's `id`; each row is validated on its own and reported, valid
//! rows go in, invalid ones change nothing. Reading the file into rows is `cafeia-lieux`'s.

use crate::{
    domain::{Accessibility, wire_name},
    storage::{unreadable, venue},
    venues::{self, ValidVenue},
};
use cafeia_facilitators_api::{VenueFileFormat, VenueImportError, VenueImportReport, VenueInput};
use cafeia_lieux::{COLUMNS, REQUIRED, Row, read_rows};
use cafeia_platform::{
    AppError,
    errors::{AppResult, FieldError},
    territory::Gazetteer,
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use std::collections::HashSet;
use uuid::Uuid;

/// The standard's « prise en charge spécifique » values we map to our accessibility features.
const ACCESSIBILITY: [(&str, Accessibility); 6] = [
    ("Handicaps moteurs", Accessibility::Wheelchair),
    ("Surdité", Accessibility::HearingLoop),
    ("Langue des signes française", Accessibility::Lsf),
    ("Illettrisme", Accessibility::EasyRead),
    ("Déficience visuelle", Accessibility::VisualAids),
    ("Toilettes adaptées", Accessibility::AdaptedToilets),
];

const MAX_REPORTED_ERRORS: usize = 1000;

/// Counts a refused row and reports its problems (up to [`MAX_REPORTED_ERRORS`] in all).
fn reject(report: &mut VenueImportReport, row: u64, id: Option<&str>, errors: Vec<FieldError>) {
    report.rejected += 1;
    for e in errors {
        if report.errors.len() < MAX_REPORTED_ERRORS {
            report.errors.push(VenueImportError {
                row,
                id: id.map(str::to_owned),
                field: e.field,
                message: e.message,
            });
        }
    }
}

fn list(value: Option<&String>) -> Vec<String> {
    value
        .map(|v| {
            v.split('|')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

fn number(row: &Row, field: &str, problems: &mut Vec<FieldError>) -> Option<f64> {
    let text = row.get(field).map(|s| s.trim()).filter(|s| !s.is_empty())?;
    match text.replace(',', ".").parse::<f64>() {
        Ok(n) if n.is_finite() => Some(n),
        _ => {
            problems.push(FieldError {
                field: field.into(),
                message: format!("nombre illisible : {text:?}"),
            });
            None
        }
    }
}

/// One row of the standard as our venue input, or what is wrong with it.
fn to_input(row: &Row, existing: Option<&venue::Model>) -> Result<VenueInput, Vec<FieldError>> {
    let mut problems = Vec::new();
    for column in REQUIRED {
        if row.get(column).is_none_or(|v| v.trim().is_empty()) {
            problems.push(FieldError {
                field: column.into(),
                message: "champ obligatoire vide".into(),
            });
        }
    }
    let latitude = number(row, "latitude", &mut problems);
    let longitude = number(row, "longitude", &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let get = |k: &str| row.get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
    let mut address = get("adresse");
    let complement = get("complement_adresse");
    if !complement.is_empty() {
        address = format!("{address}, {complement}");
    }
    let accessibility = list(row.get("prise_en_charge_specifique"))
        .iter()
        .filter_map(|v| {
            ACCESSIBILITY
                .iter()
                .find(|(label, _)| label == v)
                .map(|(_, ours)| wire_name(ours))
        })
        .collect();
    Ok(VenueInput {
        name: get("nom"),
        address,
        postcode: get("code_postal"),
        insee: Some(get("code_insee")).filter(|s| !s.is_empty()),
        latitude,
        longitude,
        opening_hours: Some(get("horaires")).filter(|s| !s.is_empty()),
        accessibility,
        capacity: existing.and_then(|e| e.capacity),
        services: list(row.get("services")),
        publics: list(row.get("publics_specifiquement_adresses")),
        // An author's choice to keep a venue private survives re-imports.
        is_public: existing.is_none_or(|e| e.is_public),
        organisation_id: existing.and_then(|e| e.organisation_id),
    })
}

/// Imports a file; one transaction for all valid rows, so a failure midway writes nothing.
pub async fn import(
    db: &DatabaseConnection,
    actor: &str,
    format: VenueFileFormat,
    bytes: &[u8],
) -> AppResult<VenueImportReport> {
    let rows = read_rows(format, bytes).map_err(|e| AppError::invalid(e.field, e.message))?;
    let mut report = VenueImportReport {
        total: rows.len() as u64,
        ..VenueImportReport::default()
    };
    let mut seen = HashSet::new();
    let txn = cafeia_platform::db::begin(db).await?;
    for (index, row) in rows.iter().enumerate() {
        let number = index as u64 + 1;
        let id = row
            .get("id")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        if let Some(id) = &id {
            if !seen.insert(id.clone()) {
                reject(
                    &mut report,
                    number,
                    Some(id),
                    vec![FieldError {
                        field: "id".into(),
                        message: "identifiant en double dans le fichier".into(),
                    }],
                );
                continue;
            }
            if id.chars().count() > 255 {
                reject(
                    &mut report,
                    number,
                    Some(id),
                    vec![FieldError {
                        field: "id".into(),
                        message: "identifiant trop long".into(),
                    }],
                );
                continue;
            }
        }
        // Our own exports use our ids: a round trip finds the same venues again.
        let existing = match &id {
            Some(id) => match venue::Entity::find()
                .filter(venue::Column::SourceId.eq(id.as_str()))
                .one(&txn)
                .await
                .map_err(unreadable("venue"))?
            {
                Some(v) => Some(v),
                None => match Uuid::parse_str(id) {
                    Ok(uuid) => venue::Entity::find_by_id(uuid)
                        .one(&txn)
                        .await
                        .map_err(unreadable("venue"))?,
                    Err(_) => None,
                },
            },
            None => None,
        };
        let input = match to_input(row, existing.as_ref()) {
            Ok(input) => input,
            Err(errors) => {
                reject(&mut report, number, id.as_deref(), errors);
                continue;
            }
        };
        let valid: ValidVenue = match venues::validate(&input) {
            Ok(v) => v,
            Err(errors) => {
                reject(&mut report, number, id.as_deref(), errors);
                continue;
            }
        };
        let Some(source_id) = id else { continue };
        match existing {
            Some(current) if venues::stored(&current) == valid => report.unchanged += 1,
            Some(current) => {
                let mut model = current.into_active_model();
                venues::apply(&mut model, &valid);
                let model = model.update(&txn).await?;
                cafeia_platform::audit::record(
                    &txn,
                    cafeia_platform::audit::Actor::staff(actor),
                    "venue_imported",
                    "venue",
                    model.id,
                    None,
                )
                .await?;
                venues::announce_upsert(&txn, &model).await?;
                report.updated += 1;
            }
            None => {
                let now = Utc::now();
                let mut model = venue::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    source_id: Set(Some(source_id.clone())),
                    organisation_id: Set(None),
                    created_by: Set(None),
                    created_at: Set(now),
                    ..Default::default()
                };
                venues::apply(&mut model, &valid);
                // Absent when looked up, present now: another import wrote it meanwhile
                // (PostgreSQL; SQLite runs imports one at a time). Nothing of this one is
                // kept; importing again updates it.
                let model = model.insert(&txn).await.map_err(|e| {
                    crate::domain::already_exists(
                        e,
                        &format!(
                            "le lieu {source_id:?} vient d'être importé par ailleurs : relancez l'import"
                        ),
                    )
                })?;
                cafeia_platform::audit::record(
                    &txn,
                    cafeia_platform::audit::Actor::staff(actor),
                    "venue_imported",
                    "venue",
                    model.id,
                    None,
                )
                .await?;
                venues::announce_upsert(&txn, &model).await?;
                report.created += 1;
            }
        }
    }
    txn.commit().await?;
    Ok(report)
}

fn to_row(model: &venue::Model) -> Vec<(String, serde_json::Value)> {
    let v = venues::stored(model);
    let commune = Gazetteer::get()
        .commune(&v.insee)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let accessibility: Vec<String> = v
        .accessibility
        .iter()
        .filter_map(|a| {
            ACCESSIBILITY
                .iter()
                .find(|(_, ours)| ours == a)
                .map(|(label, _)| (*label).to_owned())
        })
        .collect();
    let s = |x: &str| serde_json::Value::String(x.to_owned());
    let arr = |xs: &[String]| serde_json::Value::Array(xs.iter().map(|x| s(x)).collect());
    vec![
        (
            "id".into(),
            s(model.source_id.as_deref().unwrap_or(&model.id.to_string())),
        ),
        ("nom".into(), s(&v.name)),
        ("commune".into(), s(&commune)),
        ("code_postal".into(), s(&v.postcode)),
        ("code_insee".into(), s(&v.insee)),
        ("adresse".into(), s(&v.address)),
        ("complement_adresse".into(), s("")),
        ("latitude".into(), serde_json::json!(v.lat)),
        ("longitude".into(), serde_json::json!(v.lon)),
        (
            "horaires".into(),
            s(v.opening_hours.as_deref().unwrap_or("")),
        ),
        ("services".into(), arr(&v.services)),
        ("publics_specifiquement_adresses".into(), arr(&v.publics)),
        ("prise_en_charge_specifique".into(), arr(&accessibility)),
        (
            "date_maj".into(),
            s(&model.updated_at.date_naive().to_string()),
        ),
    ]
}

/// Public venues in the standard: `(content type, body)`.
pub fn export(
    format: VenueFileFormat,
    rows: &[venue::Model],
) -> Result<(&'static str, Vec<u8>), csv::Error> {
    match format {
        VenueFileFormat::Json => {
            let items: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|m| to_row(m).into_iter().collect())
                .collect();
            Ok((
                "application/json",
                serde_json::to_vec(&items).unwrap_or_default(),
            ))
        }
        VenueFileFormat::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(COLUMNS)?;
            for m in rows {
                let record: Vec<String> = to_row(m)
                    .into_iter()
                    .map(|(_, v)| match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Array(xs) => xs
                            .iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect::<Vec<_>>()
                            .join("|"),
                        other => other.to_string(),
                    })
                    .collect();
                writer.write_record(record)?;
            }
            let bytes = writer.into_inner().map_err(|e| e.into_error())?;
            Ok(("text/csv; charset=utf-8", bytes))
        }
    }
}

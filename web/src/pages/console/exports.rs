//! « Exports » (`/pilotage/exports`): every count per département and month in the staff
//! member's territory, over a period, as a table and as files (CSV for a French spreadsheet,
//! JSON) with a name saying what they hold. A coordinator's figures are their territory's
//! (the API scopes them whatever is asked); the page offers no département outside it, and
//! refuses one typed by hand.

use super::{ConsolePage, Frame, Scope, layout, staff};
use crate::{
    Web,
    forms::{Choice, FormErrors},
    operations::{OutreachExportCells, outreach_export_cells},
    pages::{
        api_problem, link,
        open_data::{Row, csv_of, download, sort},
        problem, run,
    },
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

const PATH: &str = "/pilotage/exports";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(page))
        .route("/pilotage/exports/fichier", web::get().to(file));
}

/// The form, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Asked {
    #[serde(default)]
    pub du: String,
    #[serde(default)]
    pub au: String,
    #[serde(default)]
    pub departement: String,
    /// For the file: `csv` or `json`.
    #[serde(default)]
    pub format: String,
}

/// What the figures cover, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// One département of the scope, or all of it.
    pub departement: Option<String>,
}

/// A file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Json,
}

/// A typed day, none when the field is empty, `Err` when it does not read.
fn date(text: &str) -> Result<Option<NaiveDate>, ()> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    crate::format::typed_day(text).map(Some).ok_or(())
}

/// The form checked against the scope: the errors go next to their fields.
pub fn check(asked: &Asked, scope: &Scope) -> Result<Selection, FormErrors> {
    let mut errors = FormErrors::default();
    let from = date(&asked.du).unwrap_or_else(|()| {
        errors.add("du", "Date attendue, par exemple 01/01/2026.");
        None
    });
    let to = date(&asked.au).unwrap_or_else(|()| {
        errors.add("au", "Date attendue, par exemple 31/12/2026.");
        None
    });
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        errors.add("au", "La fin de la période doit venir après son début.");
    }
    // Written as the code says it (`2A`), whatever the case typed.
    let departement = Some(asked.departement.trim().to_uppercase()).filter(|d| !d.is_empty());
    if let Some(d) = &departement
        && !scope.departements().contains(d)
    {
        errors.add(
            "departement",
            format!(
                "Ce département n'est pas dans votre périmètre ({}).",
                scope.label()
            ),
        );
    }
    if errors.is_empty() {
        Ok(Selection {
            from,
            to,
            departement,
        })
    } else {
        Err(errors)
    }
}

/// `cafe-ia-activite-region-84-2026-01-01-au-2026-12-31.csv`: what the file holds, in ASCII.
pub fn file_name(scope: &Scope, selection: &Selection, format: FileFormat) -> String {
    let place = match (&selection.departement, scope) {
        (Some(d), _) => format!("departement-{d}"),
        (None, Scope::National) => "france".into(),
        (None, Scope::Region(r)) => format!("region-{r}"),
        (None, Scope::Departement(d)) => format!("departement-{d}"),
    };
    let day = |d: Option<NaiveDate>, none: &str| {
        d.map_or_else(|| none.to_owned(), |d| d.format("%Y-%m-%d").to_string())
    };
    let period = match (selection.from, selection.to) {
        (None, None) => "depuis-le-debut".to_owned(),
        (from, to) => format!("{}-au-{}", day(from, "debut"), day(to, "aujourd-hui")),
    };
    let extension = match format {
        FileFormat::Csv => "csv",
        FileFormat::Json => "json",
    };
    format!("cafe-ia-activite-{place}-{period}.{extension}")
}

/// The cells in the scope and selection, as the API gives them.
async fn cells(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    scope: &Scope,
    selection: &Selection,
) -> Result<Vec<Row>, HttpResponse> {
    let data = run::<OutreachExportCells>(
        app,
        req,
        visitor,
        outreach_export_cells::Variables {
            from: selection.from,
            to: selection.to,
            region: scope.region().map(str::to_owned),
        },
    )
    .await
    .map_err(|e| api_problem(visitor, &e))?;
    let mut rows: Vec<Row> = data
        .outreach_export
        .into_iter()
        // The API answers the scope; a département filter is the page's own.
        .filter(|c| scope.covers(&c.departement))
        .filter(|c| {
            selection
                .departement
                .as_ref()
                .is_none_or(|d| *d == c.departement)
        })
        .map(|c| {
            Row::new(
                c.departement,
                c.month,
                c.sessions,
                c.participations,
                c.reached,
            )
        })
        .collect();
    sort(&mut rows);
    Ok(rows)
}

/// The totals row.
pub struct Totals {
    pub sessions: i64,
    pub participations: i64,
    pub reached: i64,
}

impl Totals {
    pub fn sessions_text(&self) -> String {
        crate::format::number(self.sessions)
    }

    pub fn participations_text(&self) -> String {
        crate::format::number(self.participations)
    }

    pub fn reached_text(&self) -> String {
        crate::format::number(self.reached)
    }
}

#[derive(Template)]
#[template(path = "console_exports.html")]
pub struct ExportsPage {
    pub layout: Layout,
    pub frame: Frame,
    pub asked: Asked,
    pub departements: Vec<Choice>,
    pub errors: FormErrors,
    /// The figures, once the form reads.
    pub rows: Option<Vec<Row>>,
    pub totals: Totals,
    /// The files' links for what is shown.
    pub csv_url: String,
    pub json_url: String,
    pub period: String,
}

fn period(selection: &Selection) -> String {
    let day = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
    match (selection.from, selection.to) {
        (Some(a), Some(b)) => format!("du {} au {}", day(a), day(b)),
        (Some(a), None) => format!("depuis le {}", day(a)),
        (None, Some(b)) => format!("depuis le début jusqu'au {}", day(b)),
        (None, None) => "depuis le début".into(),
    }
}

async fn page(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<Asked>,
) -> HttpResponse {
    let asked = query.into_inner();
    let back = link(
        PATH,
        &[
            ("du", &asked.du),
            ("au", &asked.au),
            ("departement", &asked.departement),
        ],
    );
    let scope = match staff(&app, &req, &visitor, &back).await {
        Ok(scope) => scope,
        Err(answer) => return answer,
    };
    show(&app, &req, &visitor, scope, asked).await
}

async fn show(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    scope: Scope,
    asked: Asked,
) -> HttpResponse {
    let checked = check(&asked, &scope);
    let files = |format: &str| {
        link(
            "/pilotage/exports/fichier",
            &[
                ("format", format),
                ("du", &asked.du),
                ("au", &asked.au),
                ("departement", &asked.departement),
            ],
        )
    };
    let mut page = ExportsPage {
        layout: layout(visitor, "Exports"),
        departements: super::departement_choices(&scope, &asked.departement),
        errors: FormErrors::default(),
        rows: None,
        totals: Totals {
            sessions: 0,
            participations: 0,
            reached: 0,
        },
        csv_url: files("csv"),
        json_url: files("json"),
        period: String::new(),
        frame: Frame {
            scope,
            page: ConsolePage::Exports,
        },
        asked,
    };
    let status = match checked {
        Ok(selection) => {
            let rows = match cells(app, req, visitor, &page.frame.scope, &selection).await {
                Ok(rows) => rows,
                Err(answer) => return answer,
            };
            page.totals = Totals {
                sessions: rows.iter().map(|r| r.sessions).sum(),
                participations: rows.iter().filter_map(|r| r.participations).sum(),
                reached: rows.iter().filter_map(|r| r.reached).sum(),
            };
            page.period = period(&selection);
            page.rows = Some(rows);
            StatusCode::OK
        }
        Err(errors) => {
            page.errors = errors;
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    render::html(status, &page)
}

/// One cell in the JSON file.
#[derive(serde::Serialize)]
struct JsonCell<'a> {
    departement: &'a str,
    departement_name: &'a str,
    month: &'a str,
    sessions: i64,
    participations: Option<i64>,
    reached: Option<i64>,
}

async fn file(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    query: web::Query<Asked>,
) -> HttpResponse {
    let asked = query.into_inner();
    let back = link(
        PATH,
        &[
            ("du", &asked.du),
            ("au", &asked.au),
            ("departement", &asked.departement),
        ],
    );
    let scope = match staff(&app, &req, &visitor, &back).await {
        Ok(scope) => scope,
        Err(answer) => return answer,
    };
    let format = match asked.format.as_str() {
        "json" => FileFormat::Json,
        _ => FileFormat::Csv,
    };
    let selection = match check(&asked, &scope) {
        Ok(selection) => selection,
        // The form again, its errors next to the fields.
        Err(_) => return show(&app, &req, &visitor, scope, asked).await,
    };
    let rows = match cells(&app, &req, &visitor, &scope, &selection).await {
        Ok(rows) => rows,
        Err(answer) => return answer,
    };
    let name = file_name(&scope, &selection, format);
    let body = match format {
        FileFormat::Csv => csv_of(&rows).map_err(|e| e.to_string()),
        FileFormat::Json => serde_json::to_vec_pretty(
            &rows
                .iter()
                .map(|r| JsonCell {
                    departement: &r.departement,
                    departement_name: &r.departement_name,
                    month: &r.month,
                    sessions: r.sessions,
                    participations: r.participations,
                    reached: r.reached,
                })
                .collect::<Vec<_>>(),
        )
        .map_err(|e| e.to_string()),
    };
    match (body, format) {
        (Ok(body), FileFormat::Csv) => download("text/csv; charset=utf-8", &name, body),
        (Ok(body), FileFormat::Json) => download("application/json", &name, body),
        (Err(e), _) => {
            tracing::error!(error = %e, "outreach export failed");
            problem(
                &visitor,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Export impossible",
                "Le fichier n'a pas pu être préparé. Réessayez dans quelques minutes.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(du: &str, au: &str, departement: &str) -> Asked {
        Asked {
            du: du.into(),
            au: au.into(),
            departement: departement.into(),
            format: String::new(),
        }
    }

    #[test]
    fn a_coordinator_exports_inside_their_region_only() {
        let ara = Scope::Region("84".into());
        let errors = check(&asked("", "", "75"), &ara).expect_err("Paris is not in 84");
        assert!(errors.field("departement").is_some());
        let inside = check(&asked("2026-01-01", "2026-12-31", "69"), &ara).expect("Rhône");
        assert_eq!(
            file_name(&ara, &inside, FileFormat::Csv),
            "cafe-ia-activite-departement-69-2026-01-01-au-2026-12-31.csv"
        );
        let all = check(&asked("", "", ""), &ara).expect("the whole région");
        assert_eq!(
            file_name(&ara, &all, FileFormat::Json),
            "cafe-ia-activite-region-84-depuis-le-debut.json"
        );
        let reversed = check(&asked("2026-12-31", "2026-01-01", ""), &ara).expect_err("order");
        assert!(reversed.field("au").is_some());
    }
}

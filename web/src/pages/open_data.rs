//! « Données ouvertes » (`/donnees-ouvertes`, public, no sign-in): how many Cafés IA were held
//! and how many people came, per département and month, as a table and a CSV file. Counts of
//! people under 11 are not published (a small count in a small place could point at someone):
//! the page says so in plain French and shows such a cell as « moins de 11 ». The staff
//! export (`console::exports`) shows the same cells, whole, with the same code.

use super::{api_problem, run};
use crate::{
    Web, format,
    operations::{OpenDataCells, open_data_cells},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::header, web};
use askama::Template;
use cafeia_platform::territory::Gazetteer;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/donnees-ouvertes", web::get().to(page))
        .route("/donnees-ouvertes/cafes-ia.csv", web::get().to(csv_file));
}

/// Under this many people, a count is not published (the API hides it already).
pub const SMALL_CELL: i64 = 11;

/// One département and month.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub departement: String,
    pub departement_name: String,
    /// `YYYY-MM`.
    pub month: String,
    pub sessions: i64,
    /// `None`: not published (under 11).
    pub participations: Option<i64>,
    pub reached: Option<i64>,
}

impl Row {
    pub fn new(
        departement: String,
        month: String,
        sessions: i64,
        participations: Option<i64>,
        reached: Option<i64>,
    ) -> Self {
        let departement_name = Gazetteer::get()
            .departement(&departement)
            .map(|d| d.name.clone())
            .unwrap_or_default();
        Self {
            departement,
            departement_name,
            month,
            sessions,
            participations,
            reached,
        }
    }

    pub fn month_label(&self) -> String {
        format::month(&self.month)
    }

    /// « Rhône (69) ».
    pub fn place(&self) -> String {
        if self.departement_name.is_empty() {
            self.departement.clone()
        } else {
            format!("{} ({})", self.departement_name, self.departement)
        }
    }

    pub fn sessions_text(&self) -> String {
        format::number(self.sessions)
    }

    pub fn participations_text(&self) -> String {
        shown(self.participations)
    }

    pub fn reached_text(&self) -> String {
        shown(self.reached)
    }
}

/// A count as the table shows it: hidden ones as « moins de 11 ».
fn shown(count: Option<i64>) -> String {
    match count {
        Some(n) => format::number(n),
        None => format!("moins de {SMALL_CELL}"),
    }
}

/// Rows in reading order: the most recent month first, départements by code within it.
pub fn sort(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        b.month
            .cmp(&a.month)
            .then_with(|| a.departement.cmp(&b.departement))
    });
}

const HEADERS: [&str; 6] = [
    "Code du département",
    "Département",
    "Mois",
    "Sessions",
    "Participations",
    "Personnes sensibilisées",
];

/// The rows as CSV for a French spreadsheet: UTF-8 with a byte-order mark, `;` between cells
/// (as the roll's export); a count not published is an empty cell.
pub fn csv_of(rows: &[Row]) -> Result<Vec<u8>, csv::Error> {
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer("\u{feff}".as_bytes().to_vec());
    out.write_record(HEADERS)?;
    let count = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    for r in rows {
        out.write_record([
            r.departement.clone(),
            r.departement_name.clone(),
            r.month.clone(),
            r.sessions.to_string(),
            count(r.participations),
            count(r.reached),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error().into())
}

/// A file download: its type, its name, never cached by a shared cache.
pub fn download(content_type: &str, file_name: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file_name}\""),
        ))
        .body(body)
}

#[derive(Template)]
#[template(path = "open_data.html")]
pub struct OpenDataPage {
    pub layout: Layout,
    pub rows: Vec<Row>,
    pub hidden: usize,
    pub small: i64,
}

async fn cells(app: &Web, req: &HttpRequest, visitor: &Visitor) -> Result<Vec<Row>, HttpResponse> {
    let data = run::<OpenDataCells>(app, req, visitor, open_data_cells::Variables {})
        .await
        .map_err(|e| api_problem(visitor, &e))?;
    let mut rows: Vec<Row> = data
        .open_data_reach
        .into_iter()
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

async fn page(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    let rows = match cells(&app, &req, &visitor).await {
        Ok(rows) => rows,
        Err(answer) => return answer,
    };
    render::ok(&OpenDataPage {
        layout: Layout::new(&visitor, "Données ouvertes", Section::Other),
        hidden: rows
            .iter()
            .filter(|r| r.participations.is_none() || r.reached.is_none())
            .count(),
        rows,
        small: SMALL_CELL,
    })
}

async fn csv_file(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    let rows = match cells(&app, &req, &visitor).await {
        Ok(rows) => rows,
        Err(answer) => return answer,
    };
    match csv_of(&rows) {
        Ok(body) => download(
            "text/csv; charset=utf-8",
            "cafes-ia-donnees-ouvertes.csv",
            body,
        ),
        Err(e) => {
            tracing::error!(error = %e, "open data CSV failed");
            super::problem(
                &visitor,
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Export impossible",
                "Le fichier n'a pas pu être préparé. Réessayez dans quelques minutes.",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hidden_count_is_said_and_left_empty_in_the_file() {
        let mut rows = vec![
            Row::new("69".into(), "2026-10".into(), 2, Some(25), None),
            Row::new("01".into(), "2026-11".into(), 1, None, None),
        ];
        sort(&mut rows);
        assert_eq!(rows[0].month, "2026-11", "the latest month first");
        assert_eq!(rows[1].place(), "Rhône (69)");
        assert_eq!(rows[1].reached_text(), "moins de 11");
        let text = String::from_utf8(csv_of(&rows).expect("csv")).expect("UTF-8");
        assert!(text.starts_with('\u{feff}'));
        assert!(text.contains("\n69;Rhône;2026-10;2;25;\n"), "{text}");
    }
}

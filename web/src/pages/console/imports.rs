//! « Imports » (`/pilotage/imports`): national staff send an LHEO file of training offers, or
//! a venue file in the national « lieux de médiation numérique » standard (CSV or JSON). The
//! file is read as it streams in, up to the API's request size limit (a larger one is refused
//! naming the limit), then imported through the API, which answers its report: each refused
//! offer with the LHEO element at fault, each refused venue row with the file's own line.
//! A progress bar follows the upload when scripts run; without them the form posts as is.
//! Imports are national: a coordinator reads so, and gets no form.

mod lines;
mod upload;

use super::{ConsolePage, Frame, layout, staff};
use crate::{
    Web, csrf, format,
    forms::{Choice, FormErrors},
    graph::GraphError,
    operations::{ImportLheoFile, ImportVenueFile, import_lheo_file, import_venue_file},
    pages::{api_problem, run, stale_form},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use upload::{File, Upload};

const PATH: &str = "/pilotage/imports";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(page))
        .route("/pilotage/imports/lheo", web::post().to(import_lheo))
        .route("/pilotage/imports/lieux", web::post().to(import_venues));
}

/// A venue file's format: the form's radio, the API's enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VenueFormat {
    Csv,
    Json,
}

impl VenueFormat {
    fn parse(value: &str) -> Option<Self> {
        match value {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
        }
    }
}

/// One refused LHEO offer's problem.
pub struct OfferProblem {
    pub position: i64,
    pub offer: String,
    pub element: String,
    pub message: String,
}

/// What an LHEO import did.
pub struct LheoReport {
    pub file_name: String,
    pub offers: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub problems: Vec<OfferProblem>,
}

impl LheoReport {
    /// Whether the list stops at the API's 1,000 problems (the count of refused offers does
    /// not).
    pub fn truncated(&self) -> bool {
        self.problems.len() >= 1000
    }
}

/// One refused venue row's problem, at the file's line.
pub struct RowProblem {
    /// « 12 », or « 12 (lieu n° 3) » in a JSON file where the venue starts on line 12.
    pub line: String,
    pub id: String,
    pub field: String,
    pub message: String,
}

/// What a venue import did.
pub struct VenueReport {
    pub file_name: String,
    pub format: &'static str,
    pub total: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub problems: Vec<RowProblem>,
}

#[derive(Template)]
#[template(path = "console_imports.html")]
pub struct ImportsPage {
    pub layout: Layout,
    pub frame: Frame,
    pub national: bool,
    /// The largest file, as people read it (« 1 Mo »).
    pub limit: String,
    pub limit_bytes: usize,
    pub formats: Vec<Choice>,
    pub lheo_errors: FormErrors,
    pub venue_errors: FormErrors,
    pub lheo: Option<LheoReport>,
    pub venues: Option<VenueReport>,
}

impl ImportsPage {
    pub fn lheo_hint(&self) -> String {
        format!("Fichier .xml, {} au plus", self.limit)
    }

    pub fn venue_hint(&self) -> String {
        format!("Fichier .csv ou .json, {} au plus", self.limit)
    }
}

fn formats(chosen: VenueFormat) -> Vec<Choice> {
    Choice::list(
        [
            ("csv", "CSV (colonnes séparées par des virgules)"),
            ("json", "JSON"),
        ],
        &[chosen.code().to_owned()],
    )
}

/// The page for `visitor`, or the answer for whoever may not see it.
async fn blank(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
) -> Result<ImportsPage, HttpResponse> {
    let scope = staff(app, req, visitor, PATH).await?;
    Ok(ImportsPage {
        layout: layout(visitor, "Imports"),
        national: scope.is_national(),
        frame: Frame {
            scope,
            page: ConsolePage::Imports,
        },
        limit: upload::size(app.upload_limit),
        limit_bytes: app.upload_limit,
        formats: formats(VenueFormat::Csv),
        lheo_errors: FormErrors::default(),
        venue_errors: FormErrors::default(),
        lheo: None,
        venues: None,
    })
}

async fn page(app: web::Data<Web>, req: HttpRequest, visitor: Visitor) -> HttpResponse {
    match blank(&app, &req, &visitor).await {
        Ok(page) => render::ok(&page),
        Err(answer) => answer,
    }
}

fn answer(page: &ImportsPage) -> HttpResponse {
    let status = match page.lheo_errors.status() {
        StatusCode::OK => page.venue_errors.status(),
        refused => refused,
    };
    render::html(status, page)
}

/// The file as UTF-8 text, or the error to show next to the file field.
fn text_of(upload: Upload, limit: &str) -> Result<(String, String), String> {
    match upload.file {
        File::Missing => Err("Choisissez un fichier à importer.".into()),
        File::TooLarge => Err(format!(
            "Le fichier dépasse la taille maximale acceptée par l'API, {limit} : \
             découpez-le en plusieurs fichiers plus petits."
        )),
        File::Read(bytes) => String::from_utf8(bytes)
            .map(|text| (upload.file_name, text))
            .map_err(|_| {
                "Le fichier n'est pas encodé en UTF-8 : enregistrez-le en UTF-8, puis \
                 envoyez-le à nouveau."
                    .into()
            }),
    }
}

/// The API's errors on the import: about the file next to its field, the rest above the form.
fn api_errors(errors: &[GraphError], limit: &str) -> FormErrors {
    let mut out = FormErrors::from_api_renamed(errors, &[("file", "fichier")]);
    if errors.iter().any(|e| e.is("PAYLOAD_TOO_LARGE")) {
        out.add(
            "fichier",
            format!(
                "Le fichier dépasse la taille maximale acceptée par l'API, {limit} : \
                 découpez-le en plusieurs fichiers plus petits."
            ),
        );
    }
    out
}

async fn import_lheo(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    payload: web::Payload,
) -> HttpResponse {
    // Who sends is known before the file is read: nobody else's upload is streamed.
    let mut page = match blank(&app, &req, &visitor).await {
        Ok(page) => page,
        Err(answer) => return answer,
    };
    if !page.national {
        return refused_here(&visitor);
    }
    let sent = upload::read(&req, payload, &["csrf"], "fichier", app.upload_limit).await;
    let sent = match sent {
        Ok(sent) if csrf::valid(&visitor.session, sent.field("csrf")) => sent,
        Ok(_) => return stale_form(&visitor),
        Err(upload::Unreadable(why)) => {
            page.lheo_errors.add("fichier", why);
            return answer(&page);
        }
    };
    let (file_name, content) = match text_of(sent, &page.limit) {
        Ok(file) => file,
        Err(why) => {
            page.lheo_errors.add("fichier", why);
            return answer(&page);
        }
    };
    match run::<ImportLheoFile>(
        &app,
        &req,
        &visitor,
        import_lheo_file::Variables { content },
    )
    .await
    {
        Ok(data) => {
            let s = data.import_lheo;
            page.lheo = Some(LheoReport {
                file_name,
                offers: s.offers,
                created: s.created,
                updated: s.updated,
                unchanged: s.unchanged,
                rejected: s.rejected,
                problems: s
                    .problems
                    .into_iter()
                    .map(|p| OfferProblem {
                        position: p.position,
                        offer: p.offer.unwrap_or_default(),
                        element: p.element,
                        message: p.message,
                    })
                    .collect(),
            });
        }
        Err(e) if e.iter().any(|e| e.is("UNAUTHENTICATED")) => return api_problem(&visitor, &e),
        Err(e) => page.lheo_errors = api_errors(&e, &page.limit),
    }
    answer(&page)
}

async fn import_venues(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    payload: web::Payload,
) -> HttpResponse {
    let mut page = match blank(&app, &req, &visitor).await {
        Ok(page) => page,
        Err(answer) => return answer,
    };
    if !page.national {
        return refused_here(&visitor);
    }
    let sent = upload::read(
        &req,
        payload,
        &["csrf", "format"],
        "fichier",
        app.upload_limit,
    )
    .await;
    let sent = match sent {
        Ok(sent) if csrf::valid(&visitor.session, sent.field("csrf")) => sent,
        Ok(_) => return stale_form(&visitor),
        Err(upload::Unreadable(why)) => {
            page.venue_errors.add("fichier", why);
            return answer(&page);
        }
    };
    let format = VenueFormat::parse(sent.field("format"));
    page.formats = formats(format.unwrap_or(VenueFormat::Csv));
    let Some(format) = format else {
        page.venue_errors
            .add("format", "Choisissez le format du fichier : CSV ou JSON.");
        return answer(&page);
    };
    let (file_name, content) = match text_of(sent, &page.limit) {
        Ok(file) => file,
        Err(why) => {
            page.venue_errors.add("fichier", why);
            return answer(&page);
        }
    };
    let lines = match format {
        VenueFormat::Csv => lines::csv_rows(&content),
        VenueFormat::Json => lines::json_rows(&content),
    };
    let api_format = match format {
        VenueFormat::Csv => import_venue_file::VenueFileFormat::CSV,
        VenueFormat::Json => import_venue_file::VenueFileFormat::JSON,
    };
    match run::<ImportVenueFile>(
        &app,
        &req,
        &visitor,
        import_venue_file::Variables {
            format: api_format,
            content,
        },
    )
    .await
    {
        Ok(data) => {
            let r = data.import_venues;
            page.venues = Some(VenueReport {
                file_name,
                format: match format {
                    VenueFormat::Csv => "CSV",
                    VenueFormat::Json => "JSON",
                },
                total: r.total,
                created: r.created,
                updated: r.updated,
                unchanged: r.unchanged,
                rejected: r.rejected,
                problems: r
                    .errors
                    .into_iter()
                    .map(|e| RowProblem {
                        line: match (lines::line_of(&lines, e.row), format) {
                            (Some(line), VenueFormat::Csv) => format::number(line as i64),
                            (Some(line), VenueFormat::Json) => {
                                format!("{} (lieu n° {})", format::number(line as i64), e.row)
                            }
                            (None, _) => format!("inconnue (lieu n° {})", e.row),
                        },
                        id: e.id.unwrap_or_default(),
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            });
        }
        Err(e) if e.iter().any(|e| e.is("UNAUTHENTICATED")) => return api_problem(&visitor, &e),
        Err(e) => page.venue_errors = api_errors(&e, &page.limit),
    }
    answer(&page)
}

/// A coordinator's import, never offered by the page: what the API would answer.
fn refused_here(visitor: &Visitor) -> HttpResponse {
    crate::pages::problem(
        visitor,
        StatusCode::FORBIDDEN,
        "Import réservé à l'équipe nationale",
        "Les imports de formations et de lieux alimentent les données nationales : ils sont \
         réservés à l'équipe nationale du Conseil national du numérique.",
    )
}

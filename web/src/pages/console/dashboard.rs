//! « Tableau de bord » (`/pilotage`): where the network stands against 2,000,000 people
//! reached, in the signed-in staff member's territory — progress as of a day, the weekly
//! curve toward the goal, breakdowns over a period, reach per département on a map, and where
//! to open the next cafés. Each chart (a DSFR chart web component) has its figures in a table
//! beside it: with scripts off, the tables are the page.

mod figures;

use super::{ConsolePage, Frame, Scope, layout, staff};
use crate::{
    Web, format,
    forms::{Choice, FormErrors},
    graph::{self, GraphError},
    operations::{ConsoleDashboard, ConsoleUnmetDemand, console_dashboard, console_unmet_demand},
    pages::{api_problem, run},
    render::{self, Layout, Section},
    session::Visitor,
};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use cafeia_platform::territory::Gazetteer;
use chrono::NaiveDate;
use figures::{ChartKind, Figures};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/pilotage", web::get().to(dashboard));
}

/// The form above the figures, as typed (kept as typed when refused).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Asked {
    /// National staff only: one région's figures.
    #[serde(default)]
    pub region: String,
    /// « As of »: the figures as they stood at the end of that day.
    #[serde(default)]
    pub date: String,
    /// The breakdowns' period.
    #[serde(default)]
    pub debut: String,
    #[serde(default)]
    pub fin: String,
}

/// The days the figures are computed for; none given, today and since the start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Period {
    pub as_of: Option<NaiveDate>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

impl Period {
    /// The breakdowns end at the « as of » day unless told otherwise.
    fn breakdown_end(&self) -> Option<NaiveDate> {
        self.to.or(self.as_of)
    }

    /// « du lundi 5 janvier 2026 au … », as the page states the breakdowns' period.
    pub fn describe(&self) -> String {
        match (self.from, self.breakdown_end()) {
            (Some(a), Some(b)) => format!("du {} au {}", format::day(&a), format::day(&b)),
            (Some(a), None) => format!("depuis le {}", format::day(&a)),
            (None, Some(b)) => format!("depuis le début, jusqu'au {}", format::day(&b)),
            (None, None) => "depuis le début".into(),
        }
    }
}

/// A day as the date field sends it (`2027-03-31`) or as typed where it is a text field.
fn day(text: &str) -> Result<Option<NaiveDate>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .map(Some)
        .map_err(|_| ())
}

const DAY_HINT: &str = "Saisissez une date au format jj/mm/aaaa, par exemple 31/03/2027.";

/// What the figures cover and for which days, or what is wrong with the form. A coordinator's
/// own territory is theirs whatever the address asks: the form offers them no other.
fn choose(scope: &Scope, asked: &Asked) -> Result<(Scope, Period), FormErrors> {
    let mut errors = FormErrors::default();
    let mut read = |field: &str, text: &str| {
        day(text).unwrap_or_else(|()| {
            errors.add(field, DAY_HINT);
            None
        })
    };
    let period = Period {
        as_of: read("date", &asked.date),
        from: read("debut", &asked.debut),
        to: read("fin", &asked.fin),
    };
    if let (Some(from), Some(to)) = (period.from, period.to)
        && to < from
    {
        errors.add("fin", "La fin de la période doit suivre son début.");
    }
    let view = match (scope, asked.region.trim()) {
        (Scope::National, "") => Scope::National,
        (Scope::National, code) if Gazetteer::get().region(code).is_some() => {
            Scope::Region(code.into())
        }
        (Scope::National, _) => {
            errors.add("region", "Choisissez une région dans la liste.");
            Scope::National
        }
        (mine, _) => mine.clone(),
    };
    if errors.is_empty() {
        Ok((view, period))
    } else {
        Err(errors)
    }
}

/// The régions national staff may pick, by name.
fn region_choices(scope: &Scope, asked: &str) -> Vec<Choice> {
    if !scope.is_national() {
        return Vec::new();
    }
    let mut regions: Vec<(String, String)> = Gazetteer::get()
        .regions()
        .map(|r| (r.code.clone(), r.name.clone()))
        .collect();
    regions.sort_by_key(|(_, name)| folded(name));
    Choice::list(regions, &[asked.trim().to_owned()])
}

/// A name without its accents, to sort « Île-de-France » among the I.
fn folded(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'É' | 'È' | 'Ê' => 'E',
            'Î' | 'Ï' => 'I',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'à' | 'â' => 'a',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "console_dashboard.html")]
pub struct DashboardPage {
    pub layout: Layout,
    pub frame: Frame,
    pub asked: Asked,
    pub errors: FormErrors,
    pub regions: Vec<Choice>,
    pub figures: Option<Figures>,
}

async fn dashboard(
    app: web::Data<Web>,
    req: HttpRequest,
    visitor: Visitor,
    asked: web::Query<Asked>,
) -> HttpResponse {
    let back = req
        .uri()
        .path_and_query()
        .map_or("/pilotage", |p| p.as_str())
        .to_owned();
    let scope = match staff(&app, &req, &visitor, &back).await {
        Ok(scope) => scope,
        Err(answer) => return answer,
    };
    let asked = asked.into_inner();
    let (figures, errors) = match choose(&scope, &asked) {
        Err(errors) => (None, errors),
        Ok((view, period)) => match load(&app, &req, &visitor, &view, &period).await {
            Ok(figures) => (Some(figures), FormErrors::default()),
            Err(errors) if errors.iter().any(|e| e.is("BAD_USER_INPUT")) => (
                None,
                FormErrors::from_api_renamed(
                    &errors,
                    &[
                        ("as_of", "date"),
                        ("asOf", "date"),
                        ("from", "debut"),
                        ("to", "fin"),
                        ("region", "region"),
                    ],
                ),
            ),
            Err(errors) => return api_problem(&visitor, &errors),
        },
    };
    // A refused form says so in its status too (422), as the other forms do.
    let status = errors.status();
    render::html(
        status,
        &DashboardPage {
            layout: layout(&visitor, "Tableau de bord"),
            regions: region_choices(&scope, &asked.region),
            frame: Frame {
                scope,
                page: ConsolePage::Dashboard,
            },
            asked,
            errors,
            figures,
        },
    )
}

async fn load(
    app: &Web,
    req: &HttpRequest,
    visitor: &Visitor,
    view: &Scope,
    period: &Period,
) -> Result<Figures, Vec<GraphError>> {
    let data = run::<ConsoleDashboard>(
        app,
        req,
        visitor,
        console_dashboard::Variables {
            region: view.region().map(str::to_owned),
            departement: view.departement().map(str::to_owned),
            as_of: period.as_of,
            from: period.from,
            to: period.breakdown_end(),
        },
    )
    .await?
    .outreach_dashboard;
    // Each gap's unmet demand at once (one département per call); a département whose
    // demand cannot be read says so in its row rather than taking the page down.
    let asks: Vec<_> = data
        .coverage_gaps
        .iter()
        .map(|gap| {
            let (graph, req) = (app.graph.clone(), req.clone());
            let bearer = visitor.bearer().map(str::to_owned);
            let departement = gap.departement.clone();
            actix_web::rt::spawn(async move {
                graph::run::<ConsoleUnmetDemand>(
                    graph.as_ref(),
                    &req,
                    bearer.as_deref(),
                    console_unmet_demand::Variables { departement },
                )
                .await
            })
        })
        .collect();
    let mut demand = Vec::with_capacity(asks.len());
    for ask in asks {
        let answer = match ask.await {
            Ok(Ok(data)) => Some(data),
            Ok(Err(errors)) => {
                let codes: Vec<&str> = errors.iter().map(|e| e.code.as_str()).collect();
                tracing::warn!(?codes, "a coverage gap's unmet demand could not be read");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "a coverage gap's unmet demand could not be read");
                None
            }
        };
        demand.push(answer);
    }
    Ok(figures::build(view, period, data, demand))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(region: &str, date: &str, debut: &str, fin: &str) -> Asked {
        Asked {
            region: region.into(),
            date: date.into(),
            debut: debut.into(),
            fin: fin.into(),
        }
    }

    #[test]
    fn a_coordinator_sees_their_territory_whatever_the_address_asks() {
        let ara = Scope::Region("84".into());
        let (view, _) = choose(&ara, &asked("11", "", "", "")).unwrap();
        assert_eq!(view, ara);
        assert!(region_choices(&ara, "11").is_empty());
        let (view, _) = choose(&Scope::National, &asked("53", "", "", "")).unwrap();
        assert_eq!(view, Scope::Region("53".into()));
        let errors = choose(&Scope::National, &asked("99", "", "", "")).unwrap_err();
        assert!(errors.field("region").is_some());
    }

    #[test]
    fn dates_are_read_as_sent_or_typed_and_checked() {
        let (_, period) =
            choose(&Scope::National, &asked("", "2027-03-31", "01/01/2027", "")).unwrap();
        assert_eq!(period.as_of, NaiveDate::from_ymd_opt(2027, 3, 31));
        assert_eq!(period.from, NaiveDate::from_ymd_opt(2027, 1, 1));
        assert_eq!(period.breakdown_end(), period.as_of);
        let errors = choose(
            &Scope::National,
            &asked("", "31 mars", "2027-02-01", "2027-01-01"),
        )
        .unwrap_err();
        assert!(errors.field("date").is_some());
        assert!(errors.field("fin").is_some());
        assert!(errors.field("debut").is_none());
    }

    #[test]
    fn regions_sort_by_their_name() {
        let names: Vec<String> = region_choices(&Scope::National, "84")
            .into_iter()
            .map(|c| c.label)
            .collect();
        let at = |n: &str| names.iter().position(|x| x == n).unwrap();
        assert!(at("Hauts-de-France") < at("Île-de-France"));
        assert!(at("Île-de-France") < at("La Réunion"));
    }
}

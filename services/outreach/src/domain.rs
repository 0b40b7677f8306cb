//! The goal, what counts, and who may see what.
//!
//! - **Reached** is the sum of first-time participants: the honest count of distinct people
//!   (facilitators ask who comes to an AI Café for the first time). **Participations** is the
//!   sum of attendees, walk-ins included.
//! - A session's figures are those of its latest report: a correction replaces them.
//! - A session with several audiences or topics counts in each of them in those breakdowns.
//! - **Active facilitators**: those who held a reported session in the last 90 days.
//! - Coordinators see their territory, with the goal's share of its population.
//! - A session counts on its **local** date (day, week, month), in its own zone (which its
//!   attendance report carries), else in the zone of its département: an evening café in
//!   Guadeloupe, or one online from Cayenne, is on the evening's date, not the next UTC day.

use cafeia_platform::{
    AppError,
    auth::{Caller, Role, Territory},
    errors::AppResult,
    territory::Gazetteer,
    validation::{Problems, known_departement, known_region},
};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

/// The query shapes are the contract's (re-exported: the benchmark names `domain::Dimension`).
pub use cafeia_outreach_api::{Dimension, Filter};

pub const GOAL: i64 = 2_000_000;

pub fn deadline() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 12, 31).unwrap_or_default()
}

/// Counts under this are hidden in the public open data.
pub const SMALL_CELL: i64 = 11;

/// The time zone of sessions held in `departement`, for reports that do not carry their
/// session's zone (sent before events added it): online sessions (no département) count on
/// the date in metropolitan France, where the programme is run.
pub fn zone_of(departement: Option<&str>) -> Tz {
    match departement {
        Some("971") => Tz::America__Guadeloupe,
        Some("972") => Tz::America__Martinique,
        Some("973") => Tz::America__Cayenne,
        Some("974") => Tz::Indian__Reunion,
        Some("975") => Tz::America__Miquelon,
        Some("976") => Tz::Indian__Mayotte,
        Some("977") => Tz::America__St_Barthelemy,
        Some("978") => Tz::America__Marigot,
        Some("986") => Tz::Pacific__Wallis,
        Some("987") => Tz::Pacific__Tahiti,
        Some("988") => Tz::Pacific__Noumea,
        _ => Tz::Europe__Paris,
    }
}

/// The date a session starting at `starts_at` counts on: its local date, in its own `zone`
/// when its report named one, else in the zone of its `departement`.
pub fn local_day(
    starts_at: DateTime<Utc>,
    zone: Option<Tz>,
    departement: Option<&str>,
) -> NaiveDate {
    let zone = zone.unwrap_or_else(|| zone_of(departement));
    starts_at.with_timezone(&zone).date_naive()
}

/// Which part of France a request is about, once rights are checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    France,
    Region(String),
    Departement(String),
}

impl Scope {
    pub fn keeps(&self, region: Option<&str>, departement: Option<&str>) -> bool {
        match self {
            Scope::France => true,
            Scope::Region(r) => region == Some(r.as_str()),
            Scope::Departement(d) => departement == Some(d.as_str()),
        }
    }

    pub fn keeps_departement(&self, code: &str) -> bool {
        let region = Gazetteer::get().departement(code).map(|d| d.region.clone());
        self.keeps(region.as_deref(), Some(code))
    }

    /// Share of the national population in this scope (for the goal's share).
    pub fn population(&self) -> u64 {
        let g = Gazetteer::get();
        g.departements()
            .filter(|d| self.keeps(Some(&d.region), Some(&d.code)))
            .map(|d| d.population)
            .sum()
    }
}

/// A checked filter.
#[derive(Clone, Debug)]
pub struct Window {
    pub scope: Scope,
    pub from: Option<NaiveDate>,
    pub to: NaiveDate,
}

impl Window {
    pub fn keeps_day(&self, day: NaiveDate) -> bool {
        self.from.is_none_or(|f| day >= f) && day <= self.to
    }
}

/// Staff only; coordinators only within their territory. Codes and dates are checked first
/// (bad input is a 400 whoever asks), then rights (403).
pub fn window(caller: &Caller, filter: &Filter) -> AppResult<Window> {
    if !caller.has(Role::Staff) {
        return Err(AppError::forbidden(
            "les indicateurs de diffusion sont réservés à l'équipe Café IA",
        ));
    }
    let mut p = Problems::default();
    if let Some(r) = &filter.region
        && let Err(e) = known_region(r)
    {
        p.0.extend(e.errors);
    }
    if let Some(d) = &filter.departement
        && let Err(e) = known_departement(d)
    {
        p.0.extend(e.errors);
    }
    let sane = |field: &str, day: Option<NaiveDate>, p: &mut Problems| {
        if let Some(d) = day {
            p.check(
                (2020..=2100).contains(&d.year()),
                field,
                "date hors de la période couverte (2020 à 2100)",
            );
        }
    };
    sane("from", filter.from, &mut p);
    sane("to", filter.to, &mut p);
    sane("as_of", filter.as_of, &mut p);
    if let (Some(from), Some(to)) = (filter.from, filter.to) {
        p.check(from <= to, "to", "la fin de période précède son début");
    }
    p.into_result()?;
    let asked = match (&filter.region, &filter.departement) {
        (_, Some(d)) => Scope::Departement(d.clone()),
        (Some(r), None) => Scope::Region(r.clone()),
        (None, None) => Scope::France,
    };
    if let (Some(r), Some(d)) = (&filter.region, &filter.departement)
        && Gazetteer::get()
            .departement(d)
            .is_some_and(|dep| &dep.region != r)
    {
        return Err(AppError::invalid(
            "departement",
            format!("le département {d} n'est pas dans la région {r}"),
        ));
    }
    let scope = match (&caller.territory, asked) {
        (None, asked) => asked,
        (Some(Territory::Region(mine)), Scope::France) => Scope::Region(mine.clone()),
        (Some(Territory::Departement(mine)), Scope::France) => Scope::Departement(mine.clone()),
        (Some(territory), asked) => {
            let inside = match (&asked, territory) {
                (Scope::Region(r), Territory::Region(mine)) => r == mine,
                (Scope::Departement(d), Territory::Region(mine)) => Gazetteer::get()
                    .departement(d)
                    .is_some_and(|x| &x.region == mine),
                (Scope::Departement(d), Territory::Departement(mine)) => d == mine,
                _ => false,
            };
            if !inside {
                return Err(AppError::forbidden(
                    "ce territoire est hors de votre périmètre de coordination",
                ));
            }
            asked
        }
    };
    let to = [filter.to, filter.as_of]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or_else(|| Utc::now().date_naive());
    Ok(Window {
        scope,
        from: filter.from,
        to,
    })
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use chrono_tz::Tz;

    fn local_day(starts_at: chrono::DateTime<chrono::Utc>, departement: Option<&str>) -> NaiveDate {
        super::local_day(starts_at, None, departement)
    }

    #[test]
    fn sessions_count_on_their_local_date() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        // 20:00 on 31 January in Guadeloupe (UTC−4) is 00:00 UTC on 1 February.
        let evening = "2027-02-01T00:00:00Z".parse().expect("instant");
        assert_eq!(local_day(evening, Some("971")), day(2027, 1, 31));
        assert_eq!(local_day(evening, Some("973")), day(2027, 1, 31));
        // 01:00 on 1 February in Paris, and online sessions count there too.
        assert_eq!(local_day(evening, Some("69")), day(2027, 2, 1));
        assert_eq!(local_day(evening, None), day(2027, 2, 1));
        // La Réunion is ahead (UTC+4): 22:00 UTC on 31 January is 1 February there.
        let late = "2027-01-31T22:00:00Z".parse().expect("instant");
        assert_eq!(local_day(late, Some("974")), day(2027, 2, 1));
        assert_eq!(local_day(late, Some("75")), day(2027, 1, 31));
    }

    #[test]
    fn the_session_zone_comes_before_the_departement_zone() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        // 23:30 on 31 January in Cayenne (UTC−3) is 02:30 UTC (03:30 in Paris) on 1 February.
        let late = "2027-02-01T02:30:00Z".parse().expect("instant");
        let cayenne = Some(Tz::America__Cayenne);
        assert_eq!(super::local_day(late, cayenne, None), day(2027, 1, 31));
        assert_eq!(
            super::local_day(late, cayenne, Some("75")),
            day(2027, 1, 31)
        );
        assert_eq!(super::local_day(late, None, None), day(2027, 2, 1));
    }
}

//! The REST surface: staff figures (scoped by territory for coordinators), exports, the public
//! open-data aggregate, and the rebuild from history.

use crate::{
    State, aggregates,
    domain::{Window, window},
    ingest,
};
use actix_web::{HttpResponse, web};
use cafeia_outreach_api::{
    BreakdownQuery, BreakdownRow, Dashboard, DashboardQuery, ExportQuery, FileFormat, Filter,
    GapsQuery, Headline, MonthCell, OpenDataQuery, Reach, Rebuilt, WeekPoint, paths,
};
use cafeia_platform::{
    AppError,
    auth::{Caller, Role},
    errors::AppResult,
    // Query-string errors name the parameter and list the values an enum accepts.
    http::Query,
};

async fn checked(state: &State, caller: &Caller, filter: &Filter) -> AppResult<Window> {
    let w = window(caller, filter)?;
    state.figures.refresh(&state.platform.db).await?;
    Ok(w)
}

/// GET /v1/outreach/headline
#[utoipa::path(get, path = paths::HEADLINE, tag = "outreach", params(Filter), responses((status = 200, body = Headline), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn headline(
    state: web::Data<State>,
    caller: Caller,
    filter: Query<Filter>,
) -> AppResult<HttpResponse> {
    let w = checked(&state, &caller, &filter).await?;
    let h = state.figures.read(|s| aggregates::headline(s, &w));
    Ok(HttpResponse::Ok().json(h))
}

/// GET /v1/outreach/breakdown?by=departement
#[utoipa::path(get, path = paths::BREAKDOWN, tag = "outreach", params(BreakdownQuery), responses((status = 200, body = Vec<BreakdownRow>), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn breakdown(
    state: web::Data<State>,
    caller: Caller,
    query: Query<BreakdownQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let filter = Filter {
        region: q.region,
        departement: q.departement,
        from: q.from,
        to: q.to,
        as_of: q.as_of,
    };
    let w = checked(&state, &caller, &filter).await?;
    let rows = state.figures.read(|s| aggregates::breakdown(s, &w, q.by));
    Ok(HttpResponse::Ok().json(rows))
}

/// GET /v1/outreach/reach — per département: people reached per 10,000 inhabitants and
/// sessions planned in the next 30 days.
#[utoipa::path(get, path = paths::REACH, tag = "outreach", params(Filter), responses((status = 200, body = Vec<Reach>), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn reach(
    state: web::Data<State>,
    caller: Caller,
    filter: Query<Filter>,
) -> AppResult<HttpResponse> {
    let w = checked(&state, &caller, &filter).await?;
    Ok(HttpResponse::Ok().json(state.figures.read(|s| aggregates::reach(s, &w))))
}

/// GET /v1/outreach/gaps — where the next cafés should open: lowest reach per inhabitant and
/// nothing planned in the next 30 days.
#[utoipa::path(get, path = paths::GAPS, tag = "outreach", params(GapsQuery), responses((status = 200, body = Vec<Reach>), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn gaps(
    state: web::Data<State>,
    caller: Caller,
    query: Query<GapsQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    if !(1..=200).contains(&q.limit) {
        return Err(AppError::invalid("limit", "entre 1 et 200"));
    }
    let limit = q.limit as usize;
    let filter = Filter {
        region: q.region,
        departement: q.departement,
        as_of: q.as_of,
        ..Filter::default()
    };
    let w = checked(&state, &caller, &filter).await?;
    Ok(HttpResponse::Ok().json(state.figures.read(|s| aggregates::gaps(s, &w, limit))))
}

/// GET /v1/outreach/weekly — cumulative people reached per week, beside the straight line to
/// the goal.
#[utoipa::path(get, path = paths::WEEKLY, tag = "outreach", params(Filter), responses((status = 200, body = Vec<WeekPoint>), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn weekly(
    state: web::Data<State>,
    caller: Caller,
    filter: Query<Filter>,
) -> AppResult<HttpResponse> {
    let w = checked(&state, &caller, &filter).await?;
    Ok(HttpResponse::Ok().json(state.figures.read(|s| aggregates::weekly(s, &w))))
}

/// GET /v1/outreach/dashboard — every figure of the staff dashboard at once: one refresh, one
/// pass over the reports, one answer, rather than ten requests each reading every report.
/// Progress, the weekly curve, reach and gaps stand as of `as_of`; the breakdowns cover `from`
/// to `to` (by default up to `as_of`). The territory is checked as for every other figure.
#[utoipa::path(get, path = paths::DASHBOARD, tag = "outreach", params(DashboardQuery), responses((status = 200, body = Dashboard), (status = 400, body = cafeia_platform::errors::Problem), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn dashboard(
    state: web::Data<State>,
    caller: Caller,
    query: Query<DashboardQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    if !(1..=200).contains(&q.gaps_limit) {
        return Err(AppError::invalid("gaps_limit", "entre 1 et 200"));
    }
    let now = window(
        &caller,
        &Filter {
            region: q.region.clone(),
            departement: q.departement.clone(),
            as_of: q.as_of,
            ..Filter::default()
        },
    )?;
    let period = window(
        &caller,
        &Filter {
            region: q.region,
            departement: q.departement,
            from: q.from,
            to: q.to.or(q.as_of),
            as_of: None,
        },
    )?;
    state.figures.refresh(&state.platform.db).await?;
    let limit = q.gaps_limit as usize;
    let figures = state
        .figures
        .read(|s| aggregates::dashboard(s, &now, &period, limit));
    Ok(HttpResponse::Ok().json(figures))
}

fn file(cells: &[MonthCell], format: FileFormat, name: &str) -> AppResult<HttpResponse> {
    match format {
        FileFormat::Json => Ok(HttpResponse::Ok().json(cells)),
        FileFormat::Csv => {
            let mut out = csv::Writer::from_writer(Vec::new());
            for c in cells {
                out.serialize(c).map_err(AppError::internal)?;
            }
            let body = out
                .into_inner()
                .map_err(|e| AppError::internal(e.to_string()))?;
            Ok(HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    "content-disposition",
                    format!("attachment; filename=\"{name}.csv\""),
                ))
                .body(body))
        }
    }
}

/// GET /v1/outreach/export — per département and month, for staff (CSV or JSON).
#[utoipa::path(get, path = paths::EXPORT, tag = "outreach", params(ExportQuery), responses((status = 200, description = "Par département et par mois, en JSON ou en CSV (`format`)", content((Vec<MonthCell> = "application/json"), (String = "text/csv"))), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn export(
    state: web::Data<State>,
    caller: Caller,
    query: Query<ExportQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let filter = Filter {
        region: q.region,
        departement: q.departement,
        from: q.from,
        to: q.to,
        as_of: None,
    };
    let w = checked(&state, &caller, &filter).await?;
    let cells = state.figures.read(|s| aggregates::monthly(s, &w));
    file(&cells, q.format, "cafes-ia-diffusion")
}

/// GET /v1/open-data/reach — public: per département and month, counts of people under 11
/// hidden so nobody can be singled out.
#[utoipa::path(get, path = paths::OPEN_DATA_REACH, tag = "open data", params(OpenDataQuery), responses((status = 200, description = "Par département et par mois, en JSON ou en CSV (`format`)", content((Vec<MonthCell> = "application/json"), (String = "text/csv")))))]
pub async fn open_data(
    state: web::Data<State>,
    query: Query<OpenDataQuery>,
) -> AppResult<HttpResponse> {
    state.figures.refresh(&state.platform.db).await?;
    // Every report there is (reports only exist for sessions that took place).
    let w = Window {
        scope: crate::domain::Scope::France,
        from: None,
        to: chrono::NaiveDate::MAX,
    };
    let cells = state.figures.read(|s| aggregates::monthly(s, &w));
    file(
        &aggregates::suppressed(cells),
        query.format,
        "cafes-ia-diffusion-open-data",
    )
}

/// POST /v1/outreach/rebuild — national staff: recomputes every figure from the history.
#[utoipa::path(post, path = paths::REBUILD, tag = "outreach", responses((status = 200, body = Rebuilt), (status = 403, body = cafeia_platform::errors::Problem)), security(("bearer" = [])))]
pub async fn rebuild(state: web::Data<State>, caller: Caller) -> AppResult<HttpResponse> {
    caller.require(Role::Staff)?;
    if !caller.is_national_staff() {
        return Err(AppError::forbidden(
            "la reconstruction des indicateurs est réservée à l'équipe nationale",
        ));
    }
    let replayed = ingest::rebuild(&state.platform.db)
        .await
        .map_err(|e| AppError::internal(e.to_string()))?;
    state.figures.reset();
    state.figures.refresh(&state.platform.db).await?;
    Ok(HttpResponse::Ok().json(Rebuilt {
        messages_replayed: replayed,
    }))
}

//! Search and recommendations in GraphQL, and the staff's unmet-demand view. Every resolver
//! calls the matching service.

use crate::{
    errors::gql,
    rest::{client, query_string, required, to_value, wire_enum},
};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const SERVICE: &str = "matching";

wire_enum!(OfferKind { Session, Training });
wire_enum!(SearchSort {
    Relevance,
    Distance,
    Date
});
wire_enum!(AvailabilityWindow {
    WeekdayDaytime,
    WeekdayEvening,
    Weekend
});
wire_enum!(Experience {
    FirstTime,
    Returning
});

#[derive(SimpleObject, Deserialize)]
pub struct SearchHit {
    pub id: ID,
    pub kind: OfferKind,
    pub title: String,
    pub format: String,
    pub level: String,
    pub topics: Vec<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub seats_left: Option<i32>,
    pub departement: Option<String>,
    pub distance_km: Option<f64>,
    pub score: f32,
}

#[derive(SimpleObject, Deserialize)]
pub struct SearchResults {
    pub total: u64,
    pub items: Vec<SearchHit>,
    /// Facet → value → count, over every result.
    pub facets: Json<BTreeMap<String, BTreeMap<String, u64>>>,
    pub next_cursor: Option<String>,
}

#[derive(InputObject, Serialize, Default)]
pub struct SearchInput {
    pub q: Option<String>,
    pub kind: Option<OfferKind>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub format: Option<String>,
    pub online: Option<bool>,
    pub free: Option<bool>,
    pub level: Option<String>,
    pub audience: Option<String>,
    pub language: Option<String>,
    pub accessibility: Option<String>,
    pub topic: Option<String>,
    pub has_seats: Option<bool>,
    pub commune: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub radius_km: Option<f64>,
    pub sort: Option<SearchSort>,
    pub cursor: Option<String>,
    pub limit: Option<u64>,
}

#[derive(InputObject, Serialize, Default)]
pub struct ProfileInput {
    pub commune: Option<String>,
    pub postcode: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub radius_km: Option<f64>,
    #[graphql(default)]
    pub online_only: bool,
    #[graphql(default)]
    pub interests: Vec<String>,
    pub level: Option<String>,
    pub audience: Option<String>,
    #[graphql(default)]
    pub languages: Vec<String>,
    #[graphql(default)]
    pub accessibility: Vec<String>,
    #[graphql(default)]
    pub availability: Vec<AvailabilityWindow>,
    pub experience: Option<Experience>,
    pub limit: Option<u32>,
}

#[derive(SimpleObject, Deserialize)]
pub struct Recommendation {
    pub id: ID,
    pub kind: OfferKind,
    pub title: String,
    pub format: String,
    pub level: String,
    pub starts_at: Option<DateTime<Utc>>,
    pub seats_left: Option<i32>,
    pub distance_km: Option<f64>,
    pub score: f64,
    /// Why, in plain French.
    pub reasons: Vec<String>,
}

#[derive(SimpleObject, Deserialize)]
pub struct CommuneDemand {
    pub insee: Option<String>,
    pub name: Option<String>,
    pub unmet: u64,
}

#[derive(SimpleObject, Deserialize)]
pub struct Demand {
    pub departement: String,
    pub unmet: u64,
    pub sessions_next_30_days: u64,
    pub communes: Vec<CommuneDemand>,
}

#[derive(Default)]
pub struct MatchingQuery;

#[Object]
impl MatchingQuery {
    /// Sessions and trainings: French full text, filters, distance, facets.
    async fn search(&self, ctx: &Context<'_>, input: Option<SearchInput>) -> Result<SearchResults> {
        let (c, call) = client(ctx)?;
        let input = input.unwrap_or_default();
        let value = to_value(&input)?;
        let pairs: Vec<(String, Option<String>)> = value
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| {
                        let text = v
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| v.to_string());
                        (k.clone(), Some(text))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let borrowed: Vec<(&str, Option<String>)> =
            pairs.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        let q = query_string(&borrowed);
        c.get(SERVICE, &format!("/v1/search{q}"), call)
            .await
            .map_err(gql)
    }

    /// A ranked list for a profile, each with its reasons.
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        profile: ProfileInput,
    ) -> Result<Vec<Recommendation>> {
        let (c, call) = client(ctx)?;
        let mut body = to_value(&profile)?;
        if let Some(map) = body.as_object_mut() {
            map.retain(|_, v| !v.is_null());
        }
        required(
            c.send(
                Method::POST,
                SERVICE,
                "/v1/recommendations",
                call,
                Some(&body),
            )
            .await,
        )
    }

    /// Where demand exceeds supply in a département (staff covering it).
    async fn unmet_demand(&self, ctx: &Context<'_>, departement: String) -> Result<Demand> {
        let (c, call) = client(ctx)?;
        let q = query_string(&[("departement", Some(departement))]);
        c.get(SERVICE, &format!("/v1/matching/demand{q}"), call)
            .await
            .map_err(gql)
    }
}

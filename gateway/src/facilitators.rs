//! The facilitator network in GraphQL: profiles, staff decisions, directory, organisations,
//! venues, venue import, and gazetteer look-ups. Every resolver calls the facilitators service
//! through its typed client; the shapes are the service's contract (`cafeia_facilitators_api`).
//! Venues and public profiles by id go through the request's loaders
//! (`crate::loaders::facilitators`), so a request asking for many makes one call per kind.

use crate::{
    connection::{self, Page},
    documents, errors,
    events::Session,
    loaders::{
        events::{FacilitatorSessionsLoader, VenueSessionsLoader},
        facilitators::{FacilitatorProfileLoader, VenueLoader},
    },
    rest::services,
};
use async_graphql::{
    ComplexObject, Context, InputObject, Json, Object, Result, SimpleObject, dataloader::DataLoader,
};
use cafeia_facilitators_api::{
    AuditEntry, Commune, DecisionInput, FacilitatorCount, FacilitatorKind, FacilitatorListQuery,
    FacilitatorProfileInput, FacilitatorProfileView, FacilitatorStatus, FacilitatorView, GeoPoint,
    MyVenuesQuery, OrganisationInput, OrganisationListQuery, OrganisationView, VenueFileFormat,
    VenueImportReport, VenueInput, VenueListQuery, VenueView,
};
use uuid::Uuid;

// `Facilitator`, `FacilitatorProfile`, `Organisation` and `Venue` wrap the contract's views
// (their fields, flattened); fields that join them to other data are resolved in their
// `ComplexObject`.

/// A facilitator (animateur, animatrice: a person who runs AI Cafés), as staff and the person
/// themself see them: the email and a suspension's reason included.
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "Facilitator")]
pub struct Facilitator {
    #[graphql(flatten)]
    pub data: FacilitatorView,
}

#[ComplexObject]
impl Facilitator {
    /// The upcoming published sessions they run or co-run, soonest first (at most 20).
    #[graphql(complexity = "crate::cost::capped_list(crate::cost::UPCOMING, child_complexity)")]
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        upcoming_of(ctx, self.data.id).await
    }

    /// Their sessions as an iCalendar feed: a path on this API's host.
    async fn ical_url(&self) -> String {
        documents::facilitator_ical_path(self.data.id)
    }
}

async fn upcoming_of(ctx: &Context<'_>, facilitator: Uuid) -> Result<Vec<Session>> {
    Ok(ctx
        .data::<DataLoader<FacilitatorSessionsLoader>>()?
        .load_one(facilitator)
        .await?
        .unwrap_or_default())
}

/// A facilitator's public face, as participants see it: name, kind, organisation, languages,
/// topics and whether staff verified them. No email, nothing private.
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "FacilitatorProfile")]
pub struct FacilitatorProfile {
    #[graphql(flatten)]
    pub data: FacilitatorProfileView,
}

#[ComplexObject]
impl FacilitatorProfile {
    /// The upcoming published sessions they run or co-run, soonest first (at most 20).
    #[graphql(complexity = "crate::cost::capped_list(crate::cost::UPCOMING, child_complexity)")]
    async fn sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        upcoming_of(ctx, self.data.id).await
    }

    /// Their sessions as an iCalendar feed: a path on this API's host.
    async fn ical_url(&self) -> String {
        documents::facilitator_ical_path(self.data.id)
    }
}

/// An organisation (structure) facilitators work for: a France Services office, a
/// médiathèque (public library), an association, a collectivité (local authority)…,
/// identified by its SIRET or RNA number.
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "Organisation")]
pub struct Organisation {
    #[graphql(flatten)]
    pub data: OrganisationView,
}

#[ComplexObject]
impl Organisation {}

/// A venue (lieu de médiation numérique: a digital-inclusion venue) where AI Cafés take
/// place; public fields only (no author, no organisation link).
#[derive(SimpleObject, Clone)]
#[graphql(complex, name = "Venue")]
pub struct Venue {
    #[graphql(flatten)]
    pub data: VenueView,
}

#[ComplexObject]
impl Venue {
    /// The upcoming published sessions held here, soonest first (at most 20).
    #[graphql(complexity = "crate::cost::capped_list(crate::cost::UPCOMING, child_complexity)")]
    async fn upcoming_sessions(&self, ctx: &Context<'_>) -> Result<Vec<Session>> {
        Ok(ctx
            .data::<DataLoader<VenueSessionsLoader>>()?
            .load_one(self.data.id)
            .await?
            .unwrap_or_default())
    }
}

impl From<FacilitatorView> for Facilitator {
    fn from(data: FacilitatorView) -> Self {
        Self { data }
    }
}

impl From<FacilitatorProfileView> for FacilitatorProfile {
    fn from(data: FacilitatorProfileView) -> Self {
        Self { data }
    }
}

impl From<OrganisationView> for Organisation {
    fn from(data: OrganisationView) -> Self {
        Self { data }
    }
}

impl From<VenueView> for Venue {
    fn from(data: VenueView) -> Self {
        Self { data }
    }
}

/// Filters of the staff directory; every filter given must hold.
#[derive(InputObject, Default)]
pub struct FacilitatorFilter {
    /// INSEE code of a département served.
    pub departement: Option<String>,
    /// INSEE code of a région served.
    pub region: Option<String>,
    /// Only facilitators in this status.
    pub status: Option<FacilitatorStatus>,
    /// Only facilitators of this kind.
    pub kind: Option<FacilitatorKind>,
    /// Nearest first from this point (each result then gives its `distanceKm`).
    pub near: Option<GeoPoint>,
    /// Radius around `near`, in km (20 by default, at most 500).
    pub radius_km: Option<f64>,
}

#[derive(Default)]
pub struct FacilitatorsQuery;

#[Object]
impl FacilitatorsQuery {
    /// Your own facilitator profile; null until you register.
    async fn my_facilitator_profile(&self, ctx: &Context<'_>) -> Result<Option<Facilitator>> {
        let (s, call) = services(ctx)?;
        let me = s
            .facilitators
            .my_profile(&call)
            .await
            .map_err(errors::client)?;
        Ok(me.map(Facilitator::from))
    }

    /// Everything the network holds about you (personal data access): your account, profile,
    /// organisation, the venues you created and the decisions about you, as one JSON document.
    async fn my_facilitator_data(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .my_data(&call)
            .await
            .map(Json)
            .map_err(errors::client)
    }

    /// The venues you created (facilitators), public or not, in creation order, as a
    /// connection.
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn my_venues(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many venues to return (1 to 100, 20 when absent).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The cursor of the edge to continue after (from \
                          `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
    ) -> Result<Page<Venue>> {
        let (s, call) = services(ctx)?;
        let query = MyVenuesQuery {
            cursor: after.clone(),
            limit: connection::first(first)?,
        };
        let page = s
            .facilitators
            .my_venues(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(venue_connection(page, after.as_deref()))
    }

    /// A facilitator (staff, within their territory); null when unknown or erased.
    async fn facilitator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facilitator's id.")] id: Uuid,
    ) -> Result<Option<Facilitator>> {
        let (s, call) = services(ctx)?;
        let found = s
            .facilitators
            .facilitator(&call, id)
            .await
            .map_err(errors::client)?;
        Ok(found.map(Facilitator::from))
    }

    /// A facilitator's public profile (anyone); null when unknown or erased.
    async fn facilitator_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facilitator's id.")] id: Uuid,
    ) -> Result<Option<FacilitatorProfile>> {
        ctx.data::<DataLoader<FacilitatorProfileLoader>>()?
            .load_one(id)
            .await
    }

    /// The staff directory, in registration order (or nearest first with `filter.near`), as
    /// a connection; coordinators only see their territory.
    #[graphql(
        complexity = "crate::cost::nearby_page(first, child_complexity, filter.as_ref().is_some_and(|f| f.near.is_some()), filter.as_ref().and_then(|f| f.radius_km))"
    )]
    async fn facilitators(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Whom to keep (every filter given must hold); everyone in your \
                          territory when absent."
        )]
        filter: Option<FacilitatorFilter>,
        #[graphql(desc = "How many facilitators to return (1 to 100, 20 when absent).")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the edge to continue after (from \
                          `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
    ) -> Result<Page<Facilitator>> {
        let (s, call) = services(ctx)?;
        let f = filter.unwrap_or_default();
        let query = FacilitatorListQuery {
            departement: f.departement,
            region: f.region,
            status: f.status,
            kind: f.kind,
            near: f.near.as_ref().map(GeoPoint::near),
            radius_km: f.radius_km,
            cursor: after.clone(),
            limit: connection::first(first)?,
        };
        let page = s
            .facilitators
            .facilitators(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, f| f.id.to_string(),
            Facilitator::from,
        ))
    }

    /// Facilitators by status in each département (staff, scoped to their territory).
    async fn facilitator_counts(&self, ctx: &Context<'_>) -> Result<Vec<FacilitatorCount>> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .facilitator_counts(&call)
            .await
            .map_err(errors::client)
    }

    /// Who decided what about a facilitator, when, and why (staff, within their territory),
    /// oldest first.
    async fn facilitator_audit(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facilitator's id.")] id: Uuid,
    ) -> Result<Vec<AuditEntry>> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .facilitator_audit(&call, id)
            .await
            .map_err(errors::client)
    }

    /// An organisation (public); null when unknown.
    async fn organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation's id.")] id: Uuid,
    ) -> Result<Option<Organisation>> {
        let (s, call) = services(ctx)?;
        let found = s
            .facilitators
            .organisation(&call, id)
            .await
            .map_err(errors::client)?;
        Ok(found.map(Organisation::from))
    }

    /// The public directory of organisations, in creation order, as a connection.
    #[graphql(complexity = "crate::cost::page(first, child_complexity)")]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only organisations in this département (INSEE code, e.g. `33`).")]
        departement: Option<String>,
        #[graphql(desc = "How many organisations to return (1 to 100, 20 when absent).")]
        first: Option<i32>,
        #[graphql(desc = "The cursor of the edge to continue after (from \
                          `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
    ) -> Result<Page<Organisation>> {
        let (s, call) = services(ctx)?;
        let query = OrganisationListQuery {
            departement,
            cursor: after.clone(),
            limit: connection::first(first)?,
        };
        let page = s
            .facilitators
            .organisations(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(connection::connection(
            page,
            after.as_deref(),
            |_, o| o.id.to_string(),
            Organisation::from,
        ))
    }

    /// Public venues, by commune, département, or nearest first from a point, as a
    /// connection (creation order without `near`).
    #[allow(clippy::too_many_arguments)] // one per GraphQL argument
    #[graphql(
        complexity = "crate::cost::nearby_page(first, child_complexity, near.is_some(), radius_km)"
    )]
    async fn venues(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only venues in this commune (municipality; INSEE code, e.g. \
                          `33063`).")]
        commune: Option<String>,
        #[graphql(desc = "Only venues in this département (INSEE code, e.g. `33`).")]
        departement: Option<String>,
        #[graphql(desc = "Nearest first from this point (each venue then gives its \
                          `distanceKm`).")]
        near: Option<GeoPoint>,
        #[graphql(desc = "Radius around `near`, in km (20 by default, at most 500).")]
        radius_km: Option<f64>,
        #[graphql(desc = "How many venues to return (1 to 100, 20 when absent).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The cursor of the edge to continue after (from \
                          `pageInfo.endCursor` or an edge's `cursor`).")]
        after: Option<String>,
    ) -> Result<Page<Venue>> {
        let (s, call) = services(ctx)?;
        let query = VenueListQuery {
            commune,
            departement,
            near: near.as_ref().map(GeoPoint::near),
            radius_km,
            cursor: after.clone(),
            limit: connection::first(first)?,
        };
        let page = s
            .facilitators
            .venues(&call, &query)
            .await
            .map_err(errors::client)?;
        Ok(venue_connection(page, after.as_deref()))
    }

    /// A venue: public ones to everyone, private ones to staff and their author; null when
    /// unknown or not visible to the caller.
    async fn venue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The venue's id.")] id: Uuid,
    ) -> Result<Option<Venue>> {
        ctx.data::<DataLoader<VenueLoader>>()?.load_one(id).await
    }

    /// A commune (municipality) by INSEE code; null when unknown.
    async fn commune(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The commune's INSEE code (5 characters, e.g. `33063`; `2A004` in \
                          Corsica)."
        )]
        insee: String,
    ) -> Result<Option<Commune>> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .commune(&call, &insee)
            .await
            .map_err(errors::client)
    }

    /// Communes whose name or postcode starts with `search` (accents, case and hyphens
    /// ignored), the most populous first: suggestions while a person types.
    async fn communes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The start of a name (\"saint-et\") or of a postcode (\"690\").")]
        search: String,
        #[graphql(desc = "At most this many (8 by default, at most 50).")] first: Option<i32>,
    ) -> Result<Vec<Commune>> {
        let (s, call) = services(ctx)?;
        let query = cafeia_facilitators_api::CommuneSearch {
            search,
            limit: first.map(|n| u64::try_from(n).unwrap_or(0)),
        };
        s.facilitators
            .communes(&call, &query)
            .await
            .map_err(errors::client)
    }

    /// The communes a postcode (code postal) serves; empty for an unknown postcode.
    async fn communes_by_postcode(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A code postal: 5 digits.")] postcode: String,
    ) -> Result<Vec<Commune>> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .communes_by_postcode(&call, &postcode)
            .await
            .map_err(errors::client)
    }
}

/// A page of venues as a connection (each edge's cursor is the venue's id).
fn venue_connection(page: cafeia_api::Page<VenueView>, after: Option<&str>) -> Page<Venue> {
    connection::connection(page, after, |_, v| v.id.to_string(), Venue::from)
}

#[derive(Default)]
pub struct FacilitatorsMutation;

#[Object]
impl FacilitatorsMutation {
    /// Registers you as a facilitator (status pending until staff verify). Refused with
    /// `ALREADY_EXISTS` when your account is registered already, `FACILITATOR_SUSPENDED` when
    /// it was suspended (an erasure does not lift a suspension).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn register_as_facilitator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your profile.")] input: FacilitatorProfileInput,
    ) -> Result<Facilitator> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .register(&call, &input)
            .await
            .map(Facilitator::from)
            .map_err(errors::client)
    }

    /// Replaces your editable profile (your status is staff's business). Refused with
    /// `FACILITATOR_SUSPENDED` while you are suspended.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn update_my_facilitator_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Your whole new profile.")] input: FacilitatorProfileInput,
    ) -> Result<Facilitator> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .update_my_profile(&call, &input)
            .await
            .map(Facilitator::from)
            .map_err(errors::client)
    }

    /// Erases your name, email and account link; the anonymous history of sessions stays.
    /// True once done.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn erase_my_facilitator_data(&self, ctx: &Context<'_>) -> Result<bool> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .erase_my_data(&call)
            .await
            .map(|()| true)
            .map_err(errors::client)
    }

    /// Verifies a pending facilitator who completed the Café IA training (staff, within their
    /// territory); they may then publish sessions. Refused with `INVALID_TRANSITION` unless
    /// pending.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn verify_facilitator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facilitator's id.")] id: Uuid,
    ) -> Result<Facilitator> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .verify(&call, id, &DecisionInput::default())
            .await
            .map(Facilitator::from)
            .map_err(errors::client)
    }

    /// Suspends a facilitator (staff, within their territory): their future sessions are
    /// unpublished. Refused with `INVALID_TRANSITION` when suspended already.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn suspend_facilitator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facilitator's id.")] id: Uuid,
        #[graphql(
            desc = "Why (required, at most 1,000 characters); kept with staff and the \
                          person, never published."
        )]
        reason: String,
    ) -> Result<Facilitator> {
        let (s, call) = services(ctx)?;
        let input = DecisionInput {
            reason: Some(reason),
        };
        s.facilitators
            .suspend(&call, id, &input)
            .await
            .map(Facilitator::from)
            .map_err(errors::client)
    }

    /// Reinstates a suspended facilitator, verified again (staff, within their territory).
    /// Refused with `INVALID_TRANSITION` unless suspended.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn reinstate_facilitator(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The facilitator's id.")] id: Uuid,
        #[graphql(desc = "Why (optional, at most 1,000 characters).")] reason: Option<String>,
    ) -> Result<Facilitator> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .reinstate(&call, id, &DecisionInput { reason })
            .await
            .map(Facilitator::from)
            .map_err(errors::client)
    }

    /// Adds an organisation (a registered facilitator or staff). Refused with
    /// `ALREADY_EXISTS` when its SIRET or RNA is known already.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn create_organisation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The organisation.")] input: OrganisationInput,
    ) -> Result<Organisation> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .create_organisation(&call, &input)
            .await
            .map(Organisation::from)
            .map_err(errors::client)
    }

    /// Adds a venue (staff in their territory, or a facilitator who is not suspended).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn create_venue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The venue.")] input: VenueInput,
    ) -> Result<Venue> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .create_venue(&call, &input)
            .await
            .map(Venue::from)
            .map_err(errors::client)
    }

    /// Replaces a venue (its author, or staff covering it).
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn update_venue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The venue's id.")] id: Uuid,
        #[graphql(desc = "Its whole new content.")] input: VenueInput,
    ) -> Result<Venue> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .update_venue(&call, id, &input)
            .await
            .map(Venue::from)
            .map_err(errors::client)
    }

    /// Removes a venue (its author, or staff covering it). True once done.
    #[graphql(complexity = "crate::cost::mutation(child_complexity)")]
    async fn remove_venue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The venue's id.")] id: Uuid,
    ) -> Result<bool> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .remove_venue(&call, id)
            .await
            .map(|()| true)
            .map_err(errors::client)
    }

    /// Imports venues in the national « lieux de médiation numérique » open-data standard
    /// (national staff); idempotent by the standard's ids, each row checked and reported.
    #[graphql(complexity = "crate::cost::import(child_complexity)")]
    async fn import_venues(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file's format.")] format: VenueFileFormat,
        #[graphql(desc = "The file's content (UTF-8).")] content: String,
    ) -> Result<VenueImportReport> {
        let (s, call) = services(ctx)?;
        s.facilitators
            .import_venues(&call, format, content)
            .await
            .map_err(errors::client)
    }
}

//! What a GraphQL field costs: the one table behind every `#[graphql(complexity = …)]` of the
//! schema. A request's cost is the sum over what it selects (async-graphql's complexity); it
//! is held to `graphql.complexity_limit` per request, and spent from the caller's budget of
//! `rate_limit.cost_per_minute` (see `limits`). So an alias costs what the field it repeats
//! costs: 50 aliased searches cost 50 searches.
//!
//! The unit is one plain field (an id, a title): async-graphql's own rule, 1 plus what is
//! selected under it, for every field not named here. The figures weigh what a field makes the
//! services do: a write transaction and its messages, a full-text search, a distance scan, a
//! page of rows and every field copied for each of them.

/// A connection: one call to a service for its page.
pub const LIST: usize = 5;
/// A connection's page is this many items when `first` is absent.
pub const DEFAULT_PAGE: usize = 20;
/// The largest page a connection serves.
pub const MAX_PAGE: usize = 100;
/// Each this many items of a page cost once more what is selected under it.
pub const ITEMS_PER_COPY: usize = 10;
/// Every mutation: a write transaction, an audit entry or a message on the bus.
pub const MUTATION: usize = 25;
/// An import (LHEO programmes, a venue file): many rows written at once.
pub const IMPORT: usize = 250;
/// A search: French full text, filters and facet counts over the whole read model; a
/// different query every time misses every cache.
pub const SEARCH: usize = 60;
/// Recommendations: every offer scored against a profile.
pub const RECOMMENDATIONS: usize = 60;
/// A search nearest first from a point (venues, facilitators).
pub const PROXIMITY: usize = 20;
/// Around a point, each this many km of radius cost 1 more (500 km: 20 more).
pub const KM_PER_UNIT: f64 = 25.0;
/// Starting a subscription: a stream held open, and what it reads to begin.
pub const SUBSCRIPTION: usize = 20;

/// No single field costs more: sums of costs never overflow.
const CEILING: usize = 1_000_000;

/// How many copies of its selection a page of `first` items costs (a page of 20: 2).
fn copies(first: Option<i32>) -> usize {
    let items = match first {
        None => DEFAULT_PAGE,
        Some(n) => usize::try_from(n).unwrap_or(1),
    }
    .clamp(1, MAX_PAGE);
    items.div_ceil(ITEMS_PER_COPY)
}

/// A connection of `first` items with `child` selected under it.
pub fn page(first: Option<i32>, child: usize) -> usize {
    LIST.saturating_add(child.saturating_mul(copies(first)))
        .min(CEILING)
}

/// A list joined from another service that holds at most `max` items (a venue's or a
/// facilitator's upcoming sessions: 20; a session's facilitators or modules): its selection is
/// paid once per item it may hold, so nesting such lists costs what it can return.
pub fn capped_list(max: usize, child: usize) -> usize {
    LIST.saturating_add(child.saturating_mul(max)).min(CEILING)
}

/// The most sessions a joined list of upcoming sessions holds.
pub const UPCOMING: usize = 20;
/// The most modules a session lists (validated at creation).
pub const SESSION_MODULES: usize = 20;
/// The most facilitators a session has (the lead and at most five co-facilitators).
pub const SESSION_FACILITATORS: usize = 6;

/// A mutation with `child` selected in its answer.
pub fn mutation(child: usize) -> usize {
    MUTATION.saturating_add(child).min(CEILING)
}

/// An import with `child` selected in its report.
pub fn import(child: usize) -> usize {
    IMPORT.saturating_add(child).min(CEILING)
}

/// A search of `first` hits (and its facets) with `child` selected under it.
pub fn search(first: Option<i32>, child: usize) -> usize {
    SEARCH.saturating_add(page(first, child)).min(CEILING)
}

/// Recommendations with `child` selected under each.
pub fn recommendations(child: usize) -> usize {
    RECOMMENDATIONS.saturating_add(child).min(CEILING)
}

/// What searching around a point adds, when there is one: more for a wider radius (20 km
/// when absent; a radius that is not a number costs the most, and is refused when it runs).
pub fn proximity(near: bool, radius_km: Option<f64>) -> usize {
    if !near {
        return 0;
    }
    let radius = radius_km.unwrap_or(20.0);
    let radius = if radius.is_finite() {
        radius.clamp(0.0, 500.0)
    } else {
        500.0
    };
    // At most 500 / 25 = 20: the conversion cannot truncate.
    let extra = (radius / KM_PER_UNIT).ceil() as usize;
    PROXIMITY + extra
}

/// A connection searched around a point.
pub fn nearby_page(first: Option<i32>, child: usize, near: bool, radius_km: Option<f64>) -> usize {
    page(first, child)
        .saturating_add(proximity(near, radius_km))
        .min(CEILING)
}

/// A subscription with `child` selected in each event.
pub fn subscription(child: usize) -> usize {
    SUBSCRIPTION.saturating_add(child).min(CEILING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_lists_cost_what_they_can_return() {
        assert_eq!(capped_list(UPCOMING, 3), LIST + 20 * 3);
        // Three levels of a venue's upcoming sessions under a page of 100 exceed the limit.
        let inner = capped_list(UPCOMING, 1);
        let nested = capped_list(UPCOMING, 1 + capped_list(UPCOMING, 1 + inner));
        assert!(
            page(Some(100), 1 + nested) > 1_000,
            "{}",
            page(Some(100), 1 + nested)
        );
    }

    #[test]
    fn pages_cost_by_their_size() {
        assert_eq!(page(None, 10), LIST + 20);
        assert_eq!(page(Some(100), 10), LIST + 100);
        assert_eq!(page(Some(1), 10), LIST + 10);
        // Out-of-range sizes are refused when the field runs; their cost stays bounded.
        assert_eq!(page(Some(i32::MAX), 10), page(Some(100), 10));
        assert_eq!(page(Some(-5), 10), page(Some(1), 10));
        assert_eq!(page(Some(100), usize::MAX), CEILING);
    }

    #[test]
    fn a_wider_radius_costs_more() {
        assert_eq!(proximity(false, Some(500.0)), 0);
        assert_eq!(proximity(true, None), PROXIMITY + 1);
        assert_eq!(proximity(true, Some(500.0)), PROXIMITY + 20);
        assert_eq!(proximity(true, Some(f64::NAN)), PROXIMITY + 20);
        assert_eq!(proximity(true, Some(1e300)), PROXIMITY + 20);
    }
}

//! "Near a point" queries: parse and check the point and radius, prefilter with a bounding box
//! in SQL, then keep and sort by the exact distance.

use cafeia_platform::{
    AppError,
    errors::AppResult,
    territory::{bounding_box, distance_km, in_france},
};
use uuid::Uuid;

pub struct Near {
    pub origin: (f64, f64),
    pub radius_km: f64,
}

impl Near {
    /// `near` is `latitude,longitude`; the radius defaults to 20 km and is capped at 500 km.
    pub fn parse(near: Option<&str>, radius_km: Option<f64>) -> AppResult<Option<Near>> {
        // A radius out of range is refused even without `near`: the asker meant something.
        let radius_km = radius_km.unwrap_or(20.0);
        if !(radius_km > 0.0 && radius_km <= 500.0) {
            return Err(AppError::invalid(
                "radius_km",
                "doit être entre 0 et 500 km",
            ));
        }
        let Some(near) = near else { return Ok(None) };
        let (lat, lon) = near
            .split_once(',')
            .ok_or_else(|| AppError::invalid("near", "attendu « latitude,longitude »"))?;
        let lat: f64 = lat
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("near", "latitude illisible"))?;
        let lon: f64 = lon
            .trim()
            .parse()
            .map_err(|_| AppError::invalid("near", "longitude illisible"))?;
        if !in_france(lat, lon) {
            return Err(AppError::invalid("near", "ce point n'est pas en France"));
        }
        Ok(Some(Near {
            origin: (lat, lon),
            radius_km,
        }))
    }

    /// `(lat_min, lat_max, lon_min, lon_max)` to filter candidates in SQL.
    pub fn bounds(&self) -> (f64, f64, f64, f64) {
        bounding_box(self.origin, self.radius_km)
    }

    /// One page of the candidates within the radius, nearest first, with their distance
    /// rounded to 100 m, and the total within the radius. Candidates come in id order, so
    /// equal distances keep that order and the ranking is the same from one call to the next;
    /// the cursor is then the id of the previous page's last hit, and an id no longer in the
    /// ranking (moved or removed) is refused rather than silently restarting the list.
    pub fn page<T>(
        &self,
        rows: Vec<T>,
        point: impl Fn(&T) -> Option<(f64, f64)>,
        id: impl Fn(&T) -> Uuid,
        after: Option<Uuid>,
        limit: u64,
    ) -> AppResult<Ranked<T>> {
        let mut hits: Vec<(f64, T)> = rows
            .into_iter()
            .filter_map(|row| {
                let d = distance_km(self.origin, point(&row)?);
                (d <= self.radius_km).then_some((d, row))
            })
            .collect();
        hits.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total = hits.len() as u64;
        let start = match after {
            None => 0,
            Some(after) => {
                hits.iter()
                    .position(|(_, row)| id(row) == after)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "cursor",
                            "curseur invalide : la liste a changé, reprenez du début",
                        )
                    })?
                    + 1
            }
        };
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = hits.len() > start.saturating_add(limit);
        let hits: Vec<(f64, T)> = hits
            .into_iter()
            .skip(start)
            .take(limit)
            .map(|(d, row)| ((d * 10.0).round() / 10.0, row))
            .collect();
        let next_cursor = more
            .then(|| hits.last().map(|(_, row)| id(row).to_string()))
            .flatten();
        Ok(Ranked {
            hits,
            next_cursor,
            total,
        })
    }
}

/// A page of a proximity search.
pub struct Ranked<T> {
    /// `(distance in km, row)`, nearest first.
    pub hits: Vec<(f64, T)>,
    /// Where the next page starts; none on the last one.
    pub next_cursor: Option<String>,
    /// How many candidates lie within the radius.
    pub total: u64,
}

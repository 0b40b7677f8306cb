//! "Near a point" queries: parse and check the point and radius, prefilter with a bounding box
//! in SQL, then keep and sort by the exact distance.

use cafeia_platform::{
    AppError,
    errors::AppResult,
    territory::{bounding_box, distance_km, in_france},
};

pub struct Near {
    pub origin: (f64, f64),
    pub radius_km: f64,
}

impl Near {
    /// `near` is `latitude,longitude`; the radius defaults to 20 km and is capped at 500 km.
    pub fn parse(near: Option<&str>, radius_km: Option<f64>) -> AppResult<Option<Near>> {
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
        let radius_km = radius_km.unwrap_or(20.0);
        if !(radius_km > 0.0 && radius_km <= 500.0) {
            return Err(AppError::invalid(
                "radius_km",
                "doit être entre 0 et 500 km",
            ));
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

    /// Candidates within the radius, nearest first, at most `limit`, with their distance
    /// rounded to 100 m.
    pub fn rank<T>(
        &self,
        rows: Vec<T>,
        point: impl Fn(&T) -> Option<(f64, f64)>,
        limit: u64,
    ) -> Vec<(f64, T)> {
        let mut hits: Vec<(f64, T)> = rows
            .into_iter()
            .filter_map(|row| {
                let d = distance_km(self.origin, point(&row)?);
                (d <= self.radius_km).then_some(((d * 10.0).round() / 10.0, row))
            })
            .collect();
        hits.sort_by(|a, b| a.0.total_cmp(&b.0));
        hits.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        hits
    }
}

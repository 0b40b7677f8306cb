//! Latencies of one operation over a run, and what a bench says of them.

use std::time::Duration;

/// The latencies of one operation, and the wall time they took together.
#[derive(Debug, Clone)]
pub struct Latencies {
    sorted: Vec<Duration>,
    wall: Duration,
}

impl Latencies {
    /// `wall` is the run's elapsed time: with several clients at once, throughput is the count
    /// over the wall time, not over the sum of latencies.
    pub fn new(mut latencies: Vec<Duration>, wall: Duration) -> Self {
        latencies.sort_unstable();
        Latencies {
            sorted: latencies,
            wall,
        }
    }

    pub fn count(&self) -> usize {
        self.sorted.len()
    }

    /// The `p`-quantile (0.5 for the median, 0.99, 1.0 for the maximum) in milliseconds: the
    /// smallest latency at least `p` of the requests did not exceed (nearest rank).
    pub fn ms(&self, p: f64) -> f64 {
        if self.sorted.is_empty() {
            return f64::NAN;
        }
        let rank = ((self.sorted.len() as f64 * p).ceil() as usize).clamp(1, self.sorted.len());
        self.sorted[rank - 1].as_secs_f64() * 1e3
    }

    pub fn p50(&self) -> f64 {
        self.ms(0.50)
    }

    pub fn p99(&self) -> f64 {
        self.ms(0.99)
    }

    pub fn max(&self) -> f64 {
        self.ms(1.0)
    }

    /// Operations per second over the wall time.
    pub fn per_second(&self) -> f64 {
        self.sorted.len() as f64 / self.wall.as_secs_f64().max(f64::MIN_POSITIVE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let ms = |n: u64| Duration::from_millis(n);
        let l = Latencies::new((1..=100).rev().map(ms).collect(), Duration::from_secs(2));
        assert_eq!((l.p50(), l.p99(), l.max()), (50.0, 99.0, 100.0));
        assert_eq!(l.per_second(), 50.0);
        assert!(Latencies::new(vec![], Duration::ZERO).p99().is_nan());
    }
}

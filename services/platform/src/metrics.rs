//! Prometheus metrics, one registry per service so several services can share a process.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    pub http_requests: IntCounterVec,
    pub http_duration: HistogramVec,
    pub messages: IntCounterVec,
    /// Outbox rows waiting for a publisher confirm.
    pub outbox_pending: IntGauge,
    /// Outbox rows the relay gave up on (see `outbox::MAX_PUBLISH_ATTEMPTS`).
    pub outbox_parked: IntGauge,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        let labels = std::iter::once(("service".to_owned(), service.to_owned())).collect();
        let registry =
            Registry::new_custom(Some("cafeia".into()), Some(labels)).unwrap_or_default();
        let http_requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests answered"),
            &["method", "route", "status"],
        )
        .unwrap_or_else(|e| unreachable_metric(e));
        let http_duration = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                ],
            ),
            &["method", "route"],
        )
        .unwrap_or_else(|e| unreachable_metric(e));
        let messages = IntCounterVec::new(
            Opts::new("bus_messages_total", "Messages handled by consumers"),
            &["queue", "outcome"],
        )
        .unwrap_or_else(|e| unreachable_metric(e));
        let outbox_pending = IntGauge::new(
            "outbox_pending",
            "Outbox messages not yet confirmed by the broker",
        )
        .unwrap_or_else(|e| unreachable_metric(e));
        let outbox_parked = IntGauge::new("outbox_parked", "Outbox messages the relay gave up on")
            .unwrap_or_else(|e| unreachable_metric(e));
        for collector in [
            Box::new(http_requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(http_duration.clone()),
            Box::new(messages.clone()),
            Box::new(outbox_pending.clone()),
            Box::new(outbox_parked.clone()),
        ] {
            // Names are constants and the registry is fresh: registration cannot clash.
            let _ = registry.register(collector);
        }
        Self {
            registry,
            http_requests,
            http_duration,
            messages,
            outbox_pending,
            outbox_parked,
        }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The text exposition format served on `/metrics`.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(buffer).unwrap_or_default()
    }
}

#[cold]
fn unreachable_metric(err: prometheus::Error) -> ! {
    // Only reachable if the constant metric definitions above are invalid: a programming error.
    panic!("invalid metric definition: {err}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_the_service_label() {
        let metrics = Metrics::new("catalogue");
        metrics
            .http_requests
            .with_label_values(&["GET", "/livez", "200"])
            .inc();
        let text = metrics.render();
        assert!(text.contains("cafeia_http_requests_total"), "{text}");
        assert!(text.contains("service=\"catalogue\""), "{text}");
    }
}

//! CloudEvents 1.0 JSON envelope for every message on the bus.
//!
//! The routing key is `<service>.<entity>.<verb>`; the CloudEvents `type` is
//! `fr.cafeia.<service>.<entity>.<verb>.v<version>`. Each type has a JSON Schema under
//! `schema/events/` and tests validate what is published against it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

pub const SPEC_VERSION: &str = "1.0";
pub const JSON: &str = "application/json";

pub use cafeia_api::message::MessageType;

/// A CloudEvents 1.0 event in structured JSON mode. `traceparent`/`tracestate` are the
/// CloudEvents distributed-tracing extension.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T = serde_json::Value> {
    pub specversion: String,
    pub id: Uuid,
    pub source: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub datacontenttype: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracestate: Option<String>,
    pub data: T,
}

impl<T: Serialize> Envelope<T> {
    /// A new event with a fresh UUIDv7, the current time and the current trace context.
    pub fn new(kind: MessageType, subject: impl Into<String>, data: T) -> Self {
        let ctx = crate::telemetry::current();
        Self {
            specversion: SPEC_VERSION.into(),
            id: Uuid::now_v7(),
            source: kind.source(),
            event_type: kind.type_name(),
            time: Utc::now(),
            subject: Some(subject.into()),
            datacontenttype: JSON.into(),
            traceparent: ctx.as_ref().map(|c| c.trace.child().to_string()),
            tracestate: ctx.and_then(|c| c.tracestate),
            data,
        }
    }

    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

impl Envelope<serde_json::Value> {
    pub fn from_slice(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }

    /// Reads `data` as the type the consumer expects.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.data.clone())
    }

    pub fn is(&self, kind: MessageType) -> bool {
        self.event_type == kind.type_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PING: MessageType = MessageType::new("platform", "probe", "sent", 1);

    #[test]
    fn names_follow_the_conventions() {
        assert_eq!(PING.routing_key(), "platform.probe.sent");
        assert_eq!(PING.type_name(), "fr.cafeia.platform.probe.sent.v1");
        assert_eq!(PING.schema_file(), "fr.cafeia.platform.probe.sent.v1.json");
    }

    #[test]
    fn envelope_serializes_as_structured_cloudevent() {
        let env = Envelope::new(PING, "probe/1", serde_json::json!({"n": 1}));
        let value: serde_json::Value =
            serde_json::from_slice(&env.to_json().expect("json")).expect("parse");
        assert_eq!(value["specversion"], "1.0");
        assert_eq!(value["type"], "fr.cafeia.platform.probe.sent.v1");
        assert_eq!(value["source"], "/cafeia/platform");
        assert_eq!(value["datacontenttype"], "application/json");
        assert_eq!(value["data"]["n"], 1);
        assert_eq!(env.id.get_version_num(), 7);
        let back = Envelope::from_slice(&env.to_json().expect("json")).expect("back");
        assert!(back.is(PING));
    }
}

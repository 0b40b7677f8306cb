//! Kinds of messages on the bus. The routing key is `<service>.<entity>.<verb>`; the
//! CloudEvents `type` is `fr.cafeia.<service>.<entity>.<verb>.v<version>`; each type has a
//! JSON Schema under `schema/events/`.

/// A kind of message: names its routing key, CloudEvents type and schema file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MessageType {
    pub service: &'static str,
    pub entity: &'static str,
    pub verb: &'static str,
    pub version: u16,
}

impl MessageType {
    pub const fn new(
        service: &'static str,
        entity: &'static str,
        verb: &'static str,
        version: u16,
    ) -> Self {
        Self {
            service,
            entity,
            verb,
            version,
        }
    }

    pub fn routing_key(&self) -> String {
        format!("{}.{}.{}", self.service, self.entity, self.verb)
    }

    pub fn type_name(&self) -> String {
        format!(
            "fr.cafeia.{}.{}.{}.v{}",
            self.service, self.entity, self.verb, self.version
        )
    }

    /// The contract's file name under `schema/events/`.
    pub fn schema_file(&self) -> String {
        format!("{}.json", self.type_name())
    }

    pub fn source(&self) -> String {
        format!("/cafeia/{}", self.service)
    }
}

//! Validates published messages against the contracts in `schema/events/`.

use std::path::PathBuf;

/// `schema/events/` at the workspace root.
pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/events")
}

fn load(path: &std::path::Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{} is not JSON: {e}", path.display()))
}

fn check(
    schema: &serde_json::Value,
    instance: &serde_json::Value,
    what: &str,
) -> Result<(), String> {
    let validator =
        jsonschema::validator_for(schema).map_err(|e| format!("{what}: invalid schema: {e}"))?;
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{what}: {} at {}", e, e.instance_path))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// Checks the CloudEvents envelope of `body`, and — when `require_data_schema` — its `data`
/// against the schema named after its `type`.
pub fn validate(body: &[u8], require_data_schema: bool) -> Result<(), String> {
    let instance: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("message is not JSON: {e}"))?;
    let dir = events_dir();
    check(
        &load(&dir.join("cloudevent.schema.json"))?,
        &instance,
        "envelope",
    )?;
    if require_data_schema {
        let event_type = instance["type"].as_str().unwrap_or_default();
        let schema = load(&dir.join(format!("{event_type}.json")))?;
        check(&schema, &instance["data"], event_type)?;
    }
    Ok(())
}

/// Every message type a service declares has its contract, and the contract is valid JSON
/// Schema.
pub fn assert_every_type_has_a_contract(types: &[cafeia_platform::envelope::MessageType]) {
    for kind in types {
        let path = events_dir().join(kind.schema_file());
        let schema = load(&path).unwrap_or_else(|e| panic!("{}: {e}", kind.type_name()));
        jsonschema::validator_for(&schema)
            .unwrap_or_else(|e| panic!("{}: invalid schema: {e}", kind.type_name()));
    }
}

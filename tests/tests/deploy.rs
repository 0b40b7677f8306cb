//! The deployment files say what docs/deploy.md promises: every overlay renders, every part has
//! a hardened Deployment with probes and resources, and no secret value is committed.

use serde_norway::Value;
use std::{collections::BTreeSet, path::PathBuf, process::Command};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn overlays() -> Vec<PathBuf> {
    let dir = root().join("k8s/overlays");
    let mut overlays: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("k8s/overlays exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("kustomization.yaml").exists())
        .collect();
    overlays.sort();
    overlays
}

fn render(overlay: &PathBuf) -> Vec<Value> {
    let output = Command::new("kubectl")
        .arg("kustomize")
        .arg(overlay)
        .output()
        .unwrap_or_else(|e| {
            panic!("kubectl is needed to render the manifests (apt package kubectl): {e}")
        });
    assert!(
        output.status.success(),
        "kubectl kustomize {} failed: {}",
        overlay.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf8");
    serde_norway::Deserializer::from_str(&text)
        .map(|doc| {
            serde_norway::with::singleton_map_recursive::deserialize(doc).expect("yaml document")
        })
        .collect()
}

fn kind(v: &Value) -> &str {
    v["kind"].as_str().unwrap_or_default()
}

fn name(v: &Value) -> &str {
    v["metadata"]["name"].as_str().unwrap_or_default()
}

/// Every part that runs as its own process: services with a thin binary, and the gateway.
fn deployable_parts() -> BTreeSet<String> {
    let mut parts: BTreeSet<String> = std::fs::read_dir(root().join("services"))
        .expect("services/")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("src/main.rs").exists())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n != "launcher")
        .collect();
    parts.insert("gateway".into());
    parts
}

#[test]
fn every_overlay_renders_hardened_deployments_for_every_part() {
    let overlays = overlays();
    assert!(overlays.len() >= 2, "dev and production overlays");
    for overlay in overlays {
        let objects = render(&overlay);
        let deployments: Vec<&Value> = objects.iter().filter(|o| kind(o) == "Deployment").collect();
        let names: BTreeSet<String> = deployments.iter().map(|d| name(d).to_owned()).collect();
        assert_eq!(
            names,
            deployable_parts(),
            "{}: one Deployment per part",
            overlay.display()
        );

        for deployment in deployments {
            let at = format!("{}: Deployment {}", overlay.display(), name(deployment));
            let pod = &deployment["spec"]["template"]["spec"];
            assert_eq!(
                pod["securityContext"]["runAsNonRoot"],
                Value::Bool(true),
                "{at}"
            );
            let containers = pod["containers"].as_sequence().expect("containers");
            for c in containers {
                assert!(
                    c["readinessProbe"]["httpGet"]["path"] == "/readyz",
                    "{at}: readiness on /readyz"
                );
                assert!(
                    c["livenessProbe"]["httpGet"]["path"] == "/livez",
                    "{at}: liveness on /livez"
                );
                for key in ["cpu", "memory"] {
                    assert!(
                        !c["resources"]["requests"][key].is_null(),
                        "{at}: request {key}"
                    );
                    assert!(
                        !c["resources"]["limits"][key].is_null(),
                        "{at}: limit {key}"
                    );
                }
                let sc = &c["securityContext"];
                assert_eq!(sc["allowPrivilegeEscalation"], Value::Bool(false), "{at}");
                assert_eq!(sc["readOnlyRootFilesystem"], Value::Bool(true), "{at}");
                assert!(
                    c["image"].as_str().is_some_and(|i| !i.ends_with(":latest")),
                    "{at}: image tag pinned by the overlay"
                );
            }
        }

        let count = |k: &str| objects.iter().filter(|o| kind(o) == k).count();
        assert_eq!(
            count("Service"),
            deployable_parts().len(),
            "{}",
            overlay.display()
        );
        assert_eq!(count("Job"), 1, "{}: the migration job", overlay.display());
        assert_eq!(count("Ingress"), 1, "{}", overlay.display());
        let hpas: BTreeSet<&str> = objects
            .iter()
            .filter(|o| kind(o) == "HorizontalPodAutoscaler")
            .map(name)
            .collect();
        assert_eq!(
            hpas,
            BTreeSet::from(["gateway", "matching"]),
            "{}",
            overlay.display()
        );
        assert_eq!(
            count("PodDisruptionBudget"),
            deployable_parts().len(),
            "{}",
            overlay.display()
        );
        let ingress = objects
            .iter()
            .find(|o| kind(o) == "Ingress")
            .expect("ingress");
        let paths = ingress["spec"]["rules"][0]["http"]["paths"]
            .as_sequence()
            .expect("paths");
        let exposed: BTreeSet<(&str, &str)> = paths
            .iter()
            .filter_map(|p| {
                Some((
                    p["path"].as_str()?,
                    p["backend"]["service"]["name"].as_str()?,
                ))
            })
            .collect();
        assert_eq!(
            exposed,
            BTreeSet::from([
                ("/graphql", "gateway"),
                ("/calendars", "gateway"),
                ("/jsonld", "gateway"),
            ]),
            "only the gateway is exposed, with the API, the calendars and JSON-LD"
        );
        assert!(
            objects.iter().any(|o| kind(o) == "NetworkPolicy"
                && o["spec"]["podSelector"] == Value::Mapping(Default::default())),
            "{}: a default-deny policy",
            overlay.display()
        );
    }
}

#[test]
fn no_secret_carries_a_real_value() {
    for overlay in overlays() {
        for secret in render(&overlay).iter().filter(|o| kind(o) == "Secret") {
            let values: Vec<String> = ["stringData", "data"]
                .iter()
                .filter_map(|k| secret[*k].as_mapping())
                .flat_map(|m| m.values())
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect();
            assert!(!values.is_empty());
            for value in values {
                assert!(
                    value == "REPLACE_ME" || value == "UkVQTEFDRV9NRQ==",
                    "{}: Secret {} holds a value other than the placeholder",
                    overlay.display(),
                    name(secret)
                );
            }
        }
    }
}

#[test]
fn compose_runs_every_part_with_health_checks_and_start_order() {
    let text =
        std::fs::read_to_string(root().join("infra/docker-compose.yml")).expect("compose file");
    let mut compose: Value = serde_norway::from_str(&text).expect("compose is YAML");
    compose.apply_merge().expect("YAML merge keys resolve");
    let services = compose["services"].as_mapping().expect("services");
    let names: BTreeSet<String> = services
        .keys()
        .filter_map(|k| k.as_str().map(str::to_owned))
        .collect();
    for part in deployable_parts()
        .iter()
        .map(String::as_str)
        .chain(["postgres", "rabbitmq", "redis"])
    {
        assert!(names.contains(part), "compose runs {part}");
        let service = &compose["services"][part];
        assert!(
            !service["healthcheck"]["test"].is_null(),
            "{part} has a health check"
        );
    }
    for part in deployable_parts() {
        let deps = &compose["services"][part.as_str()]["depends_on"];
        for backend in ["postgres", "rabbitmq", "redis"] {
            assert_eq!(
                deps[backend]["condition"], "service_healthy",
                "{part} waits for {backend}"
            );
        }
    }
}

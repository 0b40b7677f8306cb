//! The deployment files say what docs/deploy.md promises: every overlay renders, every part has
//! a hardened Deployment with probes and resources, and no secret value is committed.

use serde_norway::Value;
use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    process::Command,
};

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

/// A pod as the network policies see it: its namespace and labels.
struct PodRef {
    namespace: String,
    labels: BTreeMap<String, String>,
}

/// Where a connection goes: a pod in the cluster, or an address outside it.
enum Destination {
    Pod {
        namespace: String,
        labels: BTreeMap<String, String>,
    },
    Address(std::net::IpAddr),
}

fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
        .collect()
}

/// Kubernetes' label selector: `matchLabels` and `matchExpressions` (an empty one matches all).
fn selects(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let by_labels = labels_of(&selector["matchLabels"])
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v));
    let by_expressions = selector["matchExpressions"]
        .as_sequence()
        .into_iter()
        .flatten()
        .all(|e| {
            let value = labels.get(e["key"].as_str().unwrap_or_default());
            let values: Vec<&str> = e["values"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str().unwrap_or_default() {
                "In" => value.is_some_and(|v| values.contains(&v.as_str())),
                "NotIn" => value.is_none_or(|v| !values.contains(&v.as_str())),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => panic!("unknown selector operator {other}"),
            }
        });
    by_labels && by_expressions
}

/// The labels Kubernetes gives every namespace, plus those the overlay sets.
fn namespace_labels(objects: &[Value], namespace: &str) -> BTreeMap<String, String> {
    let mut labels = objects
        .iter()
        .find(|o| kind(o) == "Namespace" && name(o) == namespace)
        .map(|n| labels_of(&n["metadata"]["labels"]))
        .unwrap_or_default();
    labels.insert("kubernetes.io/metadata.name".into(), namespace.into());
    labels
}

fn peer_allows(objects: &[Value], policy_namespace: &str, peer: &Value, to: &Destination) -> bool {
    match to {
        Destination::Address(ip) => {
            let block = &peer["ipBlock"];
            let Some(cidr) = block["cidr"].as_str() else {
                return false;
            };
            let within = |c: &str| {
                c.parse::<cafeia_gateway::client_address::Network>()
                    .expect("a CIDR block")
                    .contains(*ip)
            };
            within(cidr)
                && !block["except"]
                    .as_sequence()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .any(within)
        }
        Destination::Pod { namespace, labels } => {
            if !peer["ipBlock"].is_null() {
                return false;
            }
            let namespace_ok = match &peer["namespaceSelector"] {
                Value::Null => namespace == policy_namespace,
                selector => selects(selector, &namespace_labels(objects, namespace)),
            };
            let pod_ok = match &peer["podSelector"] {
                Value::Null => true,
                selector => selects(selector, labels),
            };
            namespace_ok && pod_ok
        }
    }
}

/// Whether the rendered policies let `from` open `protocol`/`port` to `to` (Kubernetes'
/// semantics: a pod no egress policy selects may go anywhere; a selected one only where one of
/// their rules says).
fn egress_allowed(
    objects: &[Value],
    from: &PodRef,
    to: &Destination,
    protocol: &str,
    port: u16,
) -> bool {
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| kind(o) == "NetworkPolicy")
        .filter(|p| p["metadata"]["namespace"].as_str().unwrap_or_default() == from.namespace)
        .filter(|p| selects(&p["spec"]["podSelector"], &from.labels))
        .filter(|p| {
            p["spec"]["policyTypes"]
                .as_sequence()
                .is_some_and(|t| t.iter().any(|t| t == "Egress"))
        })
        .collect();
    if policies.is_empty() {
        return true;
    }
    policies.iter().any(|policy| {
        let namespace = policy["metadata"]["namespace"].as_str().unwrap_or_default();
        policy["spec"]["egress"]
            .as_sequence()
            .into_iter()
            .flatten()
            .any(|rule| {
                let to_ok = match rule["to"].as_sequence() {
                    None => true,
                    Some(peers) if peers.is_empty() => true,
                    Some(peers) => peers
                        .iter()
                        .any(|peer| peer_allows(objects, namespace, peer, to)),
                };
                let port_ok = match rule["ports"].as_sequence() {
                    None => true,
                    Some(ports) if ports.is_empty() => true,
                    Some(ports) => ports.iter().any(|p| {
                        let proto = p["protocol"].as_str().unwrap_or("TCP");
                        let first = p["port"].as_u64();
                        let last = p["endPort"].as_u64().or(first);
                        proto == protocol
                            && first
                                .is_none_or(|f| (f..=last.unwrap_or(f)).contains(&u64::from(port)))
                    }),
                };
                to_ok && port_ok
            })
    })
}

/// The host's port in an http(s) URL (`https://idp.example/certs` → 443).
fn url_port(url: &str) -> u16 {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority = rest.split('/').next().unwrap_or_default();
    match authority.rsplit_once(':') {
        Some((_, port)) if !authority.ends_with(']') => port.parse().expect("a port"),
        _ if scheme == "https" => 443,
        _ => 80,
    }
}

/// The names of the environment variables a pod's first container gets from `env`.
fn env_names(pod: &Value) -> BTreeSet<String> {
    pod["containers"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|c| c["env"].as_sequence().into_iter().flatten())
        .filter_map(|e| e["name"].as_str().map(str::to_owned))
        .collect()
}

/// Issue 14, defect 1: the default-deny policies allowed no JWKS egress (start aborts), the
/// gateway had no bus URL nor broker egress (live seats never arrived). Each part must be
/// allowed exactly what its configuration makes it reach.
#[test]
fn network_policies_allow_each_part_exactly_what_it_needs() {
    for overlay in overlays() {
        let objects = render(&overlay);
        let at = overlay.display().to_string();
        let config = objects
            .iter()
            .find(|o| kind(o) == "ConfigMap" && name(o) == "cafeia-config")
            .expect("the shared ConfigMap");
        let jwks_url = config["data"]["CAFEIA_AUTH__JWKS_URL"]
            .as_str()
            .expect("production verifies tokens against the identity provider's JWKS");
        let jwks_port = url_port(jwks_url);
        let in_cluster = |labels: &[(&str, &str)], namespace: &str| Destination::Pod {
            namespace: namespace.to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        };
        let outside = |ip: &str| Destination::Address(ip.parse().expect("ip"));

        let mut workloads: Vec<(String, &Value, &Value)> = objects
            .iter()
            .filter(|o| matches!(kind(o), "Deployment" | "Job"))
            .map(|o| {
                (
                    name(o).to_owned(),
                    &o["spec"]["template"],
                    &o["metadata"]["namespace"],
                )
            })
            .collect();
        workloads.sort_by(|a, b| a.0.cmp(&b.0));
        let mut bus_users = BTreeSet::new();
        for (part, template, namespace) in workloads {
            let at = format!("{at}: {part}");
            let namespace = namespace.as_str().expect("namespaced").to_owned();
            let pod = PodRef {
                namespace: namespace.clone(),
                labels: labels_of(&template["metadata"]["labels"]),
            };
            let env = env_names(&template["spec"]);
            let may = |to: &Destination, protocol: &str, port: u16| {
                egress_allowed(&objects, &pod, to, protocol, port)
            };
            let dns = in_cluster(&[("k8s-app", "kube-dns")], "kube-system");
            assert!(may(&dns, "UDP", 53) && may(&dns, "TCP", 53), "{at}: DNS");

            // Every `serve` builds a token verifier from the JWKS at start; migrations do not.
            let verifies_tokens = kind_of_part(&objects, &part) == "Deployment";
            for ip in ["203.0.113.10", "2001:db8::10"] {
                assert_eq!(
                    may(&outside(ip), "TCP", jwks_port),
                    verifies_tokens,
                    "{at}: JWKS egress to {jwks_url} ({ip}:{jwks_port})"
                );
                assert!(
                    !may(&outside(ip), "TCP", 80) && !may(&outside(ip), "TCP", 5432),
                    "{at}: nothing else leaves the cluster"
                );
            }
            for private in ["10.1.2.3", "172.20.0.1", "192.168.0.10", "169.254.169.254"] {
                assert!(
                    !may(&outside(private), "TCP", jwks_port),
                    "{at}: the JWKS rule opens no private or metadata address ({private})"
                );
            }

            let bus = in_cluster(&[("app.kubernetes.io/name", "rabbitmq")], &namespace);
            let uses_bus = env.contains("CAFEIA_BUS__URL");
            if uses_bus {
                bus_users.insert(part.clone());
            }
            for port in [5672, 5671] {
                assert_eq!(may(&bus, "TCP", port), uses_bus, "{at}: broker on {port}");
            }
            let cache = in_cluster(&[("app.kubernetes.io/name", "redis")], &namespace);
            assert_eq!(
                may(&cache, "TCP", 6379),
                env.contains("CAFEIA_CACHE__URL"),
                "{at}: cache"
            );
            for service in deployable_parts().iter().filter(|p| *p != "gateway") {
                let db_name = format!("{service}-db");
                let db = in_cluster(&[("cnpg.io/cluster", db_name.as_str())], &namespace);
                let needs = if part == "cafeia-migrate" {
                    true
                } else {
                    part == *service
                };
                assert_eq!(may(&db, "TCP", 5432), needs, "{at}: database {db_name}");
            }
        }
        assert!(
            bus_users.contains("gateway"),
            "{at}: the gateway gets CAFEIA_BUS__URL (its seats subscription listens on the broker)"
        );
        assert_eq!(
            bus_users,
            deployable_parts(),
            "{at}: every part, and only they, use the broker"
        );
    }
}

fn kind_of_part<'a>(objects: &'a [Value], part: &str) -> &'a str {
    objects
        .iter()
        .find(|o| matches!(kind(o), "Deployment" | "Job") && name(o) == part)
        .map(kind)
        .unwrap_or_default()
}

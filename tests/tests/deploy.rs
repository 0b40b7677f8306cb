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
        // Per host, the paths exposed and where they go.
        let mut hosts: BTreeMap<&str, BTreeSet<(&str, &str)>> = BTreeMap::new();
        for (host, path, service) in routes(ingress) {
            hosts.entry(host).or_default().insert((path, service));
        }
        let mut exposed: Vec<&BTreeSet<(&str, &str)>> = hosts.values().collect();
        exposed.sort();
        assert_eq!(
            exposed,
            vec![
                &BTreeSet::from([("/", "gateway")]),
                &BTreeSet::from([
                    ("/calendars", "gateway"),
                    ("/graphql", "gateway"),
                    ("/jsonld", "gateway"),
                ]),
            ],
            "{}: only the gateway is exposed: the API, the calendars and JSON-LD on the API \
             host, the web app on the site's",
            overlay.display()
        );
        assert!(
            objects.iter().any(|o| kind(o) == "NetworkPolicy"
                && o["spec"]["podSelector"] == Value::Mapping(Default::default())),
            "{}: a default-deny policy",
            overlay.display()
        );
    }
}

/// (host, path, service) of every path an Ingress routes.
fn routes(ingress: &Value) -> Vec<(&str, &str, &str)> {
    ingress["spec"]["rules"]
        .as_sequence()
        .into_iter()
        .flatten()
        .flat_map(|rule| {
            let host = rule["host"].as_str().unwrap_or_default();
            rule["http"]["paths"]
                .as_sequence()
                .into_iter()
                .flatten()
                .filter_map(move |p| {
                    Some((
                        host,
                        p["path"].as_str()?,
                        p["backend"]["service"]["name"].as_str()?,
                    ))
                })
        })
        .collect()
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

/// The `env` entry `var` of the first container of Deployment `part`.
fn env_var<'a>(objects: &'a [Value], part: &str, var: &str) -> Option<&'a Value> {
    objects
        .iter()
        .filter(|o| kind(o) == "Deployment" && name(o) == part)
        .flat_map(|d| {
            d["spec"]["template"]["spec"]["containers"]
                .as_sequence()
                .into_iter()
                .flatten()
        })
        .flat_map(|c| c["env"].as_sequence().into_iter().flatten())
        .find(|e| e["name"] == var)
}

/// Issue 14's mail and web app in production: events sends mail through an SMTP server whose
/// URL (credentials) comes from a Secret, from a sender, with links to the site the Ingress
/// serves; the gateway's web app has its cookie key from a Secret; the gateway and matching
/// share the key that seals client addresses. Secrets stay out of ConfigMaps and away from the
/// parts that do not need them.
#[test]
fn mail_and_web_settings_reach_the_parts_that_need_them() {
    for overlay in overlays() {
        let objects = render(&overlay);
        let at = overlay.display().to_string();
        let secret_keys: BTreeSet<String> = objects
            .iter()
            .filter(|o| kind(o) == "Secret" && name(o) == "cafeia-secrets")
            .flat_map(|s| {
                ["stringData", "data"]
                    .into_iter()
                    .filter_map(|k| s[k].as_mapping())
                    .flat_map(|m| m.keys())
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect::<Vec<_>>()
            })
            .collect();
        let from_secret = |part: &str, var: &str| -> String {
            let entry =
                env_var(&objects, part, var).unwrap_or_else(|| panic!("{at}: {part} gets {var}"));
            let reference = &entry["valueFrom"]["secretKeyRef"];
            assert_eq!(
                reference["name"], "cafeia-secrets",
                "{at}: {part} {var} from the Secret"
            );
            let key = reference["key"].as_str().expect("a secret key").to_owned();
            assert!(
                secret_keys.contains(&key),
                "{at}: the Secret template has {key}"
            );
            key
        };
        let plain = |part: &str, var: &str| -> String {
            env_var(&objects, part, var)
                .and_then(|e| e["value"].as_str())
                .unwrap_or_else(|| panic!("{at}: {part} gets {var} as a value"))
                .to_owned()
        };

        from_secret("events", "CAFEIA_MAIL__URL");
        let sender = plain("events", "CAFEIA_MAIL__FROM");
        assert!(
            sender.contains('@'),
            "{at}: mail.from is an address: {sender}"
        );
        let base = plain("events", "CAFEIA_EVENTS__WEB_BASE_URL");
        assert_eq!(
            plain("facilitators", "CAFEIA_FACILITATORS__WEB_BASE_URL"),
            base,
            "{at}: the digests' links open the same site as the registrants' mail"
        );
        let host = base
            .strip_prefix("https://")
            .filter(|rest| !rest.contains('/'))
            .unwrap_or_else(|| panic!("{at}: web_base_url is https://<host>: {base}"));
        let ingress = objects
            .iter()
            .find(|o| kind(o) == "Ingress")
            .expect("ingress");
        assert!(
            routes(ingress).contains(&(host, "/", "gateway")),
            "{at}: mailed links ({base}/inscriptions/…) open pages the Ingress routes to the gateway"
        );
        let tls: Vec<&str> = ingress["spec"]["tls"]
            .as_sequence()
            .into_iter()
            .flatten()
            .flat_map(|t| t["hosts"].as_sequence().into_iter().flatten())
            .filter_map(Value::as_str)
            .collect();
        assert!(tls.contains(&host), "{at}: {host} is served over TLS");
        assert_eq!(
            plain("gateway", "CAFEIA_WEB__PUBLIC_URL"),
            base,
            "{at}: the web app and the mail name one site"
        );

        from_secret("gateway", "CAFEIA_WEB__SESSION_KEY");
        assert_eq!(
            from_secret("gateway", "CAFEIA_CLIENT_ADDRESS__KEY"),
            from_secret("matching", "CAFEIA_CLIENT_ADDRESS__KEY"),
            "{at}: the gateway and matching hold the same client-address key"
        );

        for (var, holders) in [
            ("CAFEIA_MAIL__URL", &["events", "facilitators"][..]),
            ("CAFEIA_WEB__SESSION_KEY", &["gateway"][..]),
            ("CAFEIA_CLIENT_ADDRESS__KEY", &["gateway", "matching"][..]),
        ] {
            for part in deployable_parts() {
                assert_eq!(
                    env_var(&objects, &part, var).is_some(),
                    holders.contains(&part.as_str()),
                    "{at}: {part} and {var}"
                );
            }
            for config in objects.iter().filter(|o| kind(o) == "ConfigMap") {
                assert!(
                    config["data"][var].is_null(),
                    "{at}: {var} is a secret, not in ConfigMap {}",
                    name(config)
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

/// Which way a connection crosses the policies of the pod they select.
#[derive(Clone, Copy)]
enum Direction {
    /// Connections the pod opens (`egress`, peers in `to`).
    Egress,
    /// Connections the pod accepts (`ingress`, peers in `from`).
    Ingress,
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
    allowed(objects, Direction::Egress, from, to, protocol, port)
}

/// Whether the rendered policies let pod `to` accept `protocol`/`port` from `from` (a pod no
/// ingress policy selects accepts anything).
fn ingress_allowed(
    objects: &[Value],
    to: &PodRef,
    from: &Destination,
    protocol: &str,
    port: u16,
) -> bool {
    allowed(objects, Direction::Ingress, to, from, protocol, port)
}

/// [`egress_allowed`] and [`ingress_allowed`]: `pod` is the one the policies select, `peer`
/// the other end.
fn allowed(
    objects: &[Value],
    direction: Direction,
    pod: &PodRef,
    peer: &Destination,
    protocol: &str,
    port: u16,
) -> bool {
    let (policy_type, rules_key, peers_key) = match direction {
        Direction::Egress => ("Egress", "egress", "to"),
        Direction::Ingress => ("Ingress", "ingress", "from"),
    };
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| kind(o) == "NetworkPolicy")
        .filter(|p| p["metadata"]["namespace"].as_str().unwrap_or_default() == pod.namespace)
        .filter(|p| selects(&p["spec"]["podSelector"], &pod.labels))
        .filter(|p| {
            p["spec"]["policyTypes"]
                .as_sequence()
                .is_some_and(|t| t.iter().any(|t| t == policy_type))
        })
        .collect();
    if policies.is_empty() {
        return true;
    }
    policies.iter().any(|policy| {
        let namespace = policy["metadata"]["namespace"].as_str().unwrap_or_default();
        policy["spec"][rules_key]
            .as_sequence()
            .into_iter()
            .flatten()
            .any(|rule| {
                let peer_ok = match rule[peers_key].as_sequence() {
                    None => true,
                    Some(peers) if peers.is_empty() => true,
                    Some(peers) => peers
                        .iter()
                        .any(|p| peer_allows(objects, namespace, p, peer)),
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
                peer_ok && port_ok
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

/// Which services each part calls over HTTP: the gateway all of them; events the facilitators
/// service, for names (issue 14, defect 4: they are read when shown, never carried on the bus).
fn calls(part: &str, service: &str) -> bool {
    part == "gateway" || (part == "events" && service == "facilitators")
}

/// Issue 14, defect 1: the default-deny policies allowed no JWKS egress (start aborts), the
/// gateway had no bus URL nor broker egress (live seats never arrived). Each part must be
/// allowed exactly what its configuration makes it reach: its calls to services (accepted on
/// the other side too) and, for events alone, an SMTP server.
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
        let services: Vec<(String, PodRef)> = workloads
            .iter()
            .filter(|(part, _, _)| part != "gateway" && part != "cafeia-migrate")
            .map(|(part, template, namespace)| {
                let pod = PodRef {
                    namespace: namespace.as_str().expect("namespaced").to_owned(),
                    labels: labels_of(&template["metadata"]["labels"]),
                };
                (part.clone(), pod)
            })
            .collect();
        assert_eq!(services.len(), deployable_parts().len() - 1, "{at}");
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

            for (service, target) in &services {
                let to = Destination::Pod {
                    namespace: target.namespace.clone(),
                    labels: target.labels.clone(),
                };
                let from = Destination::Pod {
                    namespace: pod.namespace.clone(),
                    labels: pod.labels.clone(),
                };
                let expected = calls(&part, service);
                assert_eq!(may(&to, "TCP", 8080), expected, "{at}: calls {service}");
                assert_eq!(
                    ingress_allowed(&objects, target, &from, "TCP", 8080),
                    expected,
                    "{at}: {service} accepts its calls"
                );
            }

            // Mail leaves from events (to registrants) and facilitators (to facilitators) only,
            // on the submission ports (587 STARTTLS, 465 TLS), to addresses outside the cluster.
            let sends_mail = part == "events" || part == "facilitators";
            for port in [587, 465] {
                for ip in ["203.0.113.25", "2001:db8::25"] {
                    assert_eq!(
                        may(&outside(ip), "TCP", port),
                        sends_mail,
                        "{at}: SMTP egress to {ip} on {port}"
                    );
                }
                for private in ["10.1.2.3", "169.254.169.254"] {
                    assert!(
                        !may(&outside(private), "TCP", port),
                        "{at}: the SMTP rule opens no private or metadata address ({private})"
                    );
                }
            }
            assert!(
                !may(&outside("203.0.113.25"), "TCP", 25),
                "{at}: port 25 stays closed"
            );
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

//! The `cafeia` binary as an operator uses it.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_cafeia");

use cafeia_testkit::free_port;

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cafeia-cli-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// A command with no inherited CAFEIA_* settings, so the machine's environment cannot leak in.
fn cafeia(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("CAFEIA_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

fn wait_exit(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > within {
            let _ = child.kill();
            panic!("cafeia did not exit within {within:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `cafeia up`, waits for the announcement, returns the child and its stdout lines.
fn up(dir: &std::path::Path, port: u16) -> (Child, Vec<String>) {
    let mut child = cafeia(dir)
        .args(["up", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cafeia up");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        let done = line.starts_with("Ctrl-C");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

fn graphql(port: u16, query: &str, token: Option<&str>) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/graphql"))
            .json(&serde_json::json!({ "query": query }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("post").json().await.expect("json")
    })
}

#[test]
fn up_serves_graphql_with_dev_tokens_and_stops_cleanly_on_ctrl_c() {
    let dir = temp_dir();
    let port = free_port();
    let (mut child, lines) = up(&dir, port);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&format!("http://127.0.0.1:{port}/graphiql"))),
        "{lines:?}"
    );
    let body = graphql(port, "{ __typename }", None);
    assert_eq!(body["data"]["__typename"], "Query");

    let staff = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("staff"))
        .map(|t| t.trim().to_owned())
        .expect("staff token printed");
    let body = graphql(
        port,
        "{ me { roles } services { name ready } }",
        Some(&staff),
    );
    assert_eq!(body["data"]["me"]["roles"], serde_json::json!(["STAFF"]));
    let services = body["data"]["services"].as_array().expect("services");
    assert_eq!(services.len(), 5);
    assert!(services.iter().all(|s| s["ready"] == true), "{body}");
    assert!(
        dir.join(".cafeia-data/events.sqlite").exists(),
        "SQLite files in the data directory"
    );

    signal(&child, "INT");
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "Ctrl-C exits 0");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn up_stops_cleanly_on_sigterm_and_restarts_on_the_same_data() {
    let dir = temp_dir();
    for _ in 0..2 {
        let port = free_port();
        let (mut child, _) = up(&dir, port);
        assert_eq!(
            graphql(port, "{ __typename }", None)["data"]["__typename"],
            "Query"
        );
        signal(&child, "TERM");
        assert_eq!(
            wait_exit(&mut child, Duration::from_secs(10)).code(),
            Some(0)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_bad_configuration_value_stops_start_up_naming_the_key() {
    let dir = temp_dir();
    let output = cafeia(&dir)
        .args(["up", "--port", &free_port().to_string()])
        .env("CAFEIA_BUS__PREFETCH", "beaucoup")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bus.prefetch"), "{stderr}");
    assert!(stderr.contains("CAFEIA_BUS__PREFETCH"), "{stderr}");

    // A service's own section goes through the same layers and the same refusal.
    let output = cafeia(&dir)
        .args(["up", "--port", &free_port().to_string()])
        .env("CAFEIA_EVENTS__RETENTION_DAYS", "jamais")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("events.retention_days"), "{stderr}");
    let output = cafeia(&dir)
        .args(["serve", "events"])
        .env("CAFEIA_EVENTS__RETENTION_DAYS", "0")
        .env("CAFEIA_AUTH__JWKS_URL", "https://idp.example/jwks")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("events.retention_days"), "{stderr}");

    let output = cafeia(&dir)
        .args(["serve", "catalogue"])
        .env("CAFEIA_DATABASE__URL", "mysql://nope")
        .env("CAFEIA_AUTH__JWKS_URL", "https://idp.example/jwks")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("database.url"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_refuses_the_development_issuer_on_production_backends() {
    let dir = temp_dir();
    let output = cafeia(&dir)
        .args(["serve", "events"])
        .env(
            "CAFEIA_DATABASE__URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        )
        .env("CAFEIA_AUTH__DEV_ISSUER", "true")
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("auth.dev_issuer"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn token_issues_a_verifiable_development_token() {
    let dir = temp_dir();
    let output = cafeia(&dir)
        .args([
            "token",
            "--role",
            "staff",
            "--sub",
            "coord",
            "--territory",
            "region:84",
        ])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let token = String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let config = cafeia_platform::config::AuthConfig {
        dev_issuer: true,
        ..Default::default()
    };
    let caller = rt
        .block_on(async {
            let verifier =
                cafeia_platform::auth::Verifier::from_config(&config, &dir.join(".cafeia-data"))
                    .await?;
            verifier.verify(&token).await.map_err(|e| e.to_string())
        })
        .expect("token verifies");
    assert_eq!(caller.sub, "coord");
    assert_eq!(
        caller.territory.map(|t| t.to_string()).as_deref(),
        Some("region:84")
    );

    // Staff without --territory are national, and the token says so (issue 14, defect 13).
    let output = cafeia(&dir)
        .args(["token", "--role", "staff", "--sub", "cnnum"])
        .output()
        .expect("run");
    assert!(output.status.success());
    let national = String::from_utf8(output.stdout)
        .expect("utf8")
        .trim()
        .to_owned();
    let caller = rt
        .block_on(async {
            let verifier =
                cafeia_platform::auth::Verifier::from_config(&config, &dir.join(".cafeia-data"))
                    .await?;
            verifier.verify(&national).await.map_err(|e| e.to_string())
        })
        .expect("token verifies");
    // Only an explicit `territory: national` claim makes staff national.
    assert!(caller.is_national_staff());
    assert_eq!(caller.scope().as_deref(), Some("national"));

    let bad = cafeia(&dir)
        .args(["token", "--role", "admin", "--sub", "x"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn migrate_applies_every_services_migrations() {
    let dir = temp_dir();
    let output = cafeia(&dir).arg("migrate").output().expect("run");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    for service in [
        "catalogue",
        "facilitators",
        "events",
        "matching",
        "outreach",
    ] {
        assert!(
            stdout.contains(&format!("{service}: migrations applied")),
            "{stdout}"
        );
        assert!(dir.join(format!(".cafeia-data/{service}.sqlite")).exists());
    }
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn import_lheo_reports_created_and_rejected_offers() {
    let dir = temp_dir();
    let file = dir.join("offres.xml");
    std::fs::write(
        &file,
        r#"<?xml version="1.0" encoding="UTF-8"?><lheo xmlns="http://www.lheo.org/2.2"><offres>
<formation numero="CLI-1"><intitule-formation>IA et emploi</intitule-formation><objectif-formation>Comprendre l'IA.</objectif-formation><action><modalites-enseignement>2</modalites-enseignement><nombre-heures-total>7</nombre-heures-total></action><organisme-formation-responsable><SIRET-organisme-formation><SIRET>73282932000074</SIRET></SIRET-organisme-formation><nom-organisme>Org</nom-organisme></organisme-formation-responsable></formation>
<formation numero="CLI-2"><intitule-formation></intitule-formation><objectif-formation>Comprendre.</objectif-formation><action><modalites-enseignement>2</modalites-enseignement><nombre-heures-total>7</nombre-heures-total></action><organisme-formation-responsable><SIRET-organisme-formation><SIRET>73282932000074</SIRET></SIRET-organisme-formation><nom-organisme>Org</nom-organisme></organisme-formation-responsable></formation>
</offres></lheo>"#,
    )
    .expect("write");
    let run = || {
        cafeia(&dir)
            .arg("import-lheo")
            .arg(&file)
            .output()
            .expect("run")
    };
    let first = run();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert!(
        stdout.starts_with("2 offres : 1 créées, 0 mises à jour, 0 inchangées, 1 refusées"),
        "{stdout}"
    );
    assert!(stdout.contains("(CLI-2) — intitule-formation"), "{stdout}");
    let again = String::from_utf8_lossy(&run().stdout).into_owned();
    assert!(
        again.starts_with("2 offres : 0 créées, 0 mises à jour, 1 inchangées, 1 refusées"),
        "{again}"
    );

    let hostile = dir.join("hostile.xml");
    std::fs::write(&hostile, r#"<!DOCTYPE l [<!ENTITY a "b">]><lheo/>"#).expect("write");
    let refused = cafeia(&dir)
        .arg("import-lheo")
        .arg(&hostile)
        .output()
        .expect("run");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("DOCTYPE"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_web_renders_the_pages_over_a_running_gateway() {
    let dir = temp_dir();
    let gateway = free_port();
    let (mut up, _) = up(&dir, gateway);

    // Without a session key the app refuses to start, naming the setting.
    let refused = cafeia(&dir)
        .args(["serve", "web"])
        .env("CAFEIA_HTTP__PORT", free_port().to_string())
        .output()
        .expect("serve web");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("web.session_key"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    let port = free_port();
    let mut web = cafeia(&dir)
        .args(["serve", "web"])
        .env("CAFEIA_HTTP__PORT", port.to_string())
        .env("CAFEIA_WEB__SESSION_KEY", "k".repeat(64))
        .env(
            "CAFEIA_WEB__GATEWAY_URL",
            format!("http://127.0.0.1:{gateway}/graphql"),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn serve web");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt");
    let page = rt.block_on(async {
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(answer) = http
                .get(format!("http://127.0.0.1:{port}/?lieu=Lyon"))
                .header("accept", "text/html")
                .send()
                .await
            {
                return answer.text().await.expect("body");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cafeia serve web never answered");
    });
    // The results come from the gateway's search: the app alone holds no data.
    assert!(page.contains("id=\"resultats\""), "{page}");
    assert!(page.contains("autour de Lyon"), "{page}");

    signal(&web, "TERM");
    assert_eq!(wait_exit(&mut web, Duration::from_secs(10)).code(), Some(0));
    signal(&up, "TERM");
    wait_exit(&mut up, Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(dir);
}

//! A real OpenID Connect provider for the sign-in tests: npm `oidc-provider` (a certified
//! implementation), from the small Node project in `tests/oidc-provider`, on a free loopback
//! port, with one client for the web app and the accounts `lea` (citizen), `camille`
//! (facilitator) and `alex` (regional staff).

use crate::TestStack;
use cafeia_gateway::GatewayConfig;
use cafeia_testkit::Backend;
use cafeia_web::config::OidcConfig;
use secrecy::SecretString;
use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

pub const CLIENT_ID: &str = "cafeia-web";
const CLIENT_SECRET: &str = "secret-du-client-cafeia-web-pour-les-tests";
const INSTALL: &str = "npm ci --prefix tests/oidc-provider";

/// A running provider; stopped when dropped.
pub struct Provider {
    process: Child,
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
}

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

/// Installs the provider's locked dependencies when they are missing.
fn install(dir: &Path) {
    if dir
        .join("node_modules/oidc-provider/package.json")
        .is_file()
    {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| {
            panic!(
                "npm does not run ({e}): the sign-in tests need Node.js 20.19+ and npm \
                 (`apt-get install -y nodejs npm`), then `{INSTALL}`"
            )
        });
    assert!(status.success(), "`{INSTALL}` failed ({status})");
}

impl Provider {
    /// Starts the provider for the web app at `public_url` (it sends people back to
    /// `<public_url>/connexion/retour`, and to `<public_url>/` after signing out).
    pub fn start(public_url: &str) -> Self {
        let dir = project();
        install(&dir);
        let mut process = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("REDIRECT_URI", format!("{public_url}/connexion/retour"))
            .env("POST_LOGOUT_REDIRECT_URI", format!("{public_url}/"))
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("node does not start ({e}): install Node.js 20.19+ and run `{INSTALL}`")
            });
        let stdout = process.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads the announcement, then drains whatever else the provider prints.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    let _ = tx.send(issuer.trim().to_owned());
                }
            }
        });
        let issuer = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(issuer) => issuer,
            Err(_) => {
                let _ = process.kill();
                panic!(
                    "oidc-provider did not announce its address (its errors are above); \
                     check `node tests/oidc-provider/server.mjs` runs after `{INSTALL}`"
                );
            }
        };
        Self { process, issuer }
    }

    /// Points the API's verifier at this provider's keys and the web app's sign-in at it.
    pub fn configure(&self, config: &mut GatewayConfig, public_url: &str) {
        let auth = &mut config.platform.auth;
        auth.issuer = self.issuer.clone();
        auth.audience = "cafeia".into();
        auth.algorithm = "RS256".into();
        auth.dev_issuer = false;
        auth.public_key_pem = None;
        auth.public_key_file = None;
        auth.jwks_url = Some(format!("{}/jwks", self.issuer));
        config.web.public_url = Some(public_url.to_owned());
        config.web.oidc = Some(OidcConfig {
            issuer: self.issuer.clone(),
            client_id: CLIENT_ID.into(),
            client_secret: Some(SecretString::from(CLIENT_SECRET)),
            scopes: "profile email".into(),
        });
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A whole stack whose people sign in through a fresh provider. The gateway's port is chosen
/// before the provider starts, since the provider must know the exact address it sends people
/// back to.
pub async fn stack_with_provider(backend: Backend) -> (TestStack, Provider) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let public_url = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(&public_url);
    let stack = TestStack::start_with(backend, |config| {
        config.platform.http.port = port;
        provider.configure(config, &public_url);
    })
    .await;
    assert_eq!(
        stack.base, public_url,
        "the gateway listens where the provider sends people back"
    );
    (stack, provider)
}

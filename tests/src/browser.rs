//! A real browser for the web app's tests: Debian's Chromium driven through chromedriver
//! (WebDriver), headless, each browser with its own empty profile. Accessibility is checked
//! with axe-core (vendored in `web/assets/vendor/axe`), WCAG 2.1 A and AA rules.

use fantoccini::{Client, ClientBuilder, Locator, elements::Element, key::Key};
use serde_json::{Value, json};
use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

const INSTALL: &str = "apt-get install -y chromium chromium-driver chromium-l10n";

/// A chromedriver process and the browsers it drives.
pub struct Driver {
    process: Child,
    url: String,
    _profiles: Vec<tempfile_dir::Dir>,
}

mod tempfile_dir {
    /// A directory removed when dropped.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

pub struct Options {
    pub javascript: bool,
    /// Window width in CSS pixels (phone: 390).
    pub width: u32,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            javascript: true,
            width: 1280,
        }
    }
}

impl Driver {
    /// Starts chromedriver; fails naming the install command when Chromium is missing.
    pub async fn start() -> Self {
        // Several TLS providers are linked in; the WebDriver client needs one chosen.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The French resources too: the tests type dates as a person in France does.
        for file in [
            "/usr/bin/chromium",
            "/usr/bin/chromedriver",
            "/usr/lib/chromium/locales/fr.pak",
        ] {
            assert!(
                std::path::Path::new(file).exists(),
                "{file} is missing: the browser tests need Debian's Chromium in French (`{INSTALL}`)"
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let process = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            // French date and time fields need Debian's `chromium-l10n` (Chromium's French
            // resources); without them Chromium falls back to en-US whatever it is asked.
            .env("LANGUAGE", "fr")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("chromedriver does not start ({e}); install it with `{INSTALL}`")
            });
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if reqwest::get(format!("{url}/status")).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self {
            process,
            url,
            _profiles: Vec::new(),
        }
    }

    /// A new headless browser with an empty profile.
    pub async fn browser(&mut self, options: Options) -> Client {
        let profile =
            std::env::temp_dir().join(format!("cafeia-chromium-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&profile).expect("profile dir");
        // French, as the people the app is for: dates typed day first, a 24-hour clock.
        let mut prefs = json!({ "intl.accept_languages": "fr-FR,fr" });
        if !options.javascript {
            prefs["profile.managed_default_content_settings.javascript"] = json!(2);
        }
        let chrome = json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--lang=fr-FR",
                format!("--window-size={},900", options.width),
                format!("--user-data-dir={}", profile.display()),
            ],
            "prefs": prefs,
        });
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), chrome);
        caps.insert("acceptInsecureCerts".into(), json!(true));
        self._profiles.push(tempfile_dir::Dir(profile));
        ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps)
            .connect(&self.url)
            .await
            .unwrap_or_else(|e| {
                panic!("Chromium does not start through chromedriver: {e} (`{INSTALL}`)")
            })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// axe-core's violations of WCAG 2.1 A/AA on the current page, as "rule: target" lines.
pub async fn axe_violations(client: &Client) -> Vec<String> {
    let axe = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../web/assets/vendor/axe/axe.min.js"
    ))
    .expect("web/assets/vendor/axe/axe.min.js (scripts/vendor-dsfr)");
    // Injected as the page's own script would be blocked by its CSP: run in the driver's context.
    client.execute(&axe, vec![]).await.expect("axe loads");
    let result = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                  .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                  .catch(e => done(['axe failed: ' + e]));"#,
            vec![],
        )
        .await
        .expect("axe runs");
    result
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Asserts the current page has no axe violation, naming the page.
pub async fn assert_accessible(client: &Client, page: &str) {
    let violations = axe_violations(client).await;
    assert!(
        violations.is_empty(),
        "{page}: axe violations {violations:#?}"
    );
}

/// Presses Tab until the focused element matches `css` (at most `limit` times): reaching it
/// with the keyboard alone. Panics naming the element when it cannot be reached.
///
/// Each round trip to the browser costs tens of milliseconds and the browser tests press Tab
/// thousands of times, so the presses go in batches: the page counts the tab stops between
/// the focused element and the first match after it, and that many Tabs are sent at once.
/// The count is a lower bound (what it cannot be sure of, such as a frame or a page without
/// a focused element yet, counts one press), and whether the focus landed on the element is
/// asked of the browser after each batch.
pub async fn tab_to(client: &Client, css: &str, limit: usize) {
    let mut pressed = 0;
    loop {
        let stops = client
            .execute(TAB_STOPS_TO, vec![json!(css)])
            .await
            .expect("script runs")
            .as_u64()
            .unwrap_or(1) as usize;
        if stops == 0 {
            return;
        }
        if pressed == limit {
            panic!("{css} cannot be reached with Tab in {limit} presses");
        }
        let batch = stops.min(limit - pressed);
        client
            .active_element()
            .await
            .expect("focus")
            .send_keys(&Key::Tab.to_string().repeat(batch))
            .await
            .expect("Tab");
        pressed += batch;
    }
}

/// How many Tab presses at least separate the focused element from the next element matching
/// `arguments[0]` (0: the focused element matches). Tab stops in document order (the app
/// gives no positive `tabindex`; with one, it says 1), one per named radio group, skipping what
/// is disabled, inert, hidden or not rendered. Stops it does not know (a scrolling region, a frame's
/// content, a date field's parts) only make it say fewer.
const TAB_STOPS_TO: &str = r#"
const css = arguments[0];
const active = document.activeElement;
if (active && active.matches(css)) return 0;
if (!active || active === document.body || active === document.documentElement
    || active.tagName === 'IFRAME') return 1;
const all = document.querySelectorAll(
  'a[href], area[href], button, input, select, textarea, iframe, summary, [tabindex], [contenteditable]');
const stops = [];
const radioGroups = new Set();
for (const e of all) {
  if (e.tabIndex > 0) return 1;
  if (e.tabIndex < 0 || e.matches(':disabled') || e.closest('[inert]')) continue;
  if (e.tagName === 'INPUT' && e.type === 'hidden') continue;
  // Not rendered, hidden, or in a closed <details> / content-visibility:hidden part.
  if (!e.checkVisibility({ visibilityProperty: true })) continue;
  if (e.tagName === 'INPUT' && e.type === 'radio') {
    // A radio without a name: whether the browser groups those is not ours to guess.
    if (!e.name) continue;
    const group = Array.from(document.getElementsByName(e.name))
      .filter(r => r.type === 'radio' && r.form === e.form);
    const stop = group.find(r => r.checked) || group[0];
    if (e !== stop || radioGroups.has(group[0])) continue;
    radioGroups.add(group[0]);
  }
  stops.push(e);
}
const from = stops.indexOf(active);
if (from < 0) return 1;
for (let i = from + 1; i < stops.length; i++) {
  if (stops[i].tagName === 'IFRAME') return i - from;
  if (stops[i].matches(css)) return i - from;
}
return 1;
"#;

/// Types into the focused element.
pub async fn type_text(client: &Client, text: &str) {
    client
        .active_element()
        .await
        .expect("focus")
        .send_keys(text)
        .await
        .expect("typing");
}

pub async fn press(client: &Client, key: Key) {
    client
        .active_element()
        .await
        .expect("focus")
        .send_keys(&key.to_string())
        .await
        .expect("key");
}

pub async fn text_of(client: &Client, css: &str) -> String {
    // A page still arriving (a redirect, a form's answer) can be without the element yet, or
    // replace it between finding and reading it: look again on the new page (10 s at most).
    for _ in 0..100 {
        match client.find(Locator::Css(css)).await {
            Ok(element) => match element.text().await {
                Ok(text) => return text,
                Err(e) if e.is_stale_element_reference() => {}
                Err(e) => panic!("{css}: text: {e}"),
            },
            Err(e) if e.is_no_such_element() => {}
            Err(e) => panic!("{css}: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{css}: no such element, or it kept being replaced, for 10 s")
}

/// Waits (at most 40 s: a loaded CI machine) for the page to show an element matching `css`.
pub async fn wait_for(client: &Client, css: &str) {
    client
        .wait()
        .at_most(Duration::from_secs(40))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css} never appeared: {e}"));
}

/// The seat count a session page shows (its `data-seats`), as the live script updates it.
pub async fn seats(client: &Client) -> Option<i64> {
    let value = client
        .execute(
            "return document.querySelector('[data-seats]').dataset.seats;",
            vec![],
        )
        .await
        .expect("script");
    value.as_str().and_then(|s| s.parse().ok())
}

pub async fn wait_seats(client: &Client, wanted: i64) {
    for _ in 0..150 {
        if seats(client).await == Some(wanted) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the seat count never became {wanted} (it is {:?})",
        seats(client).await
    );
}

/// The link of the newest mail to `to` that contains `marker`, as a path of the app.
pub async fn mailed_link(mail_dir: &Path, to: &str, marker: &str) -> String {
    for _ in 0..150 {
        if let Ok(entries) = std::fs::read_dir(mail_dir) {
            for entry in entries.flatten() {
                let bytes = std::fs::read(entry.path()).unwrap_or_default();
                let Some(message) = mail_parser::MessageParser::default().parse(&bytes) else {
                    continue;
                };
                let addressed = message
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .is_some_and(|a| a == to);
                let text = message.body_text(0).unwrap_or_default().to_string();
                if addressed && let Some(at) = text.find(marker) {
                    let link: String = text[at..]
                        .chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect();
                    return link;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "no mail to {to} with a link containing {marker} in {}",
        mail_dir.display()
    );
}

/// Opens, on the test's stack, the path of `link` from `path` on (mails and pages give links
/// with the configured public address).
pub async fn open_here(client: &Client, base: &str, link: &str, path: &str) {
    let at = link
        .find(path)
        .unwrap_or_else(|| panic!("{link} has no {path}"));
    client
        .goto(&format!("{base}{}", &link[at..]))
        .await
        .unwrap_or_else(|e| panic!("{link}: {e}"));
}

/// Signs in on the development page as demo person `person` (`citoyenne`, `animatrice`…),
/// keyboard only: the people are one radio group, the arrow keys move along it. Lands on
/// `back`.
pub async fn sign_in_by_keyboard(client: &Client, base: &str, person: &str, back: &str) {
    client
        .goto(&format!("{base}/connexion?retour={back}"))
        .await
        .expect("sign-in page");
    tab_to(client, "input[name=personne]:checked", 40).await;
    let wanted = format!("personne-{person}");
    for _ in 0..10 {
        let checked = client
            .execute(
                "return document.querySelector('input[name=personne]:checked').id;",
                vec![],
            )
            .await
            .expect("script");
        if checked.as_str() == Some(wanted.as_str()) {
            tab_to(client, "main form button[type=submit]", 20).await;
            let form = sign_in_form(client).await;
            press(client, Key::Enter).await;
            wait_until_replaced(client, form).await;
            wait_for(client, "#contenu h1").await;
            return;
        }
        press(client, Key::Down).await;
    }
    panic!("the arrow keys never reached {wanted}");
}

/// The same sign-in by clicks (a browser with scripts off, or a screenshot run).
pub async fn sign_in_by_click(client: &Client, base: &str, person: &str, back: &str) {
    client
        .goto(&format!("{base}/connexion?retour={back}"))
        .await
        .expect("sign-in page");
    let form = sign_in_form(client).await;
    for css in [
        format!("label[for=personne-{person}]"),
        "main form button[type=submit]".to_owned(),
    ] {
        client
            .find(Locator::Css(&css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }
    wait_until_replaced(client, form).await;
    wait_for(client, "#contenu h1").await;
}

async fn sign_in_form(client: &Client) -> Element {
    client
        .find(Locator::Css("main form"))
        .await
        .expect("the sign-in form")
}

/// Waits (at most 40 s) until `element` is gone from the document: a key or a click that
/// submits a form returns before the browser leaves the page, whose own `h1` would otherwise
/// pass for the next page's.
pub async fn wait_until_replaced(client: &Client, element: Element) {
    for _ in 0..400 {
        match element.tag_name().await {
            Err(e) if e.is_stale_element_reference() || e.is_no_such_element() => return,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let url = client.current_url().await.map(|u| u.to_string());
    panic!("the page was never left: still at {url:?} after 40 s");
}

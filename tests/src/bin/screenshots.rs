//! Screenshots of the web app's main pages at phone and desktop widths, on the embedded stack
//! with its demo data, into `docs/screenshots/` (referenced from the README):
//!
//! ```sh
//! cargo run -p cafeia-e2e --bin screenshots
//! ```

use cafeia_e2e::{
    TestStack,
    browser::{Driver, Options, sign_in_by_click},
};
use cafeia_testkit::Backend;
use fantoccini::Client;
use std::path::PathBuf;

const WIDTHS: [(&str, u32); 2] = [("telephone", 390), ("ordinateur", 1280)];

async fn shoot(client: &Client, dir: &std::path::Path, name: &str, width: &str) {
    // Let fonts and icons arrive before the picture.
    client
        .execute_async(
            "const done = arguments[0]; document.fonts.ready.then(() => setTimeout(done, 300));",
            vec![],
        )
        .await
        .ok();
    let png = client.screenshot().await.expect("screenshot");
    let path = dir.join(format!("{name}-{width}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("{}", path.display());
}

#[tokio::main]
async fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
    std::fs::create_dir_all(&dir).expect("docs/screenshots");
    let stack = TestStack::start(Backend::Embedded).await;
    let session = stack
        .first_session("commune: \"69123\", radiusKm: 30, kind: SESSION")
        .await;
    let public = [
        ("accueil", "/".to_owned()),
        ("resultats", "/?lieu=Lyon".to_owned()),
        ("session", format!("/sessions/{session}")),
        (
            "pour-vous",
            "/pour-vous?lieu=Lyon&rayon=20&interets=what_is_ai".to_owned(),
        ),
        ("formations", "/formations".to_owned()),
    ];
    let facilitator = [
        ("espace-animateur", "/animateur"),
        ("mes-sessions", "/animateur/sessions"),
        ("mes-lieux", "/animateur/lieux"),
    ];
    let mut driver = Driver::start().await;
    for (width_name, width) in WIDTHS {
        let client = driver
            .browser(Options {
                javascript: true,
                width,
            })
            .await;
        for (name, path) in &public {
            client
                .goto(&format!("{}{path}", stack.base))
                .await
                .expect("page");
            shoot(&client, &dir, name, width_name).await;
        }
        // Camille, the demo's verified facilitator, through the development sign-in.
        sign_in_by_click(&client, &stack.base, "animatrice", "/animateur").await;
        for (name, path) in facilitator {
            client
                .goto(&format!("{}{path}", stack.base))
                .await
                .expect("page");
            shoot(&client, &dir, name, width_name).await;
        }
        client.close().await.ok();
    }
    stack.stop().await;
}

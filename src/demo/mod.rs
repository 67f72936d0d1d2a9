//! `keyfob demo` (and `keyfob` with no arguments, so `cargo run --release` still works):
//! serve the demo chat in `www/` and a built-in OpenAI-compatible demo model, both on
//! 127.0.0.1. `build.rs` has already built the extension into `dist/extension/`.

mod http;
mod model;

use crate::error::KeyfobError;
use std::net::TcpListener;
use std::path::PathBuf;

const DEFAULT_PORT: u16 = 8787;

/// Binds the demo's port and serves until the process is stopped.
pub fn run(port: Option<u16>, json: bool) -> Result<(), KeyfobError> {
    let port = match port {
        Some(port) => port,
        None => match std::env::var("KEYFOB_DEMO_PORT") {
            Ok(text) => text.parse().map_err(|_| {
                KeyfobError::Usage(format!("KEYFOB_DEMO_PORT is not a port number: {text:?}"))
            })?,
            Err(_) => DEFAULT_PORT,
        },
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let listener =
        TcpListener::bind(("127.0.0.1", port)).map_err(|source| KeyfobError::Listen {
            addr: format!("127.0.0.1:{port} (try --port N)"),
            source,
        })?;
    let extension = root.join("dist/extension");
    if json {
        let ready = serde_json::json!({
            "demo": format!("http://127.0.0.1:{port}/"),
            "modelBaseUrl": format!("http://127.0.0.1:{port}/v1"),
            "extension": extension.display().to_string(),
        });
        println!("{ready}");
    } else {
        eprintln!("Keyfob demo");
        eprintln!("  1. Extension built at {}", extension.display());
        eprintln!(
            "     Chrome → chrome://extensions → Developer mode → Load unpacked → pick that folder."
        );
        eprintln!("  2. In the Keyfob popup, create a wallet and add a key:");
        eprintln!("       provider  OpenAI-compatible (local)");
        eprintln!("       base URL  http://127.0.0.1:{port}/v1");
        eprintln!("       key       any text, e.g. demo-key");
        eprintln!("  3. Open http://127.0.0.1:{port}/ and chat. (Ctrl-C stops the demo.)");
    }
    if !root.join("www/vendor/openai.js").exists() {
        eprintln!(
            "  note: www/vendor/openai.js is missing; run scripts/demo.sh to bundle the SDK."
        );
    }
    http::serve(listener, root.join("www"));
    Ok(())
}

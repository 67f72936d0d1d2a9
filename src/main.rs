//! `cargo run --release`: build the extension (build.rs does that) and serve the demo:
//! the chat app in `www/` and a built-in OpenAI-compatible demo model, both on 127.0.0.1.

mod demo_model;
mod http;

use std::net::TcpListener;
use std::path::PathBuf;

const DEFAULT_PORT: u16 = 8787;

fn main() {
    let port = std::env::args()
        .skip_while(|a| a != "--port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .or_else(|| {
            std::env::var("KEYFOB_DEMO_PORT")
                .ok()
                .and_then(|p| p.parse().ok())
        })
        .unwrap_or(DEFAULT_PORT);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let listener = match TcpListener::bind(("127.0.0.1", port)) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {e} (try --port N)");
            std::process::exit(1);
        }
    };
    let extension = root.join("dist/extension");
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
    if !root.join("www/vendor/openai.js").exists() {
        eprintln!(
            "  note: www/vendor/openai.js is missing; run scripts/demo.sh to bundle the SDK."
        );
    }
    http::serve(listener, root.join("www"));
}

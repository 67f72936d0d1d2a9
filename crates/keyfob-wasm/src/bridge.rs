//! The local bridge's port: native messaging to the `keyfob` host, which serves local
//! agents and CLIs on 127.0.0.1 (protocol: `docs/bridge.md`).
//!
//! Provider calls (`req`, `body`, `end`, `abort`) go through the same exchange code as a
//! page's, with the caller found by the wallet from the client token in each request's
//! headers. Commands (`cmd`: login, status, clients, logout) are decided by the wallet
//! (`Wallet::bridge_command`);
//! the glue only opens the approval window and waits. The host is trusted with nothing:
//! it never sees a key, and every token is checked here.

use std::cell::RefCell;

use keyfob_core::secret::ExposeSecret;
use keyfob_core::wallet::clients::{BridgeArgs, BridgeStep};
use keyfob_core::wallet::Record;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::chrome::{self, clock, now_ms, Port};
use crate::control;
use crate::engine::{self, with};
use crate::error::{EngineError, EngineResult};
use crate::proxy::RequestPort;

#[wasm_bindgen]
extern "C" {
    /// background.js: `chrome.runtime.connectNative` wired like a page's port.
    #[wasm_bindgen(js_namespace = keyfobBridge, js_name = connect)]
    fn connect_native();
    #[wasm_bindgen(js_namespace = keyfobBridge, js_name = disconnect)]
    fn disconnect_native();
}

/// What the popup shows of the bridge.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeState {
    /// The native port is open.
    pub connected: bool,
    /// Where the host listens, once it said so.
    pub listening: Option<String>,
    /// Why the bridge last stopped or failed (host not installed, port in use, …).
    pub error: Option<String>,
    /// The user started it from the popup (it then runs without any client).
    pub started_by_user: bool,
}

thread_local! {
    static STATE: RefCell<BridgeState> = RefCell::new(BridgeState::default());
    static PORT: RefCell<Option<Port>> = const { RefCell::new(None) };
}

pub fn state() -> BridgeState {
    STATE.with(|s| s.borrow().clone())
}

/// Starts the host unless it runs. `by_user`: the popup asked.
pub fn start(by_user: bool) {
    let running = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.started_by_user |= by_user;
        s.connected
    });
    if !running {
        connect_native();
    }
}

/// Stops the host (it closes its listener and exits).
pub fn stop() {
    if let Some(port) = PORT.with(|p| p.borrow_mut().take()) {
        port.post(&chrome::object(&[("t", "shutdown".into())]));
    }
    disconnect_native();
    STATE.with(|s| {
        *s.borrow_mut() = BridgeState::default();
    });
}

/// Starts the host when a local client is approved (called at every worker start).
pub fn start_if_wanted() {
    if with(|w| Ok(w.wants_bridge(now_ms()))).unwrap_or(false) {
        start(false);
    }
}

/// The host's side closed (`reason`: the browser's `lastError`, e.g. host not found).
pub fn closed(reason: Option<String>) {
    PORT.with(|p| p.borrow_mut().take());
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.connected = false;
        s.listening = None;
        s.error = reason.or(s.error.take());
    });
}

/// The native port's frames.
pub struct BridgePort {
    port: Port,
    requests: RequestPort,
}

#[derive(Deserialize)]
struct CommandFrame {
    id: u32,
    cmd: String,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    args: BridgeArgs,
}

impl BridgePort {
    pub fn open(port: Port) -> Self {
        PORT.with(|p| *p.borrow_mut() = Some(port.clone()));
        STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.connected = true;
            s.error = None;
        });
        Self {
            requests: RequestPort::bridge(port.clone()),
            port,
        }
    }

    pub fn message(&self, message: JsValue) {
        match chrome::string_field(&message, "t").as_deref() {
            Some("hello") => STATE.with(|s| {
                s.borrow_mut().listening = chrome::string_field(&message, "listen");
            }),
            Some("listen_failed") => STATE.with(|s| {
                s.borrow_mut().error = chrome::string_field(&message, "message");
            }),
            Some("cmd") => {
                let Ok(frame) = crate::json::from_js::<CommandFrame>(&message) else {
                    return;
                };
                let port = self.port.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let (status, body) = match command(&frame).await {
                        Ok(body) => (200, body),
                        Err(error) => (error.http_status(), error_body(&error)),
                    };
                    port.post(&chrome::object(&[
                        ("t", "reply".into()),
                        ("id", frame.id.into()),
                        ("status", status.into()),
                        ("body", body),
                    ]));
                });
            }
            _ => self.requests.message(message),
        }
    }

    pub fn disconnected(&self) {
        self.requests.disconnected();
        closed(None);
    }
}

fn error_body(error: &EngineError) -> JsValue {
    js_sys::JSON::parse(&error.to_json_body()).unwrap_or(JsValue::NULL)
}

async fn command(frame: &CommandFrame) -> EngineResult<JsValue> {
    engine::ready().await?;
    let step =
        with(|w| w.bridge_command(&frame.cmd, frame.token.as_deref(), &frame.args, &clock()))?;
    match step {
        BridgeStep::Answer {
            json,
            stored_grants,
        } => {
            if stored_grants {
                engine::stored(Record::Grants).await?;
            }
            crate::json::to_js(&json)
        }
        BridgeStep::Login { login, name } => {
            // The token leaves only on approve, once the grant holding its verifier is stored.
            let approved = control::ask_user(&login.approval, login.open_window).await?;
            let client = with(|w| w.client_login_decided(&name, approved, &clock()))?;
            engine::stored(Record::Grants).await?;
            // EXPOSE: the new client's token, shown to it once (the wallet keeps a verifier).
            let token = login.token.expose_secret();
            crate::json::to_js(&serde_json::json!({ "token": token, "client": client }))
        }
    }
}

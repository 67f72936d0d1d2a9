//! The control port: one per page frame (`keyfob.control`). It carries `connect`,
//! `reconnect`, `disconnect` and `usage`, and brings back events for that frame's
//! caller only. The caller is always the port sender's, never a value from a message.

use std::cell::{Cell, RefCell};

use keyfob_core::wallet::connect::{ConnectStep, RequestedProvider};
use keyfob_core::wallet::views::Notice;
use keyfob_core::wallet::{Caller, Record};
use keyfob_core::CoreError;
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::chrome::{self, clock, Port};
use crate::engine;
use crate::error::EngineResult;
use crate::{waiters, windows};

thread_local! {
    static OPEN: RefCell<Vec<(u32, String, Port)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u32> = const { Cell::new(1) };
}

/// A control frame: `{t, id, ...}`. Every frame with an id gets exactly one reply, so a
/// page promise never hangs, even on a frame this version does not understand.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ControlFrame {
    t: String,
    id: u32,
    #[serde(default)]
    providers: Vec<RequestedProvider>,
    #[serde(default)]
    resume: bool,
}

pub struct ControlPort {
    handle: u32,
    port: Port,
    caller: Result<Caller, CoreError>,
}

impl ControlPort {
    pub fn open(port: Port, caller: Result<Caller, CoreError>) -> Self {
        let handle = NEXT_ID.with(|n| n.replace(n.get().wrapping_add(1)));
        if let Ok(caller) = &caller {
            let key = caller.grant_key().to_string();
            OPEN.with(|o| o.borrow_mut().push((handle, key, port.clone())));
        }
        Self {
            handle,
            port,
            caller,
        }
    }

    pub fn message(&self, message: JsValue) {
        let Ok(frame) = crate::json::from_js::<ControlFrame>(&message) else {
            return; // no id to answer: a malformed frame from a hostile page is dropped
        };
        let port = self.port.clone();
        let caller = self.caller.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = match caller {
                Ok(caller) => run(&caller, frame.t.as_str(), frame.providers, frame.resume).await,
                Err(e) => Err(e.into()),
            };
            let (ok, key, value) = match result {
                Ok(value) => (JsValue::TRUE, "value", value),
                Err(error) => (JsValue::FALSE, "error", error.to_js()),
            };
            port.post(&chrome::object(&[
                ("t", "reply".into()),
                ("id", frame.id.into()),
                ("ok", ok),
                (key, value),
            ]));
        });
    }

    pub fn disconnected(&self) {
        OPEN.with(|o| o.borrow_mut().retain(|(h, _, _)| *h != self.handle));
    }
}

async fn run(
    caller: &Caller,
    call: &str,
    requested: Vec<RequestedProvider>,
    resume: bool,
) -> EngineResult<JsValue> {
    engine::ready().await?;
    match call {
        "connect" => connect(caller, &requested, resume).await,
        "reconnect" => {
            let session = engine::with(|w| Ok(w.reconnect(caller, &clock())))?;
            session.map_or(Ok(JsValue::NULL), |s| crate::json::to_js(&s))
        }
        "disconnect" => {
            if let Some(notice) = engine::with(|w| Ok(w.disconnect(caller, chrome::now_ms())))? {
                engine::stored(Record::Grants).await?;
                notify(&notice)?;
            }
            Ok(JsValue::TRUE)
        }
        "usage" => crate::json::to_js(&engine::with(|w| w.usage_of(caller))?),
        other => Err(CoreError::BadRequest(format!(
            "unknown call {:?}",
            other.chars().take(40).collect::<String>()
        ))
        .into()),
    }
}

async fn connect(
    caller: &Caller,
    requested: &[RequestedProvider],
    resume: bool,
) -> EngineResult<JsValue> {
    let step = engine::with(|w| w.connect(caller, requested, resume, &clock()))?;
    let session = match step {
        ConnectStep::Connected(session) => session,
        ConnectStep::Ask {
            approval,
            open_window,
        } => {
            let approved = ask_user(&approval, open_window).await?;
            engine::with(|w| w.connect_decided(caller, requested, approved, &clock()))?
        }
    };
    crate::json::to_js(&session)
}

/// Opens the approval window (unless it is open already) and waits for the user's
/// decision. A window that cannot open is a rejection.
pub async fn ask_user(approval: &str, open_window: bool) -> EngineResult<bool> {
    if open_window {
        let page = format!("approve/approve.html?id={approval}");
        let window = match windows::open(&page, 640).await {
            Ok(window) => window,
            Err(error) => {
                let _ =
                    engine::with(|w| w.decide_approval(approval, &Default::default(), &clock()));
                return Err(error);
            }
        };
        engine::with(|w| {
            w.approval_window_opened(approval, window, chrome::now_ms());
            Ok(())
        })?;
        refresh_badge();
    }
    Ok(waiters::wait(approval).await)
}

/// Tells a change to a caller's grant to that caller's frames, and no other.
pub fn notify(notice: &Notice) -> EngineResult<()> {
    let (origin, name, detail) = match notice {
        Notice::Disconnected { origin } => (origin, "disconnect", JsValue::NULL),
        Notice::ProvidersUpdated { origin } => {
            let providers = engine::with(|w| Ok(w.availability(origin)))?;
            (origin, "providersUpdated", crate::json::to_js(&providers)?)
        }
    };
    let event = chrome::object(&[
        ("t", "event".into()),
        ("name", name.into()),
        ("detail", detail),
    ]);
    OPEN.with(|o| {
        for (_, port_origin, port) in o.borrow().iter() {
            if port_origin == origin {
                port.post(&event);
            }
        }
    });
    Ok(())
}

/// The badge counts pending approvals.
pub fn refresh_badge() {
    let count = engine::with(|w| Ok(w.pending_approvals().len())).unwrap_or(0);
    wasm_bindgen_futures::spawn_local(windows::set_badge(count));
}

/// The caller of a port: its sender's origin (else its URL's), never a message field.
pub fn sender_caller(port: &Port) -> Result<Caller, CoreError> {
    let sender = port.sender();
    let origin = chrome::string_field(&sender, "origin");
    let url = chrome::string_field(&sender, "url");
    Caller::from_sender(origin.as_deref(), url.as_deref())
}

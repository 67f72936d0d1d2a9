//! The control port: one per page frame (`keyfob.control`). It carries `connect`,
//! `reconnect` and `disconnect`, and brings back events for that frame's origin only.
//! The origin is always the port sender's, never a value from a message.

use crate::approvals::{self, RequestedProvider};
use crate::chrome::{self, now_ms, Port};
use crate::error::EngineResult;
use crate::state;
use keyfob_core::grants::validate_origin;
use keyfob_core::session::derive_session_key;
use keyfob_core::{providers, CoreError};
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use wasm_bindgen::JsValue;

/// Most providers one `connect` may ask for; more is a confused or hostile page.
const MAX_REQUESTED_PROVIDERS: usize = 20;

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
    origin: Result<String, CoreError>,
}

impl ControlPort {
    pub fn open(port: Port, origin: Result<String, CoreError>) -> Self {
        let handle = NEXT_ID.with(|n| {
            let id = n.get();
            n.set(id.wrapping_add(1));
            id
        });
        if let Ok(origin) = &origin {
            OPEN.with(|o| o.borrow_mut().push((handle, origin.clone(), port.clone())));
        }
        Self {
            handle,
            port,
            origin,
        }
    }

    pub fn message(&self, message: JsValue) {
        let Ok(frame) = crate::json::from_js::<ControlFrame>(&message) else {
            return; // no id to answer: a malformed frame from a hostile page is dropped
        };
        let id = frame.id;
        let work = match frame.t.as_str() {
            "connect" => Work::Connect(frame.providers, frame.resume),
            "reconnect" => Work::Reconnect,
            "disconnect" => Work::Disconnect,
            "usage" => Work::Usage,
            other => Work::Unknown(other.chars().take(40).collect()),
        };
        let port = self.port.clone();
        let origin = self.origin.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let result = match origin {
                Ok(origin) => work.run(&origin).await,
                Err(e) => Err(e.into()),
            };
            let reply = match result {
                Ok(value) => chrome::object(&[
                    ("t", "reply".into()),
                    ("id", id.into()),
                    ("ok", JsValue::TRUE),
                    ("value", value),
                ]),
                Err(error) => chrome::object(&[
                    ("t", "reply".into()),
                    ("id", id.into()),
                    ("ok", JsValue::FALSE),
                    ("error", error.to_js()),
                ]),
            };
            port.post(&reply);
        });
    }

    pub fn disconnected(&self) {
        OPEN.with(|o| o.borrow_mut().retain(|(h, _, _)| *h != self.handle));
    }
}

enum Work {
    Connect(Vec<RequestedProvider>, bool),
    Reconnect,
    Disconnect,
    Usage,
    Unknown(String),
}

impl Work {
    async fn run(self, origin: &str) -> EngineResult<JsValue> {
        state::ready().await?;
        match self {
            Work::Connect(requested, resume) => connect(origin, requested, resume).await,
            Work::Reconnect => {
                let live = state::with(|e| Ok(e.grants.is_live(origin, now_ms())))?;
                if live {
                    session(origin)
                } else {
                    Ok(JsValue::NULL)
                }
            }
            Work::Disconnect => {
                let removed = state::with(|e| Ok(e.grants.revoke(origin)))?;
                if removed {
                    state::save_grants().await?;
                    notify_origin(origin, "disconnect", JsValue::NULL);
                }
                Ok(JsValue::TRUE)
            }
            Work::Usage => crate::proxy::metering::usage_of(origin),
            Work::Unknown(t) => Err(CoreError::BadRequest(format!("unknown call {t:?}")).into()),
        }
    }
}

async fn connect(
    origin: &str,
    requested: Vec<RequestedProvider>,
    resume: bool,
) -> EngineResult<JsValue> {
    if requested.is_empty() || requested.len() > MAX_REQUESTED_PROVIDERS {
        return Err(CoreError::BadRequest("ask for between 1 and 20 providers".into()).into());
    }
    for p in &requested {
        providers::find(&p.id)?;
    }
    let covered = |requested: &[RequestedProvider]| {
        state::with(|e| {
            let now = now_ms();
            Ok(e.grants.is_live(origin, now)
                && requested
                    .iter()
                    .filter(|p| p.required)
                    .all(|p| e.grants.check(origin, &p.id, now).is_ok()))
        })
    };
    if !covered(&requested)? {
        let approved = approvals::ask(origin, requested.clone(), resume).await?;
        if !approved || !covered(&requested)? {
            return Err(CoreError::UserRejected.into());
        }
    }
    // A required provider the user has no key for fails the connect (the grant stays).
    let missing = state::with(|e| {
        Ok(e.unlocked.as_ref().and_then(|u| {
            requested
                .iter()
                .find(|p| p.required && u.vault.credential_for_provider(&p.id).is_none())
                .map(|p| p.id.clone())
        }))
    })?;
    if let Some(provider) = missing {
        return Err(CoreError::ProviderKeyMissing(provider).into());
    }
    session(origin)
}

/// `{sessionKey, origin, providers: {id: {available}}}` for a live grant.
fn session(origin: &str) -> EngineResult<JsValue> {
    let key = state::with(|e| {
        let grant = e.grants.get(origin).ok_or(CoreError::OriginNotApproved)?;
        Ok(derive_session_key(&e.session_secret, origin, &grant.nonce))
    })?;
    Ok(chrome::object(&[
        ("sessionKey", key.into()),
        ("origin", origin.into()),
        ("providers", providers_status(origin)?),
    ]))
}

/// `{id: {available}}`: granted, and (when the wallet is unlocked) a key is stored.
pub fn providers_status(origin: &str) -> EngineResult<JsValue> {
    let pairs: Vec<(String, bool)> = state::with(|e| {
        let Some(grant) = e.grants.get(origin) else {
            return Ok(Vec::new());
        };
        Ok(grant
            .providers
            .iter()
            .map(|id| {
                let has_key = e
                    .unlocked
                    .as_ref()
                    .is_none_or(|u| u.vault.credential_for_provider(id).is_some());
                (id.clone(), has_key)
            })
            .collect())
    })?;
    let map = js_sys::Object::new();
    for (id, available) in pairs {
        let entry = chrome::object(&[("available", JsValue::from_bool(available))]);
        let _ = js_sys::Reflect::set(&map, &id.into(), &entry);
    }
    Ok(map.into())
}

/// Sends an event to the frames of one origin, and no other.
pub fn notify_origin(origin: &str, name: &str, detail: JsValue) {
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
}

/// The origin of a port's sender: `sender.origin`, else derived from `sender.url`.
/// Opaque origins and anything but http(s) are refused.
pub fn sender_origin(port: &Port) -> Result<String, CoreError> {
    let sender = port.sender();
    let raw = chrome::string_field(&sender, "origin").or_else(|| {
        chrome::string_field(&sender, "url").and_then(|u| {
            let parsed = url::Url::parse(&u).ok()?;
            Some(parsed.origin().ascii_serialization())
        })
    });
    match raw {
        Some(origin) => validate_origin(&origin),
        None => Err(CoreError::OriginNotApproved),
    }
}

//! The request port (`keyfob.request`): one port per proxied request.
//!
//! Frames in:  `{t:'req', provider, method, url, headers:[[k,v]], hasBody}`,
//!             then `{t:'body', b:<base64>}`*, `{t:'end'}`; `{t:'ping'}` keeps a long stream's
//!             worker awake. Closing the port aborts the upstream request.
//! Frames out: `{t:'head', status, statusText, headers}`, `{t:'data', b}`*, `{t:'end'}`;
//!             or `{t:'error', status, body}` for a wallet error before any upstream byte;
//!             or `{t:'fail', code, message}` when the upstream stream breaks midway.
//!
//! Bytes never enter WASM memory: chunks stay JS `Uint8Array`s and are base64-coded
//! natively (`toBase64`/`fromBase64`), because extension ports only carry JSON.

use crate::chrome::{self, now_ms, Deferred, Port};
use crate::error::{EngineError, EngineResult};
use crate::state;
use js_sys::{Array, Reflect, Uint8Array};
use keyfob_core::request::{plan, PageRequest};
use keyfob_core::session::{session_key_from_headers, verify_session_key};
use keyfob_core::{providers, CoreError};
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response};

/// How long the provider may take to answer with headers (non-streaming calls of long
/// generations take minutes; the SDKs' own default timeout is 10 minutes).
const UPSTREAM_HEADERS_TIMEOUT_MS: u32 = 600_000;
/// Most body frames a request may send (512 KiB each → 2 GiB); more is abuse.
const MAX_BODY_FRAMES: usize = 4096;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Uint8Array, js_name = fromBase64, catch)]
    fn bytes_from_base64(text: &JsValue) -> Result<Uint8Array, JsValue>;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestHead {
    provider: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    /// The session key the shim bound to this `createFetch`; the SDK's auth header
    /// (which carries the same key) is the fallback.
    #[serde(default)]
    session_key: String,
    #[serde(default)]
    has_body: bool,
}

pub struct RequestPort {
    shared: Rc<Shared>,
}

struct Shared {
    port: Port,
    origin: Result<String, CoreError>,
    started: Cell<bool>,
    closed: Cell<bool>,
    body: RefCell<Vec<JsValue>>,
    body_done: Deferred,
    abort: Option<AbortController>,
}

impl RequestPort {
    pub fn open(port: Port, origin: Result<String, CoreError>) -> Self {
        Self {
            shared: Rc::new(Shared {
                port,
                origin,
                started: Cell::new(false),
                closed: Cell::new(false),
                body: RefCell::new(Vec::new()),
                body_done: Deferred::new(),
                abort: AbortController::new().ok(),
            }),
        }
    }

    pub fn message(&self, message: JsValue) {
        let shared = &self.shared;
        match chrome::string_field(&message, "t").as_deref() {
            Some("req") if !shared.started.get() => {
                shared.started.set(true);
                let head = serde_wasm_bindgen::from_value::<RequestHead>(message);
                let shared = Rc::clone(shared);
                wasm_bindgen_futures::spawn_local(async move {
                    match head {
                        Ok(head) => run(&shared, head).await,
                        Err(e) => send_error(&shared, &EngineError::from(e)),
                    }
                });
            }
            Some("body") if !shared.closed.get() => {
                let mut body = shared.body.borrow_mut();
                if body.len() < MAX_BODY_FRAMES {
                    body.push(chrome::field(&message, "b"));
                } else {
                    // Refuse once and stop: a truncated body must never go upstream.
                    body.clear();
                    drop(body);
                    let error = CoreError::BadRequest("request body too large".into());
                    send_error(shared, &error.into());
                    self.disconnected();
                    shared.port.close();
                }
            }
            Some("end") => shared.body_done.resolve(&JsValue::TRUE),
            _ => {} // pings and malformed frames
        }
    }

    /// The page aborted, or its tab went away: abort the upstream fetch.
    pub fn disconnected(&self) {
        self.shared.closed.set(true);
        self.shared.body_done.resolve(&JsValue::FALSE);
        if let Some(abort) = &self.shared.abort {
            abort.abort();
        }
    }
}

async fn run(shared: &Shared, head: RequestHead) {
    let result = async {
        let (url, init) = authorise(shared, &head).await?;
        if head.has_body {
            let complete = JsFuture::from(shared.body_done.promise.clone()).await?;
            if complete.as_bool() != Some(true) {
                return Ok(()); // the page went away before sending its whole body
            }
            init.set_body(&assemble_body(&shared.body.borrow())?);
        }
        forward(shared, &url, &init).await
    }
    .await;
    if let Err(error) = result {
        send_error(shared, &error);
    }
}

/// Every check happens here, before any byte goes upstream: origin, grant, session
/// key, URL and headers, lock state, key presence. The key is added last.
async fn authorise(shared: &Shared, head: &RequestHead) -> EngineResult<(String, RequestInit)> {
    let origin = shared.origin.clone()?;
    state::ready().await?;
    state::enforce_auto_lock().await?;
    let provider = providers::find(&head.provider)?;
    let now = now_ms();
    let (url, headers) = state::with(|e| {
        let presented = Some(head.session_key.as_str())
            .filter(|k| !k.is_empty())
            .or_else(|| session_key_from_headers(&head.headers));
        let grant = match (e.grants.check(&origin, provider.id, now), presented) {
            (Ok(grant), _) => grant,
            // A stale session (revoked or expired grant) is SESSION_INVALID, so the app knows to reconnect.
            (Err(CoreError::OriginNotApproved), Some(_)) => {
                return Err(CoreError::SessionInvalid.into())
            }
            (Err(other), _) => return Err(other.into()),
        };
        verify_session_key(
            &e.session_secret,
            &origin,
            &grant.nonce,
            presented.unwrap_or(""),
        )?;
        let unlocked = e.unlocked_mut()?;
        let credential = unlocked
            .vault
            .credential_for_provider(provider.id)
            .ok_or_else(|| CoreError::ProviderKeyMissing(provider.id.to_string()))?;
        let page = PageRequest {
            method: &head.method,
            url: &head.url,
            headers: &head.headers,
        };
        let planned = plan(provider, credential.base_url(), &page)?;
        let url = planned.url.clone();
        let headers = planned.into_headers_with_key(credential.secret());
        let id = credential.id().to_string();
        unlocked.vault.mark_used(&id, now);
        Ok((url, headers))
    })?;
    state::touch().await?;

    let out = Headers::new()?;
    for (name, value) in &headers {
        out.append(name, value)?;
    }
    let init = RequestInit::new();
    init.set_method(&head.method.to_ascii_uppercase());
    init.set_headers(&out);
    init.set_redirect(web_sys::RequestRedirect::Error);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
    if let Some(abort) = &shared.abort {
        init.set_signal(Some(&abort.signal()));
    }
    Ok((url, init))
}

fn assemble_body(frames: &[JsValue]) -> EngineResult<JsValue> {
    let parts = Array::new();
    for frame in frames {
        let bytes = bytes_from_base64(frame)
            .map_err(|_| CoreError::BadRequest("request body frame is not base64".into()))?;
        parts.push(&bytes);
    }
    Ok(web_sys::Blob::new_with_u8_array_sequence(&parts)?.into())
}

async fn forward(shared: &Shared, url: &str, init: &RequestInit) -> EngineResult<()> {
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let fetching = JsFuture::from(global.fetch_with_str_and_init(url, init));
    let response = race_timeout(shared, fetching).await?;
    let response: Response = response.dyn_into()?;
    shared.port.post(&head_frame(&response)?);

    let Some(body) = response.body() else {
        shared.port.post(&chrome::object(&[("t", "end".into())]));
        return Ok(());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    loop {
        let step = match JsFuture::from(reader.read()).await {
            Ok(step) => step,
            Err(_) if shared.closed.get() => return Ok(()),
            Err(e) => {
                let failure = EngineError::Core(CoreError::UpstreamUnreachable(
                    EngineError::from(e).to_string(),
                ));
                shared.port.post(&chrome::object(&[
                    ("t", "fail".into()),
                    ("code", failure.code().into()),
                    ("message", failure.to_string().into()),
                ]));
                return Ok(());
            }
        };
        if Reflect::get(&step, &"done".into())?.is_truthy() {
            break;
        }
        let chunk: Uint8Array = Reflect::get(&step, &"value".into())?.unchecked_into();
        let frame = chrome::object(&[("t", "data".into()), ("b", chunk.to_base64().into())]);
        if !shared.port.post(&frame) {
            let _ = reader.cancel();
            return Ok(());
        }
    }
    shared.port.post(&chrome::object(&[("t", "end".into())]));
    Ok(())
}

/// Waits for the response headers, or fails with UPSTREAM_TIMEOUT / UPSTREAM_UNREACHABLE.
/// The timer covers the headers only: a long stream after them is never cut short.
async fn race_timeout(shared: &Shared, fetching: JsFuture) -> EngineResult<JsValue> {
    let timed_out = Rc::new(Cell::new(false));
    let flag = Rc::clone(&timed_out);
    let abort = shared.abort.clone();
    let on_timeout = Closure::once(move || {
        flag.set(true);
        if let Some(abort) = abort {
            abort.abort();
        }
    });
    let timer = chrome::set_timeout(
        on_timeout.as_ref().unchecked_ref(),
        UPSTREAM_HEADERS_TIMEOUT_MS,
    );
    let result = fetching.await;
    chrome::clear_timeout(timer);
    drop(on_timeout);
    match result {
        Ok(response) => Ok(response),
        Err(_) if timed_out.get() => Err(CoreError::UpstreamTimeout.into()),
        Err(e) => Err(CoreError::UpstreamUnreachable(format!(
            "{} (Keyfob also refuses provider redirects)",
            EngineError::from(e)
        ))
        .into()),
    }
}

/// Response headers the page must not get: `content-encoding`/`content-length` describe
/// the wire form the browser already decoded (they would lie about the body we pass
/// on), and hop-by-hop headers belong to the worker's connection, not the page's.
const DROPPED_RESPONSE_HEADERS: &[&str] = &[
    "content-encoding",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "set-cookie",
];

/// Status, status text and headers.
fn head_frame(response: &Response) -> EngineResult<JsValue> {
    let headers = Array::new();
    let entries = js_sys::try_iter(&response.headers())?
        .ok_or_else(|| CoreError::Internal("headers are not iterable".into()))?;
    for entry in entries {
        let pair: Array = entry?.unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        if DROPPED_RESPONSE_HEADERS.contains(&name.as_str()) {
            continue;
        }
        headers.push(&pair);
    }
    Ok(chrome::object(&[
        ("t", "head".into()),
        ("status", response.status().into()),
        ("statusText", response.status_text().into()),
        ("headers", headers.into()),
    ]))
}

fn send_error(shared: &Shared, error: &EngineError) {
    if shared.closed.get() {
        return;
    }
    shared.port.post(&chrome::object(&[
        ("t", "error".into()),
        ("status", error.http_status().into()),
        ("body", error.to_json_body().into()),
    ]));
}

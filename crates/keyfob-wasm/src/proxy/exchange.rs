//! One proxied request ("exchange") on a frame's request port: its checks, its body,
//! its upstream fetch. Every frame it sends carries its id.

use super::{metering, stream};
use crate::chrome::{self, now_ms, Deferred, Port};
use crate::error::{EngineError, EngineResult};
use crate::state;
use js_sys::Uint8Array;
use keyfob_core::metering::GrantPolicy;
use keyfob_core::request::{plan, PageRequest};
use keyfob_core::session::session_key_from_headers;
use keyfob_core::{providers, CoreError};
use serde::Deserialize;
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit};

/// How stale a credential's stored "last used" may get before it is written again.
const LAST_USED_RESOLUTION_MS: u64 = 60_000;
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

pub struct Exchange {
    pub id: u32,
    pub port: Port,
    origin: Result<String, CoreError>,
    /// Set once the exchange is over for the page (aborted, refused or port gone).
    pub closed: Cell<bool>,
    body: RefCell<Vec<JsValue>>,
    body_done: Deferred,
    pub abort: Option<AbortController>,
}

impl Exchange {
    pub fn new(id: u32, port: Port, origin: Result<String, CoreError>) -> Self {
        Self {
            id,
            port,
            origin,
            closed: Cell::new(false),
            body: RefCell::new(Vec::new()),
            body_done: Deferred::new(),
            abort: AbortController::new().ok(),
        }
    }

    pub fn body_frame(&self, frame: JsValue) {
        if self.closed.get() {
            return;
        }
        let mut body = self.body.borrow_mut();
        if body.len() < MAX_BODY_FRAMES {
            body.push(frame);
        } else {
            // Refuse once and stop: a truncated body must never go upstream.
            body.clear();
            drop(body);
            self.refuse(&CoreError::BadRequest("request body too large".into()).into());
            self.abort();
        }
    }

    pub fn body_complete(&self) {
        self.body_done.resolve(&JsValue::TRUE);
    }

    /// The page aborted or went away: stop waiting for the body, abort the upstream fetch.
    pub fn abort(&self) {
        self.closed.set(true);
        self.body_done.resolve(&JsValue::FALSE);
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }

    pub async fn run(&self, head: JsValue) {
        let result = async {
            let head: RequestHead = crate::json::from_js(&head)?;
            let pass = authorise(self, &head).await?;
            let mut body = None;
            if head.has_body {
                let complete = JsFuture::from(self.body_done.promise.clone()).await?;
                if complete.as_bool() != Some(true) {
                    return Ok(()); // the page went away before sending its whole body
                }
                body = Some(assemble_body(&self.body.borrow())?);
                self.body.borrow_mut().clear();
            }
            let admitted = metering::admit(metering::Admission {
                origin: &pass.origin,
                provider: pass.provider,
                url: &head.url,
                headers: &head.headers,
                body: body.as_ref(),
                policy: &pass.policy,
            })
            .await;
            let (mut ticket, rewritten) = admitted?;
            if let Some(body) = rewritten.or(body) {
                pass.init.set_body(&body);
            }
            let outcome = stream::forward(self, &pass.url, &pass.init, &mut ticket).await;
            match &outcome {
                Ok(status) => ticket.finish(*status, None),
                Err(error) => ticket.finish(0, Some(error.code())),
            }
            outcome.map(|_| ())
        }
        .await;
        if let Err(error) = result {
            self.refuse(&error);
        }
    }

    /// A wallet-raised error, sent as `{t:'error'}` so the page builds a real `Response`.
    pub fn refuse(&self, error: &EngineError) {
        if self.closed.get() {
            return;
        }
        self.post(&[
            ("t", "error".into()),
            ("status", error.http_status().into()),
            ("body", error.to_json_body().into()),
        ]);
    }

    /// Posts a frame tagged with this exchange's id. False when the port is gone.
    pub fn post(&self, pairs: &[(&str, JsValue)]) -> bool {
        let frame = chrome::object(pairs);
        let _ = js_sys::Reflect::set(&frame, &"id".into(), &JsValue::from(self.id));
        self.port.post(&frame)
    }
}

/// Every check happens here, before any byte goes upstream: origin, grant, session
/// key, URL and headers, lock state, key presence. The key is added last.
/// What passed the checks: where to send, how, and the grant's metering policy.
struct Authorised {
    origin: String,
    provider: &'static str,
    url: String,
    init: RequestInit,
    policy: GrantPolicy,
}

async fn authorise(exchange: &Exchange, head: &RequestHead) -> EngineResult<Authorised> {
    let origin = exchange.origin.clone()?;
    state::ready().await?;
    state::enforce_auto_lock().await?;
    let provider = providers::find(&head.provider)?;
    let now = now_ms();
    let (url, headers, policy, last_used_stale) = state::with(|e| {
        let presented = Some(head.session_key.as_str())
            .filter(|k| !k.is_empty())
            .or_else(|| session_key_from_headers(&head.headers));
        let grant = e
            .grants
            .authorise(&e.session_secret, &origin, provider.id, presented, now)?;
        let policy = grant.policy.clone();
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
        // "Last used" is shown to the minute: store it at most about once a minute.
        let stale = credential
            .last_used_ms()
            .is_none_or(|t| now.saturating_sub(t) >= LAST_USED_RESOLUTION_MS);
        unlocked.vault.mark_used(&id, now);
        Ok((url, headers, policy, stale))
    })?;
    if last_used_stale {
        state::save_vault_soon();
    }
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
    if let Some(abort) = &exchange.abort {
        init.set_signal(Some(&abort.signal()));
    }
    Ok(Authorised {
        origin,
        provider: provider.id,
        url,
        init,
        policy,
    })
}

/// The body frames as one byte array (a `Uint8Array` body reaches the network without
/// the blob registry a `Blob` body would go through).
fn assemble_body(frames: &[JsValue]) -> EngineResult<Uint8Array> {
    let mut parts = Vec::with_capacity(frames.len());
    let mut total = 0u32;
    for frame in frames {
        let bytes = bytes_from_base64(frame)
            .map_err(|_| CoreError::BadRequest("request body frame is not base64".into()))?;
        total = total.saturating_add(bytes.length());
        parts.push(bytes);
    }
    Ok(stream::join_bytes(parts, total))
}

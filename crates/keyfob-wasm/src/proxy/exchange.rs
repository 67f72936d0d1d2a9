//! One proxied request ("exchange") on a frame's request port. The wallet decides every
//! step (`keyfob_core::wallet::request`); this does what it says: collects the body,
//! opens the approval window, sends the exact upstream request, streams the answer.

use std::cell::{Cell, RefCell};

use js_sys::Uint8Array;
use keyfob_core::request::limits::MAX_BODY_FRAMES;
use keyfob_core::wallet::charge::End;
use keyfob_core::wallet::request::{
    ExchangeId, LocalAnswer, RequestHead, Step, Upstream, UpstreamBody,
};
use keyfob_core::wallet::Caller;
use keyfob_core::CoreError;
use wasm_bindgen::prelude::*;
use web_sys::{AbortController, Headers, RequestInit};

use super::stream;
use crate::chrome::{self, clock, Deferred, Port};
use crate::engine::{self, with};
use crate::error::{EngineError, EngineResult};
use crate::{waiters, windows};

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = Uint8Array, js_name = fromBase64, catch)]
    fn bytes_from_base64(text: &JsValue) -> Result<Uint8Array, JsValue>;
}

/// Who an exchange is for.
#[derive(Clone)]
pub enum Who {
    /// The page behind the port (its sender's origin, or why it has none).
    Port(Result<Caller, CoreError>),
    /// A local client through the bridge: the wallet finds it by the token in the
    /// request's headers; the frame names only the provider's path.
    BridgeClient,
}

pub struct Exchange {
    pub id: u32,
    pub port: Port,
    who: Who,
    /// Set once the exchange is over for the page (aborted, refused or port gone).
    pub closed: Cell<bool>,
    body: RefCell<Vec<Uint8Array>>,
    body_bad: Cell<bool>,
    body_done: Deferred,
    pub abort: Option<AbortController>,
    /// The per-request approval it waits for, if any (an abort must wake it).
    approval: RefCell<Option<String>>,
}

impl Exchange {
    pub fn new(id: u32, port: Port, who: Who) -> Self {
        Self {
            id,
            port,
            who,
            closed: Cell::new(false),
            body: RefCell::new(Vec::new()),
            body_bad: Cell::new(false),
            body_done: Deferred::new(),
            abort: AbortController::new().ok(),
            approval: RefCell::new(None),
        }
    }

    /// A base64 body frame; decoded at once (the bytes stay in JS).
    pub fn body_frame(&self, frame: JsValue) {
        if self.closed.get() {
            return;
        }
        let mut body = self.body.borrow_mut();
        let decoded = bytes_from_base64(&frame).ok();
        match decoded {
            Some(bytes) if body.len() < MAX_BODY_FRAMES => body.push(bytes),
            Some(_) => {
                // Refuse once and stop: a truncated body must never go upstream.
                body.clear();
                drop(body);
                self.refuse(&CoreError::BadRequest("request body too large".into()).into());
                self.abort();
            }
            None => self.body_bad.set(true),
        }
    }

    pub fn body_complete(&self) {
        self.body_done.resolve(&JsValue::TRUE);
    }

    /// The page aborted or went away: stop waiting, abort the upstream fetch.
    pub fn abort(&self) {
        self.closed.set(true);
        self.body_done.resolve(&JsValue::FALSE);
        if let Some(approval) = self.approval.borrow().as_deref() {
            waiters::resolve(approval, false);
        }
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }

    pub async fn run(&self, head: JsValue) {
        let mut wallet_id = None;
        let result = self.drive(&head, &mut wallet_id).await;
        // Whatever happened, the wallet hears that the exchange is over (a no-op if it
        // already ended it).
        if let Some(id) = wallet_id {
            let _ = with(|w| {
                w.end_request(id, End::NotSent, &clock());
                Ok(())
            });
        }
        if let Err(error) = result {
            self.refuse(&error);
        }
    }

    async fn drive(&self, frame: &JsValue, wallet_id: &mut Option<ExchangeId>) -> EngineResult<()> {
        let url_field = match self.who {
            Who::Port(_) => "url",
            Who::BridgeClient => "path",
        };
        let head = HeadFrame::read(frame, url_field)?;
        engine::ready().await?;
        let caller = match &self.who {
            Who::Port(caller) => caller.clone()?,
            Who::BridgeClient => with(|w| w.client_caller(&head.headers))?,
        };
        let (id, mut step) = with(|w| Ok(w.begin_request(&caller, &head.as_head(), &clock())))?;
        *wallet_id = Some(id);
        loop {
            step = match step {
                Step::Refuse(error) => return Err(error.into()),
                Step::Answer(answer) => {
                    self.answer(&answer);
                    return Ok(());
                }
                Step::ReadBody => {
                    let complete = chrome::settled(&self.body_done.promise).await;
                    if complete.and_then(|v| v.as_bool()) != Some(true) || self.closed.get() {
                        return Ok(()); // the page went away before sending its whole body
                    }
                    if self.body_bad.get() {
                        return Err(CoreError::BadRequest(
                            "request body frame is not base64".into(),
                        )
                        .into());
                    }
                    self.feed_body(id)?
                }
                Step::Ask {
                    approval,
                    timeout_ms,
                } => self.ask(id, &approval, timeout_ms).await?,
                Step::Send(upstream) => {
                    let (url, init) = self.request_init(upstream)?;
                    let end = stream::forward(self, &url, &init, id).await;
                    with(|w| Ok(w.end_request(id, end, &clock())))?;
                    return Ok(());
                }
            }
        }
    }

    /// Feeds the body to the wallet while it wants bytes, then ends it.
    fn feed_body(&self, id: ExchangeId) -> EngineResult<Step> {
        let body = self.body.borrow();
        let mut total = 0u64;
        for frame in body.iter() {
            total += u64::from(frame.length());
            if with(|w| Ok(w.wants_body(id)))? {
                let bytes = frame.to_vec();
                with(|w| {
                    w.request_body(id, &bytes);
                    Ok(())
                })?;
            }
        }
        with(|w| Ok(w.request_body_end(id, total, &clock())))
    }

    /// Opens the per-request approval window and waits for the answer (or the timeout).
    async fn ask(&self, id: ExchangeId, approval: &str, timeout_ms: u64) -> EngineResult<Step> {
        *self.approval.borrow_mut() = Some(approval.to_string());
        let page = format!("approve/request.html?id={approval}");
        let window = windows::open(&page, 420).await.ok().flatten();
        with(|w| {
            w.request_window_opened(approval, window);
            Ok(())
        })?;
        if !waiters::wait_at_most(approval, timeout_ms).await {
            // A timeout or an abort: the wallet learns it here (a rejection already knew).
            let _ = with(|w| Ok(w.decide_request(approval, false)));
        }
        self.approval.borrow_mut().take();
        if let Some(window) = window {
            windows::close(window).await;
        }
        if self.closed.get() {
            return Ok(Step::Refuse(CoreError::UserRejected));
        }
        with(|w| Ok(w.continue_request(id, &clock())))
    }

    /// The `fetch` options for the wallet's upstream request: its method, headers and
    /// body exactly, `redirect: 'error'`, no cookies, no cache, no referrer.
    fn request_init(&self, upstream: Upstream) -> EngineResult<(String, RequestInit)> {
        let headers = Headers::new()?;
        for (name, value) in &upstream.headers {
            headers.append(name, value)?;
        }
        let init = RequestInit::new();
        init.set_method(upstream.method);
        init.set_headers(&headers);
        init.set_redirect(web_sys::RequestRedirect::Error);
        init.set_credentials(web_sys::RequestCredentials::Omit);
        init.set_cache(web_sys::RequestCache::NoStore);
        init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
        if let Some(abort) = &self.abort {
            init.set_signal(Some(&abort.signal()));
        }
        match &upstream.body {
            UpstreamBody::None => {}
            UpstreamBody::AsReceived => {
                let parts = std::mem::take(&mut *self.body.borrow_mut());
                let total = parts.iter().map(Uint8Array::length).sum();
                init.set_body(&stream::join_bytes(parts, total));
            }
            UpstreamBody::Replaced(bytes) => init.set_body(&Uint8Array::from(bytes.as_slice())),
        }
        // `upstream` (and the key in its headers) is zeroised as it drops here.
        Ok((upstream.url.clone(), init))
    }

    /// A wallet-raised error, sent as `{t:'error'}` so the page builds a real `Response`.
    pub fn refuse(&self, error: &EngineError) {
        if self.closed.get() {
            return;
        }
        self.closed.set(true);
        self.post(&[
            ("t", "error".into()),
            ("status", error.http_status().into()),
            ("body", error.to_json_body().into()),
        ]);
    }

    /// The wallet's own answer, whole: head, body and end in one frame.
    fn answer(&self, answer: &LocalAnswer) {
        if self.closed.get() {
            return;
        }
        self.closed.set(true);
        let headers = js_sys::Array::of1(&js_sys::Array::of2(
            &"content-type".into(),
            &answer.content_type.into(),
        ));
        self.post(&[
            ("t", "head".into()),
            ("status", answer.status.into()),
            ("statusText", "".into()),
            ("headers", headers.into()),
            (
                "b",
                Uint8Array::from(answer.body.as_slice()).to_base64().into(),
            ),
            ("end", JsValue::TRUE),
        ]);
    }

    /// Posts a frame tagged with this exchange's id. False when the port is gone.
    pub fn post(&self, pairs: &[(&str, JsValue)]) -> bool {
        let frame = chrome::object(pairs);
        let _ = js_sys::Reflect::set(&frame, &"id".into(), &JsValue::from(self.id));
        self.port.post(&frame)
    }
}

/// The request frame's head, read field by field (the inline body is never copied).
struct HeadFrame {
    provider: String,
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    session_key: Option<String>,
    has_body: bool,
}

impl HeadFrame {
    /// `url_field` names the field holding the URL (a page's) or the path (a client's).
    fn read(frame: &JsValue, url_field: &str) -> EngineResult<Self> {
        let text = |key: &str| chrome::string_field(frame, key);
        let malformed = || CoreError::BadRequest("malformed request frame".into());
        let list = chrome::field(frame, "headers");
        let list: js_sys::Array = list.dyn_into().map_err(|_| malformed())?;
        let mut headers = Vec::with_capacity(list.length() as usize);
        for pair in list.iter() {
            let pair: js_sys::Array = pair.dyn_into().map_err(|_| malformed())?;
            match (pair.get(0).as_string(), pair.get(1).as_string()) {
                (Some(name), Some(value)) => headers.push((name, value)),
                _ => return Err(malformed().into()),
            }
        }
        Ok(Self {
            provider: text("provider").ok_or_else(malformed)?,
            method: text("method").unwrap_or_default(),
            url: text(url_field).ok_or_else(malformed)?,
            headers,
            session_key: text("sessionKey"),
            has_body: chrome::field(frame, "hasBody").is_truthy(),
        })
    }

    fn as_head(&self) -> RequestHead<'_> {
        RequestHead {
            provider: &self.provider,
            method: &self.method,
            url: &self.url,
            headers: &self.headers,
            session_key: self.session_key.as_deref(),
            has_body: self.has_body,
        }
    }
}

use wasm_bindgen::JsCast;

//! The "test key" action: one read-only call (list models) the core planned, made from
//! the service worker with the same fetch options as the proxy (`redirect: 'error'`,
//! no cookies, no cache, no referrer). Only the core's verdict goes back to the page.

use crate::engine;
use crate::error::EngineResult;
use crate::json::to_js;
use keyfob_core::providers::Provider;
use keyfob_core::request::limits::KEY_TEST_TIMEOUT_MS;
use keyfob_core::request::{judge_key_test, key_test_unreachable, MAX_PROBE_BODY_BYTES};
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response};
use zeroize::Zeroize;

/// `{verdict: works|refused|limited|problem|unreachable, status, message, models}`.
pub async fn test_credential(id: &str) -> EngineResult<JsValue> {
    let test = engine::with(|w| w.key_test(id))?;
    let (provider, url, mut headers) = (test.provider, test.url, test.headers);
    let out = Headers::new()?;
    let appended = headers
        .iter()
        .try_for_each(|(name, value)| out.append(name, value));
    // The key now lives only in the Headers object handed to fetch.
    for (_, value) in headers.iter_mut() {
        value.zeroize();
    }
    appended?;
    let deadline = Deadline::start()?;
    let report = match fetch(&url, &out, &deadline.abort).await {
        Ok(response) => judge(provider, &response).await,
        Err(()) => key_test_unreachable(provider, deadline.passed()),
    };
    // A body cut off by the deadline reads as empty: the verdict still stands.
    drop(deadline);
    to_js(&report)
}

async fn judge(provider: &Provider, response: &Response) -> keyfob_core::request::KeyTestReport {
    let status = response.status();
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    let body = match (response.ok(), declared) {
        (true, size) if size.is_none_or(|s| s <= MAX_PROBE_BODY_BYTES) => read_text(response).await,
        _ => String::new(),
    };
    judge_key_test(provider, status, &body)
}

async fn read_text(response: &Response) -> String {
    let Ok(promise) = response.text() else {
        return String::new();
    };
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// Aborts the test call (headers and body) after [`KEY_TEST_TIMEOUT_MS`]; dropping it
/// cancels the timer.
struct Deadline {
    abort: AbortController,
    passed: Rc<Cell<bool>>,
    _timer: gloo_timers::callback::Timeout,
}

impl Deadline {
    fn start() -> EngineResult<Self> {
        let abort = AbortController::new()?;
        let passed = Rc::new(Cell::new(false));
        let (flag, aborter) = (Rc::clone(&passed), abort.clone());
        let timer = gloo_timers::callback::Timeout::new(KEY_TEST_TIMEOUT_MS, move || {
            flag.set(true);
            aborter.abort();
        });
        Ok(Self {
            abort,
            passed,
            _timer: timer,
        })
    }

    fn passed(&self) -> bool {
        self.passed.get()
    }
}

/// One GET with the proxy's options; `Err` for any failure (network, TLS, a refused
/// redirect, the deadline).
async fn fetch(url: &str, headers: &Headers, abort: &AbortController) -> Result<Response, ()> {
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(headers);
    init.set_redirect(web_sys::RequestRedirect::Error);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
    init.set_signal(Some(&abort.signal()));
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let result = JsFuture::from(global.fetch_with_str_and_init(url, &init)).await;
    result
        .ok()
        .and_then(|v| v.dyn_into::<Response>().ok())
        .ok_or(())
}

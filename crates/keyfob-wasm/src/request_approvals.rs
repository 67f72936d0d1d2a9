//! Per-request approval ("ask me above $X"): a request whose estimated cost is above the
//! site's threshold waits for the user in an extension window that shows the origin,
//! model and estimated maximum cost. Reject, closing the window, or two minutes without
//! an answer all refuse it. These live in memory only: if the worker restarts, the
//! request they belong to has failed anyway.

use crate::chrome::{self, Deferred};
use crate::error::EngineResult;
use crate::random::BrowserRandom;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use keyfob_core::metering::{format_usd, Amount};
use keyfob_core::random::make_bytes;
use keyfob_core::CoreError;
use std::cell::RefCell;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// No answer in this time is a rejection.
const ANSWER_TIMEOUT_MS: u32 = 120_000;

struct Waiting {
    origin: String,
    provider: String,
    model: Option<String>,
    estimate: Amount,
    window_id: Option<i32>,
    answer: Deferred,
}

thread_local! {
    static WAITING: RefCell<HashMap<String, Waiting>> = RefCell::new(HashMap::new());
}

/// Opens the window and waits for the user's answer (false on reject or timeout).
pub async fn ask(
    origin: &str,
    provider: &str,
    model: Option<&str>,
    estimate: Amount,
) -> EngineResult<bool> {
    let id = format!(
        "req_{}",
        B64URL.encode(make_bytes::<12>(&mut BrowserRandom)?)
    );
    let options = chrome::object(&[
        ("url", format!("approve/request.html?id={id}").into()),
        ("type", "popup".into()),
        ("width", JsValue::from(420)),
        ("height", JsValue::from(420)),
        ("focused", JsValue::TRUE),
    ]);
    let answer = Deferred::new();
    let promise = answer.promise.clone();
    WAITING.with(|w| {
        w.borrow_mut().insert(
            id.clone(),
            Waiting {
                origin: origin.to_string(),
                provider: provider.to_string(),
                model: model.map(str::to_string),
                estimate,
                window_id: None,
                answer,
            },
        )
    });
    let window = chrome::call(&["windows"], "create", &[options]).await?;
    let window_id = chrome::field(&window, "id").as_f64().map(|v| v as i32);
    WAITING.with(|w| {
        if let Some(entry) = w.borrow_mut().get_mut(&id) {
            entry.window_id = window_id;
        }
    });
    let timeout_id = id.clone();
    let on_timeout = Closure::once(move || decide(&timeout_id, false));
    let timer = chrome::set_timeout(on_timeout.as_ref().unchecked_ref(), ANSWER_TIMEOUT_MS);
    let approved = JsFuture::from(promise).await.ok().and_then(|v| v.as_bool()) == Some(true);
    chrome::clear_timeout(timer);
    drop(on_timeout);
    if let Some(window_id) = window_id {
        let _ = chrome::call(&["windows"], "remove", &[JsValue::from(window_id)]).await;
    }
    Ok(approved)
}

/// The user's answer (also used for timeouts and closed windows). Unknown ids are ignored.
pub fn decide(id: &str, approve: bool) {
    if let Some(waiting) = WAITING.with(|w| w.borrow_mut().remove(id)) {
        waiting.answer.resolve(&JsValue::from_bool(approve));
    }
}

/// Closing the window rejects the request.
pub fn on_window_removed(window_id: i32) {
    let ids: Vec<String> = WAITING.with(|w| {
        w.borrow()
            .iter()
            .filter(|(_, v)| v.window_id == Some(window_id))
            .map(|(k, _)| k.clone())
            .collect()
    });
    for id in ids {
        decide(&id, false);
    }
}

/// `{id, origin, provider, model, estimatedMaxUsd, estimatedTokens}` for the window.
pub fn describe(id: &str) -> EngineResult<JsValue> {
    WAITING.with(|w| {
        let w = w.borrow();
        let waiting = w
            .get(id)
            .ok_or_else(|| CoreError::InvalidInput("this request is no longer waiting".into()))?;
        Ok(chrome::object(&[
            ("id", id.into()),
            ("origin", waiting.origin.as_str().into()),
            ("provider", waiting.provider.as_str().into()),
            (
                "model",
                waiting
                    .model
                    .as_deref()
                    .map_or(JsValue::NULL, JsValue::from),
            ),
            (
                "estimatedMaxUsd",
                waiting
                    .estimate
                    .cost_nano_usd
                    .map_or(JsValue::NULL, |n| format_usd(n).into()),
            ),
            (
                "estimatedTokens",
                JsValue::from_f64(waiting.estimate.tokens as f64),
            ),
        ]))
    })
}

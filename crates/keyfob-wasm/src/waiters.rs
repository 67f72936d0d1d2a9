//! Calls waiting for the user: a `connect` for its approval, a request for its
//! per-request approval. The wallet holds the approvals; this holds only the promises
//! to wake when they are decided.

use std::cell::RefCell;
use std::collections::HashMap;

use wasm_bindgen::JsValue;

use crate::chrome::{self, Deferred};
use crate::race::{self, First};

thread_local! {
    static WAITING: RefCell<HashMap<String, Vec<Deferred>>> = RefCell::new(HashMap::new());
}

/// Waits until `approval` is decided (true: approved).
pub async fn wait(approval: &str) -> bool {
    let deferred = Deferred::new();
    WAITING.with(|w| {
        w.borrow_mut()
            .entry(approval.to_string())
            .or_default()
            .push(deferred.clone())
    });
    chrome::settled(&deferred.promise)
        .await
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Waits for `approval`, but no longer than `timeout_ms` (then: not approved).
pub async fn wait_at_most(approval: &str, timeout_ms: u64) -> bool {
    let ms = u32::try_from(timeout_ms).unwrap_or(u32::MAX);
    let timeout = gloo_timers::future::TimeoutFuture::new(ms);
    match race::first(wait(approval), timeout).await {
        First::Left(answer) => answer,
        First::Right(()) => false,
    }
}

/// Wakes every call waiting for `approval`.
pub fn resolve(approval: &str, approved: bool) {
    let waiters = WAITING
        .with(|w| w.borrow_mut().remove(approval))
        .unwrap_or_default();
    for waiter in waiters {
        waiter.resolve(&JsValue::from_bool(approved));
    }
}

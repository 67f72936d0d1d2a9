//! Bindings to the few `chrome.*` APIs the service worker uses. Calls go through
//! `Reflect` on the owning object so `this` is kept. Nothing here decides anything.

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    /// A `chrome.runtime.Port`.
    #[derive(Clone)]
    pub type Port;
    #[wasm_bindgen(method, js_name = postMessage, catch)]
    fn post_message_raw(this: &Port, message: &JsValue) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn disconnect_raw(this: &Port) -> Result<(), JsValue>;
    #[wasm_bindgen(method, getter)]
    pub fn name(this: &Port) -> String;
    #[wasm_bindgen(method, getter)]
    pub fn sender(this: &Port) -> JsValue;
}

impl Port {
    /// Posts a message; a port the other side already closed is not an error worth raising.
    pub fn post(&self, message: &JsValue) -> bool {
        self.post_message_raw(message).is_ok()
    }

    pub fn close(&self) {
        let _ = self.disconnect_raw();
    }
}

/// Walks `chrome.a.b.c`.
pub fn chrome_path(parts: &[&str]) -> Result<JsValue, JsValue> {
    let mut node = Reflect::get(&js_sys::global(), &"chrome".into())?;
    for part in parts {
        node = Reflect::get(&node, &(*part).into())?;
        if node.is_undefined() {
            return Err(JsValue::from_str(&format!(
                "chrome.{} is unavailable",
                parts.join(".")
            )));
        }
    }
    Ok(node)
}

/// Calls `chrome.<path>.<method>(...args)` and awaits it when it returns a promise.
pub async fn call(path: &[&str], method: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let target = chrome_path(path)?;
    let function: Function = Reflect::get(&target, &method.into())?.dyn_into()?;
    let result = function.apply(&target, &args.iter().collect::<Array>())?;
    match result.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(value) => Ok(value),
    }
}

/// The extension's own origin, `chrome-extension://<id>`.
pub fn extension_origin() -> Result<String, JsValue> {
    let id = Reflect::get(&chrome_path(&["runtime"])?, &"id".into())?;
    id.as_string()
        .map(|id| format!("chrome-extension://{id}"))
        .ok_or_else(|| JsValue::from_str("chrome.runtime.id is unavailable"))
}

/// A plain JS object built from key/value pairs.
pub fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let target = Object::new();
    for (key, value) in pairs {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&target, &(*key).into(), value);
    }
    target.into()
}

/// Reads `obj[key]` as a string, if it is one.
pub fn string_field(obj: &JsValue, key: &str) -> Option<String> {
    Reflect::get(obj, &key.into())
        .ok()
        .and_then(|v| v.as_string())
}

pub fn field(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// Milliseconds since the epoch, from the JS clock (the core never reads a clock).
pub fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// "Now" with the user's time zone: budgets' days, weeks and months are local.
pub fn clock() -> keyfob_core::metering::LocalClock {
    // From `Date.now()`, like `now_ms`, so both read one clock.
    let now = js_sys::Date::now();
    let date = js_sys::Date::new(&now.into());
    keyfob_core::metering::LocalClock {
        now_ms: now as u64,
        utc_offset_minutes: -date.get_timezone_offset() as i32,
    }
}

/// Waits until `promise` settles; the value, or `None` if it was rejected.
pub async fn settled(promise: &Promise) -> Option<JsValue> {
    JsFuture::from(promise.clone()).await.ok()
}

/// A promise with its resolve function kept, so a later event can complete it.
/// Clones share the promise: resolving any of them settles it once.
#[derive(Clone)]
pub struct Deferred {
    pub promise: Promise,
    resolve: Function,
}

impl Deferred {
    pub fn new() -> Self {
        let mut resolve = None;
        let promise = Promise::new(&mut |res, _rej| resolve = Some(res));
        // The executor runs synchronously inside `Promise::new`, so `resolve` is set.
        let resolve = resolve.unwrap_or_else(|| Function::new_no_args(""));
        Self { promise, resolve }
    }

    pub fn resolve(&self, value: &JsValue) {
        let _ = self.resolve.call1(&JsValue::NULL, value);
    }
}

impl Default for Deferred {
    fn default() -> Self {
        Self::new()
    }
}

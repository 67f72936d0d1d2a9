//! JS values ⇄ Rust types through JSON text. The browser's native `JSON.stringify` and
//! `JSON.parse` do the JS side and serde_json the Rust side, so the engine carries one
//! serde back end instead of two (the WASM stays smaller; messages here are small).

use crate::error::EngineResult;
use keyfob_core::CoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::JsValue;
use zeroize::Zeroize;

/// Reads a JS value (a message from a port or a page) as `T`. The JSON text is zeroised
/// once read: popup commands carry passwords and keys.
pub fn from_js<T: DeserializeOwned>(value: &JsValue) -> EngineResult<T> {
    let mut text = js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| CoreError::BadRequest("message is not JSON".into()))?;
    let parsed = serde_json::from_str(&text).map_err(|e| CoreError::BadRequest(e.to_string()));
    text.zeroize();
    Ok(parsed?)
}

/// Turns `value` into a plain JS value (objects, arrays, strings, numbers).
pub fn to_js<T: Serialize>(value: &T) -> EngineResult<JsValue> {
    let text = serde_json::to_string(value).map_err(|e| CoreError::Internal(e.to_string()))?;
    Ok(js_sys::JSON::parse(&text)?)
}

//! Errors of the glue. A browser API that fails underneath us becomes the core's
//! `BrowserApi`, so every error has one code (from `CoreError::code`) wherever it shows:
//! a command reply, a page's `Response`, a port frame. JS branches on the code only.

use keyfob_core::CoreError;
use wasm_bindgen::JsValue;

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct EngineError(#[from] pub CoreError);

impl From<JsValue> for EngineError {
    fn from(value: JsValue) -> Self {
        let text = js_sys::Reflect::get(&value, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| value.as_string())
            .unwrap_or_else(|| "unknown error".into());
        Self(CoreError::BrowserApi(text))
    }
}

impl EngineError {
    /// A failed engine load, as its shared promise reported it.
    pub fn from_js_error(value: &JsValue) -> Self {
        let message = crate::chrome::string_field(value, "message").unwrap_or_default();
        Self(CoreError::StorageFailed(message))
    }

    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    pub fn http_status(&self) -> u16 {
        self.0.http_status()
    }

    /// `{code, message}` for extension pages and the page shim.
    pub fn to_js(&self) -> JsValue {
        let mut pairs = vec![
            ("code", JsValue::from_str(self.code())),
            ("message", JsValue::from_str(&self.to_string())),
        ];
        if let CoreError::UnlockBackoff { retry_after_ms }
        | CoreError::ApprovalBackoff { retry_after_ms } = &self.0
        {
            pairs.push(("retryAfterMs", JsValue::from_f64(*retry_after_ms as f64)));
        }
        crate::chrome::object(&pairs)
    }

    /// The JSON body of a wallet-raised error `Response`.
    pub fn to_json_body(&self) -> String {
        self.0.to_json_body()
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

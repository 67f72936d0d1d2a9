//! Errors of the glue: a core error, or a browser API that failed underneath us.
//! Both reach JS as `{code, message}` with a stable code; JS branches on the code only.

use keyfob_core::CoreError;
use wasm_bindgen::JsValue;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error("browser API failed: {0}")]
    Browser(String),
}

impl From<JsValue> for EngineError {
    fn from(value: JsValue) -> Self {
        let text = js_sys::Reflect::get(&value, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .or_else(|| value.as_string())
            .unwrap_or_else(|| "unknown error".into());
        Self::Browser(text)
    }
}

impl EngineError {
    /// A failed engine load, as its shared promise reported it.
    pub fn from_js_error(value: &JsValue) -> Self {
        let message = crate::chrome::string_field(value, "message").unwrap_or_default();
        Self::Core(CoreError::StorageFailed(message))
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Core(e) => e.code(),
            Self::Browser(_) => "BROWSER_API",
        }
    }

    pub fn http_status(&self) -> u16 {
        match self {
            Self::Core(e) => e.http_status(),
            Self::Browser(_) => 500,
        }
    }

    /// `{code, message}` for extension pages and the page shim.
    pub fn to_js(&self) -> JsValue {
        let mut pairs = vec![
            ("code", JsValue::from_str(self.code())),
            ("message", JsValue::from_str(&self.to_string())),
        ];
        if let Self::Core(CoreError::UnlockBackoff { retry_after_ms }) = self {
            pairs.push(("retryAfterMs", JsValue::from_f64(*retry_after_ms as f64)));
        }
        crate::chrome::object(&pairs)
    }

    /// The JSON body of a wallet-raised error `Response`.
    pub fn to_json_body(&self) -> String {
        match self {
            Self::Core(e) => e.to_json_body(),
            Self::Browser(_) => CoreError::Internal(self.to_string()).to_json_body(),
        }
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

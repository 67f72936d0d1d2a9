//! The extension's own windows: the approval windows and the toolbar badge.

use crate::chrome;
use crate::error::EngineResult;
use wasm_bindgen::JsValue;

/// Opens `page` (a path inside the extension) as a focused popup window; its id.
pub async fn open(page: &str, height: u32) -> EngineResult<Option<i32>> {
    let options = chrome::object(&[
        ("url", page.into()),
        ("type", "popup".into()),
        ("width", JsValue::from(420)),
        ("height", JsValue::from(height)),
        ("focused", JsValue::TRUE),
    ]);
    let window = chrome::call(&["windows"], "create", &[options]).await?;
    Ok(chrome::field(&window, "id").as_f64().map(|v| v as i32))
}

/// Brings a window to the front; false if it is gone.
pub async fn focus(window_id: i32) -> bool {
    let options = chrome::object(&[("focused", JsValue::TRUE)]);
    chrome::call(&["windows"], "update", &[JsValue::from(window_id), options])
        .await
        .is_ok()
}

pub async fn close(window_id: i32) {
    let _ = chrome::call(&["windows"], "remove", &[JsValue::from(window_id)]).await;
}

/// The toolbar badge counts pending approvals.
pub async fn set_badge(count: usize) {
    let text = if count == 0 {
        String::new()
    } else {
        count.to_string()
    };
    let _ = chrome::call(
        &["action"],
        "setBadgeText",
        &[chrome::object(&[("text", text.into())])],
    )
    .await;
}

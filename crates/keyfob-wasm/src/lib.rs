#![doc = include_str!("../README.md")]

mod api;
mod approvals;
mod chrome;
mod control;
mod error;
mod json;
mod proxy;
mod random;
mod request_approvals;
mod state;
mod storage;

use chrome::Port;
use wasm_bindgen::prelude::*;

/// Answers a `chrome.runtime.sendMessage` from an extension page.
#[wasm_bindgen(js_name = handleMessage)]
pub async fn handle_message(message: JsValue, sender: JsValue) -> JsValue {
    api::handle(message, sender).await
}

/// What a connected port's messages go to. background.js buffers a port's first frames
/// until the engine is ready, then feeds them here in order.
#[wasm_bindgen]
pub struct PortSink {
    inner: Sink,
}

enum Sink {
    Request(proxy::RequestPort),
    Control(control::ControlPort),
    Refused,
}

#[wasm_bindgen]
impl PortSink {
    pub fn message(&self, message: JsValue) {
        match &self.inner {
            Sink::Request(p) => p.message(message),
            Sink::Control(p) => p.message(message),
            Sink::Refused => {}
        }
    }

    pub fn disconnected(&self) {
        match &self.inner {
            Sink::Request(p) => p.disconnected(),
            Sink::Control(p) => p.disconnected(),
            Sink::Refused => {}
        }
    }
}

/// Takes a newly connected port. The origin comes from the port's sender only.
#[wasm_bindgen(js_name = openPort)]
pub fn open_port(port: Port) -> PortSink {
    let origin = control::sender_origin(&port);
    let inner = match port.name().as_str() {
        "keyfob.requests" => Sink::Request(proxy::RequestPort::open(port, origin)),
        "keyfob.control" => Sink::Control(control::ControlPort::open(port, origin)),
        _ => {
            port.close();
            Sink::Refused
        }
    };
    PortSink { inner }
}

/// `chrome.alarms` tick: the auto-lock check.
#[wasm_bindgen(js_name = onAlarm)]
pub async fn on_alarm(_name: String) -> Result<(), JsValue> {
    state::ready().await.map_err(|e| e.to_js())?;
    state::enforce_auto_lock().await.map_err(|e| e.to_js())
}

/// An approval window was closed: that is a rejection.
#[wasm_bindgen(js_name = onWindowRemoved)]
pub async fn on_window_removed(window_id: i32) -> Result<(), JsValue> {
    request_approvals::on_window_removed(window_id);
    state::ready().await.map_err(|e| e.to_js())?;
    approvals::on_window_removed(window_id)
        .await
        .map_err(|e| e.to_js())
}

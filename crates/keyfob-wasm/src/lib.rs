#![doc = include_str!("../README.md")]

mod api;
mod bridge;
mod chrome;
mod chrome_store;
mod control;
mod engine;
mod error;
mod json;
mod proxy;
mod race;
mod random;
mod waiters;
mod windows;

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
    Bridge(bridge::BridgePort),
    Control(control::ControlPort),
    Refused,
}

#[wasm_bindgen]
impl PortSink {
    pub fn message(&self, message: JsValue) {
        match &self.inner {
            Sink::Request(p) => p.message(message),
            Sink::Bridge(p) => p.message(message),
            Sink::Control(p) => p.message(message),
            Sink::Refused => {}
        }
    }

    pub fn disconnected(&self) {
        match &self.inner {
            Sink::Request(p) => p.disconnected(),
            Sink::Bridge(p) => p.disconnected(),
            Sink::Control(p) => p.disconnected(),
            Sink::Refused => {}
        }
    }
}

/// Takes a newly connected port. The origin comes from the port's sender only.
#[wasm_bindgen(js_name = openPort)]
pub fn open_port(port: Port) -> PortSink {
    let caller = control::sender_caller(&port);
    let inner = match port.name().as_str() {
        "keyfob.requests" => Sink::Request(proxy::RequestPort::open(port, caller)),
        "keyfob.control" => Sink::Control(control::ControlPort::open(port, caller)),
        _ => {
            port.close();
            Sink::Refused
        }
    };
    PortSink { inner }
}

/// Takes the local bridge's native-messaging port (`docs/bridge.md`).
#[wasm_bindgen(js_name = openBridge)]
pub fn open_bridge(port: Port) -> PortSink {
    PortSink {
        inner: Sink::Bridge(bridge::BridgePort::open(port)),
    }
}

/// The bridge's native port closed; `reason` is the browser's `lastError` message.
#[wasm_bindgen(js_name = bridgeClosed)]
pub fn bridge_closed(reason: Option<String>) {
    bridge::closed(reason);
}

/// At every worker start: run the bridge if a local client is approved.
#[wasm_bindgen(js_name = startBridgeIfWanted)]
pub async fn start_bridge_if_wanted() -> Result<(), JsValue> {
    engine::ready().await.map_err(|e| e.to_js())?;
    bridge::start_if_wanted();
    Ok(())
}

/// `chrome.alarms` tick: the auto-lock check.
#[wasm_bindgen(js_name = onAlarm)]
pub async fn on_alarm(_name: String) -> Result<(), JsValue> {
    engine::ready().await.map_err(|e| e.to_js())?;
    engine::with(|w| Ok(w.tick(&chrome::clock())))
        .map(|_| ())
        .map_err(|e| e.to_js())
}

/// A window was closed: an approval shown in it is a rejection.
#[wasm_bindgen(js_name = onWindowRemoved)]
pub async fn on_window_removed(window_id: i32) -> Result<(), JsValue> {
    engine::ready().await.map_err(|e| e.to_js())?;
    let (connects, requests) = engine::with(|w| {
        let connects = w.connect_window_closed(window_id, &chrome::clock());
        let requests = w.request_approvals_in(window_id);
        Ok((connects, requests))
    })
    .map_err(|e| e.to_js())?;
    for decided in connects {
        waiters::resolve(&decided.approval, false);
    }
    for approval in requests {
        engine::with(|w| Ok(w.decide_request(&approval, false))).map_err(|e| e.to_js())?;
        waiters::resolve(&approval, false);
    }
    control::refresh_badge();
    Ok(())
}

//! The request port (`keyfob.requests`): one long-lived port per page frame, carrying
//! any number of proxied requests ("exchanges"), each tagged with an `id` the content
//! script chose. One port per frame instead of one per request saves a connection
//! round trip on every call.
//!
//! Frames in:  `{t:'req', id, provider, method, url, headers:[[k,v]], sessionKey, hasBody, b?, end?}`
//!             (a small body may ride along as `b` with `end`),
//!             then `{t:'body', id, b:<base64>}`*, `{t:'end', id}`; `{t:'abort', id}` aborts
//!             that exchange; `{t:'ping'}` keeps a long stream's worker awake. Closing the
//!             port aborts every exchange on it.
//! Frames out: `{t:'head', id, status, statusText, headers, b?, end?}`, `{t:'data', id, b, end?}`,
//!             `{t:'end', id}`; `{t:'error', id, status, body}` for a wallet error before any
//!             upstream byte; `{t:'fail', id, code, message}` when the upstream stream breaks.
//!             `b` and `end` ride along on head/data frames when they are ready at once,
//!             so a small answer is one message.
//!
//! Bytes never enter WASM memory: chunks stay JS `Uint8Array`s and are base64-coded
//! natively (`toBase64`/`fromBase64`), because extension ports only carry JSON.

mod exchange;
mod routed;
mod stream;

use crate::chrome::{self, Port};
use exchange::{Exchange, Who};
use keyfob_core::request::limits::MAX_OPEN_EXCHANGES;
use keyfob_core::wallet::Caller;
use keyfob_core::CoreError;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsValue;

pub struct RequestPort {
    port: Port,
    who: Who,
    open: Rc<RefCell<HashMap<u32, Rc<Exchange>>>>,
}

impl RequestPort {
    pub fn open(port: Port, caller: Result<Caller, CoreError>) -> Self {
        Self::serving(port, Who::Port(caller))
    }

    /// The bridge's requests: each one's caller is the client its token names.
    pub fn bridge(port: Port) -> Self {
        Self::serving(port, Who::BridgeClient)
    }

    fn serving(port: Port, who: Who) -> Self {
        Self {
            port,
            who,
            open: Rc::new(RefCell::new(HashMap::new())),
        }
    }

    pub fn message(&self, message: JsValue) {
        let Some(id) = chrome::field(&message, "id").as_f64().map(|v| v as u32) else {
            return; // pings, and frames without an id to answer
        };
        let kind = chrome::string_field(&message, "t");
        if kind.as_deref() == Some("req") {
            self.start(id, message);
            return;
        }
        let exchange = self.open.borrow().get(&id).cloned();
        if let Some(exchange) = exchange {
            match kind.as_deref() {
                Some("body") => exchange.body_frame(chrome::field(&message, "b")),
                Some("end") => exchange.body_complete(),
                Some("abort") => {
                    exchange.abort();
                    self.open.borrow_mut().remove(&id);
                }
                _ => {}
            }
        }
    }

    fn start(&self, id: u32, message: JsValue) {
        let exchange = Rc::new(Exchange::new(id, self.port.clone(), self.who.clone()));
        {
            let mut open = self.open.borrow_mut();
            if open.contains_key(&id) {
                return; // a replayed id: the first exchange keeps it
            }
            if open.len() >= MAX_OPEN_EXCHANGES {
                drop(open);
                exchange
                    .refuse(&CoreError::BadRequest("too many requests in flight".into()).into());
                return;
            }
            open.insert(id, Rc::clone(&exchange));
        }
        // A small body may ride in the request frame itself (`b`, with `end`).
        let inline = chrome::field(&message, "b");
        if inline.is_string() {
            exchange.body_frame(inline);
        }
        if chrome::field(&message, "end").is_truthy() {
            exchange.body_complete();
        }
        let open = Rc::clone(&self.open);
        wasm_bindgen_futures::spawn_local(async move {
            exchange.run(message).await;
            open.borrow_mut().remove(&id);
        });
    }

    /// The frame went away (navigation, closed tab, reloaded extension): abort everything.
    pub fn disconnected(&self) {
        let open: Vec<_> = self.open.borrow_mut().drain().map(|(_, e)| e).collect();
        for exchange in open {
            exchange.abort();
        }
    }
}

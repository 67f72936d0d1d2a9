//! A routed answer (the site's route sent an app's call to another provider): the
//! provider's bytes feed the meter and the wallet's translator, and the page gets only
//! what the wallet gives back, in the app's own dialect. A whole answer (or an error)
//! is translated once it has all arrived, so the page's head waits for it.

use js_sys::Uint8Array;
use keyfob_core::wallet::charge::End;
use keyfob_core::wallet::request::ExchangeId;
use keyfob_core::wallet::route_reply::RoutedHead;
use wasm_bindgen::JsValue;
use web_sys::{ReadableStreamDefaultReader, Response};

use super::exchange::Exchange;
use super::stream::{head_pairs, next_batch};
use crate::engine::with;
use wasm_bindgen::JsCast;

pub async fn forward(
    exchange: &Exchange,
    response: &Response,
    id: ExchangeId,
    routed: RoutedHead,
) -> End {
    let Some(body) = response.body() else {
        return finish(exchange, response, id, &routed, true, Vec::new());
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut next = reader.read();
    let mut head_sent = false;
    if !routed.whole {
        match head(response, id, &routed) {
            Some(head) if exchange.post(&head) => head_sent = true,
            _ => {
                let _ = reader.cancel();
                return End::Aborted;
            }
        }
    }
    loop {
        let (batch, ended) = match next_batch(exchange, &reader, &mut next).await {
            Ok(read) => read,
            Err(end) => return end,
        };
        let mut out = Vec::new();
        if let Some(bytes) = batch {
            let copy = bytes.to_vec();
            let _ = with(|w| {
                w.response_body(id, &copy);
                out = w.routed_body(id, &copy);
                Ok(())
            });
        }
        if ended {
            return finish(exchange, response, id, &routed, !head_sent, out);
        }
        if out.is_empty() {
            continue; // a whole answer is still arriving, or a frame had no event yet
        }
        let pairs = [("t", "data".into()), ("b", base64(&out))];
        if !exchange.post(&pairs) {
            let _ = reader.cancel();
            return End::Aborted;
        }
    }
}

/// The provider's body ended: the page gets the last translated bytes (with its head,
/// when that waited for the whole answer) and the end.
fn finish(
    exchange: &Exchange,
    response: &Response,
    id: ExchangeId,
    routed: &RoutedHead,
    with_head: bool,
    mut out: Vec<u8>,
) -> End {
    out.extend(with(|w| Ok(w.routed_end(id))).unwrap_or_default());
    let mut pairs = if with_head {
        match head(response, id, routed) {
            Some(head) => head,
            None => return End::Broken,
        }
    } else {
        vec![("t", "data".into())]
    };
    if !out.is_empty() {
        pairs.push(("b", base64(&out)));
    }
    pairs.push(("end", JsValue::TRUE));
    if exchange.post(&pairs) {
        End::Finished
    } else {
        End::Aborted
    }
}

/// The page's head: the provider's visible headers, the app dialect's content type, and
/// the status the wallet decided (final once a whole answer was translated).
fn head(
    response: &Response,
    id: ExchangeId,
    routed: &RoutedHead,
) -> Option<Vec<(&'static str, JsValue)>> {
    let status = with(|w| Ok(w.routed_status(id)))
        .ok()
        .flatten()
        .unwrap_or(routed.status);
    head_pairs(response, Some((status, routed.content_type))).ok()
}

fn base64(bytes: &[u8]) -> JsValue {
    Uint8Array::from(bytes).to_base64().into()
}

//! The upstream fetch and the response stream back to the page.
//!
//! Chunks that are already waiting in the response stream are sent together (up to
//! `MAX_BATCH` bytes): a fast download goes in few large messages, while a token stream
//! that trickles in still goes out chunk by chunk, the moment each arrives.

use super::exchange::Exchange;
use crate::engine::with;
use crate::error::{EngineError, EngineResult};
use crate::race::{self, First};
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use keyfob_core::request::is_page_visible_response_header;
use keyfob_core::request::limits::UPSTREAM_HEADERS_TIMEOUT_MS;
use keyfob_core::wallet::charge::End;
use keyfob_core::wallet::request::ExchangeId;
use keyfob_core::CoreError;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, RequestInit, Response};

/// Largest batch of response bytes in one message.
const MAX_BATCH: u32 = 1 << 20;

/// Fetches upstream and streams the answer to the page, feeding the wallet's meter the
/// batches it reads. Returns how the exchange ended.
pub async fn forward(exchange: &Exchange, url: &str, init: &RequestInit, id: ExchangeId) -> End {
    let response = match headers_in_time(exchange, url, init).await {
        Ok(response) => response,
        Err(end) => return end,
    };
    let status = response.status();
    let content_type = response.headers().get("content-type").ok().flatten();
    let reading =
        with(|w| Ok(w.response_head(id, status, content_type.as_deref()))).unwrap_or(false);
    let routed = with(|w| Ok(w.routed_head(id, status, content_type.as_deref())));
    if let Ok(Some(routed)) = routed {
        return super::routed::forward(exchange, &response, id, routed).await;
    }
    let head = match head_pairs(&response, None) {
        Ok(head) => head,
        Err(error) => {
            exchange.refuse(&error);
            return End::Broken;
        }
    };
    let Some(body) = response.body() else {
        exchange.post(&[head, vec![("end", JsValue::TRUE)]].concat());
        return End::Finished;
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut next = reader.read();
    // The head rides with the first bytes only if they are already here; otherwise the
    // page gets its `Response` now, as `fetch` resolves at the headers.
    let mut head = Some(head);
    if !is_ready(&next).await && !exchange.post(&head.take().unwrap_or_default()) {
        let _ = reader.cancel();
        return End::Aborted;
    }
    loop {
        let (batch, ended) = match next_batch(exchange, &reader, &mut next).await {
            Ok(read) => read,
            Err(end) => return end,
        };
        let mut pairs = head.take().unwrap_or_else(|| vec![("t", "data".into())]);
        if let Some(bytes) = batch {
            // The copy into WASM memory is made only for a body the meter reads.
            if reading {
                let copy = bytes.to_vec();
                let _ = with(|w| {
                    w.response_body(id, &copy);
                    Ok(())
                });
            }
            pairs.push(("b", bytes.to_base64().into()));
        }
        if ended {
            pairs.push(("end", JsValue::TRUE));
        }
        if !exchange.post(&pairs) {
            let _ = reader.cancel();
            return End::Aborted;
        }
        if ended {
            return End::Finished;
        }
    }
}

/// The upstream response, once its headers arrived in time. A failure is told to the
/// page here and returned as how the exchange ended.
async fn headers_in_time(
    exchange: &Exchange,
    url: &str,
    init: &RequestInit,
) -> Result<Response, End> {
    let global: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
    let fetching = JsFuture::from(global.fetch_with_str_and_init(url, init));
    let timeout = gloo_timers::future::TimeoutFuture::new(UPSTREAM_HEADERS_TIMEOUT_MS);
    let result = match race::first(fetching, timeout).await {
        First::Left(result) => result,
        First::Right(()) => {
            if let Some(abort) = &exchange.abort {
                abort.abort();
            }
            exchange.refuse(&CoreError::UpstreamTimeout.into());
            return Err(End::TimedOut);
        }
    };
    match result.and_then(|r| r.dyn_into::<Response>()) {
        Ok(response) => Ok(response),
        Err(_) if exchange.closed.get() => Err(End::Aborted),
        Err(e) => {
            let error = CoreError::UpstreamUnreachable(format!(
                "{} (Keyfob also refuses provider redirects)",
                EngineError::from(e)
            ));
            exchange.refuse(&error.into());
            Err(End::Unreachable)
        }
    }
}

/// The next batch of the provider's body; a broken stream is told to the page (and an
/// abort is not) and comes back as how the exchange ended.
pub(super) async fn next_batch(
    exchange: &Exchange,
    reader: &ReadableStreamDefaultReader,
    next: &mut Promise,
) -> Result<(Option<Uint8Array>, bool), End> {
    match read_batch(reader, next).await {
        Ok(read) => Ok(read),
        Err(_) if exchange.closed.get() => Err(End::Aborted),
        Err(e) => {
            let failure = EngineError::from(CoreError::UpstreamUnreachable(
                EngineError::from(e).to_string(),
            ));
            exchange.post(&[
                ("t", "fail".into()),
                ("code", failure.code().into()),
                ("message", failure.to_string().into()),
            ]);
            Err(End::Broken)
        }
    }
}

/// Waits for at least one chunk (or the end), then takes every chunk that is already
/// queued, up to `MAX_BATCH` bytes. Returns the joined bytes and whether the stream ended.
async fn read_batch(
    reader: &ReadableStreamDefaultReader,
    next: &mut Promise,
) -> Result<(Option<Uint8Array>, bool), JsValue> {
    let mut chunks: Vec<Uint8Array> = Vec::new();
    let mut total = 0u32;
    let mut step = JsFuture::from(next.clone()).await?;
    loop {
        if Reflect::get(&step, &"done".into())?.is_truthy() {
            return Ok((join(chunks, total), true));
        }
        let chunk: Uint8Array = Reflect::get(&step, &"value".into())?.unchecked_into();
        total += chunk.length();
        chunks.push(chunk);
        *next = reader.read();
        if total >= MAX_BATCH {
            return Ok((join(chunks, total), false));
        }
        if !is_ready(next).await {
            return Ok((join(chunks, total), false));
        }
        step = JsFuture::from(next.clone()).await?;
    }
}

/// Whether `promise` has already settled: a settled promise wins a race against a
/// promise created after it. (A rejection counts as ready; awaiting it reports it.)
pub(super) async fn is_ready(promise: &Promise) -> bool {
    let not_ready: JsValue = Object::new().into();
    let raced = Promise::race(&Array::of2(promise, &Promise::resolve(&not_ready)));
    match JsFuture::from(raced).await {
        Ok(winner) => !Object::is(&winner, &not_ready),
        Err(_) => true,
    }
}

fn join(chunks: Vec<Uint8Array>, total: u32) -> Option<Uint8Array> {
    if chunks.is_empty() {
        return None;
    }
    Some(join_bytes(chunks, total))
}

/// Concatenates byte arrays on the JS side (no copy through WASM memory).
pub fn join_bytes(mut parts: Vec<Uint8Array>, total: u32) -> Uint8Array {
    if parts.len() == 1 {
        return parts.swap_remove(0);
    }
    let joined = Uint8Array::new_with_length(total);
    let mut at = 0;
    for part in &parts {
        joined.set(part, at);
        at += part.length();
    }
    joined
}

/// `t:'head'` with status, status text and the headers the page may see. A routed
/// answer gives the page its own status and content type (`served`).
pub(super) fn head_pairs(
    response: &Response,
    served: Option<(u16, &str)>,
) -> EngineResult<Vec<(&'static str, JsValue)>> {
    let headers = Array::new();
    let entries = js_sys::try_iter(&response.headers())?
        .ok_or_else(|| CoreError::Internal("headers are not iterable".into()))?;
    for entry in entries {
        let pair: Array = entry?.unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        let replaced = served.is_some() && name.eq_ignore_ascii_case("content-type");
        if is_page_visible_response_header(&name) && !replaced {
            headers.push(&pair);
        }
    }
    let (status, status_text) = match served {
        Some((status, content_type)) => {
            headers.push(&Array::of2(&"content-type".into(), &content_type.into()));
            (status, String::new())
        }
        None => (response.status(), response.status_text()),
    };
    Ok(vec![
        ("t", "head".into()),
        ("status", status.into()),
        ("statusText", status_text.into()),
        ("headers", headers.into()),
    ])
}

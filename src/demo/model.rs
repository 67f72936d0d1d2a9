//! The built-in demo model: an OpenAI-compatible `/v1/chat/completions` (JSON and SSE)
//! and `/v1/models`, so the demo chat streams a real answer with no provider account.
//! It needs a bearer key (any non-empty text) and never echoes it.

use super::http::{respond, Request};
use serde_json::{json, Value};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

pub const MODEL: &str = "keyfob-demo-1";
const WORD_DELAY: Duration = Duration::from_millis(35);

pub fn handle(request: &Request, stream: &mut TcpStream) -> std::io::Result<()> {
    let key = request
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|k| !k.is_empty());
    let Some(key) = key else {
        let body = error("missing bearer key: add any key for this server in Keyfob");
        return respond(stream, 401, "application/json", body.as_bytes());
    };
    // Shows which stored key arrived (its last four characters only), so a user can see
    // that Keyfob, not the page, supplied it.
    let tail: String = key
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    eprintln!(
        "demo model: {} {} with key …{tail}",
        request.method, request.path
    );
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/v1/models") => {
            let body = json!({"object": "list", "data": [{"id": MODEL, "object": "model", "owned_by": "keyfob"}]});
            respond(stream, 200, "application/json", body.to_string().as_bytes())
        }
        ("POST", "/v1/chat/completions") => chat(request, stream),
        _ => respond(
            stream,
            404,
            "application/json",
            error("unknown endpoint").as_bytes(),
        ),
    }
}

fn error(message: &str) -> String {
    json!({"error": {"message": message, "type": "invalid_request_error"}}).to_string()
}

fn chat(request: &Request, stream: &mut TcpStream) -> std::io::Result<()> {
    let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
        return respond(
            stream,
            400,
            "application/json",
            error("body is not JSON").as_bytes(),
        );
    };
    let prompt = body["messages"]
        .as_array()
        .and_then(|m| m.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|m| m["content"].as_str())
        .unwrap_or("");
    let words = answer(prompt);
    let input_tokens = prompt.split_whitespace().count() as u64 + 8;
    let usage = json!({"prompt_tokens": input_tokens, "completion_tokens": words.len(),
        "total_tokens": input_tokens + words.len() as u64});
    if body["stream"] != true {
        let reply = json!({"id": "chatcmpl-demo", "object": "chat.completion", "model": MODEL,
            "choices": [{"index": 0, "finish_reason": "stop",
                "message": {"role": "assistant", "content": words.concat()}}],
            "usage": usage});
        return respond(
            stream,
            200,
            "application/json",
            reply.to_string().as_bytes(),
        );
    }
    stream.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
    )?;
    for word in &words {
        let chunk = json!({"id": "chatcmpl-demo", "object": "chat.completion.chunk", "model": MODEL,
            "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": null}]});
        stream.write_all(format!("data: {chunk}\n\n").as_bytes())?;
        stream.flush()?;
        std::thread::sleep(WORD_DELAY);
    }
    let last = json!({"id": "chatcmpl-demo", "object": "chat.completion.chunk", "model": MODEL,
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    stream.write_all(format!("data: {last}\n\n").as_bytes())?;
    if body["stream_options"]["include_usage"] == true {
        let usage_chunk = json!({"id": "chatcmpl-demo", "object": "chat.completion.chunk",
            "model": MODEL, "choices": [], "usage": usage});
        stream.write_all(format!("data: {usage_chunk}\n\n").as_bytes())?;
    }
    stream.write_all(b"data: [DONE]\n\n")
}

/// A friendly, deterministic answer, split into words (with their spaces) to stream.
pub fn answer(prompt: &str) -> Vec<String> {
    let quoted: String = prompt.chars().take(200).collect();
    let text = format!(
        "Hello from Keyfob's demo model. You wrote: \u{201c}{quoted}\u{201d}. This answer \
         streamed from a server on your own machine, through the Keyfob extension, which \
         added your key on the way out. The page that asked never saw that key."
    );
    text.split_inclusive(' ').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_quotes_the_prompt_and_rebuilds_exactly() {
        let words = answer("What is 2+2?");
        assert!(words.len() > 10);
        assert!(words.concat().contains("\u{201c}What is 2+2?\u{201d}"));
    }
}

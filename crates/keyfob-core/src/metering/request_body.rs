//! What a request body says about cost: model, output cap, stream flag; and the one
//! rewrite Keyfob makes to a body (asking OpenAI-compatible streams for usage).
//!
//! Threat model: the page writes the body, and the provider — not Keyfob — decides
//! what it means. So [`read_request`] refuses (`BAD_REQUEST`) any body whose model could
//! be read two ways: invalid JSON, a duplicated top-level key, a non-string model, a
//! multipart form with two `model` fields. A body is read as JSON when its content type
//! says so *or* it starts like JSON, so a JSON body cannot hide behind `text/plain`.
//! The body is read by [`BodyReader`] (incrementally, in bounded memory), which holds
//! that rule; this module adds what the path says. The model comes from the path where
//! the provider's row says so ([`ModelIn`](crate::providers::ModelIn): Gemini
//! `models/{model}:verb`, Azure `deployments/{name}`), and is checked here ([`facts`])
//! whichever way it came. Whether a call generates or is billed at all comes from the
//! [`MeterClass`] of the path rule that admitted it; which providers may be asked for
//! stream usage, from their rows' `include_usage`.
//!
//! Estimates: input is `ceil(body bytes / 4)` (about right for text; high for base64
//! images, low for a `previous_response_id` that pulls in a stored conversation); output
//! is the request's cap (`max_tokens`, `max_completion_tokens`, `max_output_tokens`,
//! `generationConfig.maxOutputTokens`; the largest if several are given) times the
//! number of choices (`n`, `candidateCount`), or [`DEFAULT_OUTPUT_ESTIMATE`] when no cap
//! is given. Requests that name no model, [`MeterClass::Embed`] calls (embeddings,
//! rerank, classify) and [`MeterClass::Free`] calls have no output.

use std::ops::Range;

use super::body_scan::{BodyFacts, BodyReader};
use crate::providers::{self, truncate_for_message, MeterClass, Provider};
use crate::CoreError;

/// Output tokens assumed when a generating request sets no cap.
pub const DEFAULT_OUTPUT_ESTIMATE: u64 = 4096;
/// Body bytes per estimated input token.
pub const INPUT_BYTES_PER_TOKEN: u64 = 4;
const MAX_MODEL_CHARS: usize = 256;

/// The cost-relevant facts of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    /// The model, from the path or the body; `None` if the request names none.
    pub model: Option<String>,
    /// The output cap the request sets, if any.
    pub max_output_tokens: Option<u64>,
    /// How many alternatives are generated (`n`, `candidateCount`), at least 1.
    pub choices: u64,
    /// Whether the response will be a stream.
    pub stream: bool,
    /// The body asks for a background response (`"background": true`, OpenAI
    /// Responses): it keeps running and billing after the answer, which names no usage.
    pub background: bool,
    /// The stored response this call reads or cancels (`GET …/responses/{id}`, `POST
    /// …/responses/{id}/cancel`): its answer carries the usage of a background response.
    pub response_id: Option<String>,
    /// Whether the call generates output tokens (not embeddings, rerank).
    pub generates: bool,
    /// Whether the call is billed at all (not token counting, moderation, tokenising).
    pub billable: bool,
    /// The body size in bytes.
    pub body_bytes: u64,
}

impl RequestFacts {
    /// Whether the response can carry a usage report worth metering: a billable call
    /// that names a model. Other responses (file downloads, listings) are not read, so
    /// a stored file that happens to contain a `usage` key cannot be mistaken for one.
    pub fn metered(&self) -> bool {
        self.billable && self.model.is_some()
    }

    /// Whether the response is read for usage: a [`metered`](Self::metered) call, or one
    /// that reads a stored response (whose answer may be a finished background
    /// response; the wallet counts it only then, see [`super::background`]).
    pub fn reads_usage(&self) -> bool {
        self.metered() || (self.billable && self.response_id.is_some())
    }

    /// Estimated input tokens (none for a call that is free or names no model).
    pub fn estimated_input_tokens(&self) -> u64 {
        if !self.metered() {
            return 0;
        }
        self.body_bytes.div_ceil(INPUT_BYTES_PER_TOKEN)
    }

    /// Estimated output tokens: the cap times the choices.
    pub fn estimated_output_tokens(&self) -> u64 {
        if !self.metered() || !self.generates {
            return 0;
        }
        self.max_output_tokens
            .unwrap_or(DEFAULT_OUTPUT_ESTIMATE)
            .saturating_mul(self.choices)
    }
}

/// Reads the facts of a request to `provider_id` at `path` (no query string) with the
/// given `content-type` and body: the whole body through one [`BodyReader`], so there
/// is one reading rule whether the body arrives whole or in chunks.
pub fn read_request(
    provider_id: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<RequestFacts, CoreError> {
    let mut reader = BodyReader::new(content_type);
    reader.feed(body);
    let read = reader.finish(body.len() as u64)?;
    facts_of(provider_id, None, path, read)
}

/// The provider and the meter class of the rule that admits `path` (and `method`, when
/// known). A path no rule admits was never sent, and has no facts.
fn meter_class(
    provider_id: &str,
    method: Option<&str>,
    path: &str,
) -> Result<(&'static Provider, MeterClass), CoreError> {
    let provider = providers::find(provider_id)?;
    let rule = provider.rule_for(method, path).ok_or_else(|| {
        CoreError::UrlNotAllowed(format!(
            "path {} is not on the allow-list for {}",
            truncate_for_message(path),
            provider.name
        ))
    })?;
    Ok((provider, rule.meter))
}

/// Whether a request to `path` is a completion the provider may be asked to report
/// stream usage for.
fn asks_usage(provider_id: &str, path: &str) -> bool {
    providers::find(provider_id).is_ok_and(|p| {
        p.include_usage
            && p.rule_for(Some("POST"), path)
                .is_some_and(|rule| rule.meter == MeterClass::Completion)
    })
}

fn check_model(model: &str) -> Result<(), CoreError> {
    if model.is_empty()
        || model.chars().count() > MAX_MODEL_CHARS
        || model.chars().any(char::is_control)
    {
        return Err(CoreError::BadRequest(format!(
            "model '{}' is not a valid model id",
            truncate_for_message(model)
        )));
    }
    Ok(())
}

/// Adds `stream_options.include_usage: true` to a streaming chat or text completion for
/// a provider that supports it, keeping any other `stream_options` and every other byte
/// of the body as it was. An explicit `include_usage: false` is turned to `true`:
/// metering needs the count, and SDKs accept the extra final chunk (empty `choices`).
/// Returns the new body, or `None` when nothing needs to change.
pub fn add_include_usage(provider_id: &str, path: &str, body: &[u8]) -> Option<Vec<u8>> {
    const OPTIONS: &[u8] = br#"{"include_usage":true}"#;
    if !asks_usage(provider_id, path) {
        return None;
    }
    let object = object_spans(body, 0)?;
    let member = |name: &str| object.members.iter().find(|m| m.key == name);
    if body.get(member("stream")?.value.clone())? != b"true" {
        return None;
    }
    let (at, remove, insert): (usize, usize, Vec<u8>) = match member("stream_options") {
        None => {
            let last = object.members.last()?;
            let mut text = br#","stream_options":"#.to_vec();
            text.extend_from_slice(OPTIONS);
            (last.value.end, 0, text)
        }
        Some(m) => {
            let value = &body[m.value.clone()];
            if value == b"null" {
                (m.value.start, value.len(), OPTIONS.to_vec())
            } else {
                let inner = object_spans(body, m.value.start)?;
                match inner.members.iter().find(|k| k.key == "include_usage") {
                    Some(k) if &body[k.value.clone()] == b"true" => return None,
                    Some(k) => (k.value.start, k.value.len(), b"true".to_vec()),
                    None if inner.members.is_empty() => {
                        (m.value.start, value.len(), OPTIONS.to_vec())
                    }
                    None => (inner.open + 1, 0, br#""include_usage":true,"#.to_vec()),
                }
            }
        }
    };
    let mut out = Vec::with_capacity(body.len() + insert.len());
    out.extend_from_slice(&body[..at]);
    out.extend_from_slice(&insert);
    out.extend_from_slice(&body[at + remove..]);
    Some(out)
}

/// The facts of a request to `provider_id` (`method`, `path`) whose body read as `body`.
pub fn facts(
    provider_id: &str,
    method: &str,
    path: &str,
    body: BodyFacts,
) -> Result<RequestFacts, CoreError> {
    facts_of(provider_id, Some(method), path, body)
}

/// [`facts`] where the method may be unknown (then any rule for the path counts).
fn facts_of(
    provider_id: &str,
    method: Option<&str>,
    path: &str,
    body: BodyFacts,
) -> Result<RequestFacts, CoreError> {
    let (provider, meter) = meter_class(provider_id, method, path)?;
    let facts = RequestFacts {
        model: provider.model_in_path(path).or(body.model),
        max_output_tokens: body.max_output_tokens,
        choices: body.choices.max(1),
        stream: body.stream || path.ends_with(":streamGenerateContent"),
        background: body.background,
        response_id: super::background::stored_response(method, path).map(str::to_string),
        generates: method.is_none_or(|m| m == "POST") && meter.generates(),
        billable: meter.billable(),
        body_bytes: body.body_bytes,
    };
    if let Some(model) = &facts.model {
        check_model(model)?;
    }
    Ok(facts)
}

/// Whether a request to `path` may get usage reporting switched on (a
/// [`MeterClass::Completion`] call to a provider that accepts
/// `stream_options.include_usage`).
pub fn may_add_include_usage(provider_id: &str, path: &str) -> bool {
    asks_usage(provider_id, path)
}

struct ObjectSpans {
    open: usize,
    members: Vec<Member>,
}

struct Member {
    key: String,
    value: Range<usize>,
}

/// The members of the object starting at `start` (after whitespace), or `None` if the
/// bytes there are not an object. Meant for bodies serde has already accepted; on
/// anything malformed it returns `None` rather than guessing.
fn object_spans(b: &[u8], start: usize) -> Option<ObjectSpans> {
    let mut i = skip_ws(b, start);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let open = i;
    i += 1;
    let mut members = Vec::new();
    loop {
        i = skip_ws(b, i);
        match b.get(i)? {
            b'}' => return Some(ObjectSpans { open, members }),
            b',' if !members.is_empty() => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_end = string_end(b, i)?;
        let key: String = serde_json::from_slice(&b[i..key_end]).ok()?;
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let end = value_end(b, i)?;
        members.push(Member { key, value: i..end });
        i = end;
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// `b[i]` is an opening quote; the index just past the closing one.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        match b.get(j)? {
            b'\\' => j += 2,
            b'"' => return Some(j + 1),
            _ => j += 1,
        }
    }
}

/// The index just past the value starting at `b[i]`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j)? {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        _ => {
            let len = b[i..]
                .iter()
                .position(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b',' | b'}' | b']'))
                .unwrap_or(b.len() - i);
            Some(i + len)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn read(provider: &str, path: &str, body: &str) -> Result<RequestFacts, CoreError> {
        read_request(provider, path, Some("application/json"), body.as_bytes())
    }

    #[test]
    fn reads_model_caps_stream_and_choices() {
        let f = read(
            "openai",
            "/v1/chat/completions",
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"{\"model\":\"x\"}"}],"max_tokens":100,"max_completion_tokens":300,"n":2,"stream":true}"#,
        )
        .expect("reads");
        assert_eq!(f.model.as_deref(), Some("gpt-4o"));
        assert_eq!(
            (f.max_output_tokens, f.choices, f.stream),
            (Some(300), 2, true)
        );
        assert_eq!(f.estimated_output_tokens(), 600);
        assert_eq!(f.estimated_input_tokens(), f.body_bytes.div_ceil(4));
        let f = read(
            "anthropic",
            "/v1/messages",
            r#"{"model":"claude-haiku-4-5","max_tokens":64,"messages":[]}"#,
        )
        .expect("reads");
        assert_eq!((f.max_output_tokens, f.stream), (Some(64), false));
        let f = read("openai", "/v1/responses", r#"{"model":"o3","input":"hi"}"#).expect("reads");
        assert_eq!(f.estimated_output_tokens(), DEFAULT_OUTPUT_ESTIMATE);
    }

    #[test]
    fn gemini_and_azure_read_the_model_from_the_path() {
        let f = read(
            "gemini",
            "/v1beta/models/gemini-2.5-pro:streamGenerateContent",
            r#"{"contents":[],"generationConfig":{"maxOutputTokens":512,"candidateCount":3}}"#,
        )
        .expect("reads");
        assert_eq!(f.model.as_deref(), Some("gemini-2.5-pro"));
        assert_eq!(
            (f.max_output_tokens, f.choices, f.stream),
            (Some(512), 3, true)
        );
        let f = read(
            "gemini",
            "/v1/models/gemini-2.5-flash:generateContent",
            r#"{"model":"ignored","generation_config":{"max_output_tokens":9}}"#,
        )
        .expect("reads");
        assert_eq!(
            (f.model.as_deref(), f.max_output_tokens, f.stream),
            (Some("gemini-2.5-flash"), Some(9), false)
        );
        let f = read(
            "azure_openai",
            "/openai/deployments/my-gpt/chat/completions",
            "{}",
        )
        .expect("reads");
        assert_eq!(f.model.as_deref(), Some("my-gpt"));
        let f = read(
            "gemini",
            "/v1beta/models/text-embedding-004:embedContent",
            "{}",
        )
        .expect("reads");
        assert_eq!(f.estimated_output_tokens(), 0);
        assert!(f.estimated_input_tokens() > 0 && f.metered());
        let f = read("gemini", "/v1beta/models/gemini-2.5-pro:countTokens", "{}").expect("reads");
        assert_eq!(f.estimated_input_tokens() + f.estimated_output_tokens(), 0);
        assert!(!f.metered());
        let count = r#"{"model":"claude-haiku-4-5"}"#;
        let f = read("anthropic", "/v1/messages/count_tokens", count).expect("reads");
        assert!(!f.metered() && f.model.is_some());
    }

    #[test]
    fn ambiguous_bodies_are_refused() {
        let refused = |path: &str, ct: Option<&str>, body: &str| {
            let got = read_request("openai", path, ct, body.as_bytes());
            assert!(
                matches!(got, Err(CoreError::BadRequest(_))),
                "{body:?}: {got:?}"
            );
        };
        let chat = "/v1/chat/completions";
        refused(
            chat,
            Some("application/json"),
            r#"{"model":"gpt-4o-mini","model":"o1"}"#,
        );
        // Keys serde itself ignores are checked too: the provider may read the last
        // `stream_options` while the rewrite reads the first.
        refused(
            chat,
            Some("application/json"),
            r#"{"model":"m","stream_options":{"include_usage":true},"stream_options":{}}"#,
        );
        refused(chat, Some("text/plain"), r#"{"model":"a","model":"b"}"#);
        refused(chat, Some("text/plain"), r#" {"model":"a",}"#);
        refused(chat, None, "\u{feff}{\"model\":\"a\"}");
        refused(chat, Some("application/json"), r#"{"model":["gpt-4o"]}"#);
        refused(chat, Some("application/json"), r#"{"model":""}"#);
        refused(chat, Some("application/json"), r#"{"model":"a\u0000"}"#);
        refused(chat, Some("application/json"), "not json");
        let empty =
            read_request("openai", "/v1/files", Some("application/json"), b" \n").expect("reads");
        assert_eq!(empty.model, None);
        // A body that is only text with a non-JSON type names no model.
        let f = read_request("openai", chat, Some("text/plain"), b"hello").expect("reads");
        assert_eq!(f.model, None);
        assert_eq!(f.estimated_input_tokens() + f.estimated_output_tokens(), 0);
    }

    fn form(boundary: &str, fields: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, value) in fields {
            out.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
            );
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    #[test]
    fn multipart_forms_name_their_model_once() {
        let ct = "multipart/form-data; boundary=----x42";
        let body = form(
            "----x42",
            &[
                ("file", "RIFF\r\n--not-a-boundary"),
                ("model", "gpt-4o-transcribe"),
                ("stream", "true"),
            ],
        );
        let f = read_request("openai", "/v1/audio/transcriptions", Some(ct), &body).expect("reads");
        assert_eq!(
            (f.model.as_deref(), f.stream),
            (Some("gpt-4o-transcribe"), true)
        );
        let twice = form(
            "----x42",
            &[("model", "whisper-1"), ("model", "gpt-4o-transcribe")],
        );
        assert!(read_request("openai", "/v1/audio/transcriptions", Some(ct), &twice).is_err());
        let no_boundary = read_request("openai", "/v1/files", Some("multipart/form-data"), &body);
        assert!(no_boundary.is_err());
        let truncated = &body[..body.len() - 20];
        assert!(read_request("openai", "/v1/files", Some(ct), truncated).is_err());
        let files = form("b", &[("purpose", "batch"), ("file", "{}")]);
        let f = read_request(
            "openai",
            "/v1/files",
            Some("multipart/form-data; boundary=\"b\""),
            &files,
        )
        .expect("reads");
        assert_eq!(f.model, None);
    }

    /// The rewrite of a chat completion body, at the provider's own chat path.
    fn rewrite(provider: &str, body: &str) -> Option<String> {
        let path = match provider {
            "groq" => "/openai/v1/chat/completions",
            _ => "/v1/chat/completions",
        };
        add_include_usage(provider, path, body.as_bytes())
            .map(|b| String::from_utf8(b).expect("utf-8"))
    }

    #[test]
    fn include_usage_is_added_keeping_everything_else() {
        assert_eq!(
            rewrite("openai", r#"{"model":"m","stream":true}"#).as_deref(),
            Some(r#"{"model":"m","stream":true,"stream_options":{"include_usage":true}}"#)
        );
        assert_eq!(
            rewrite(
                "openai",
                "{ \"stream\" : true ,\n \"stream_options\": {\"x\":1} }"
            )
            .as_deref(),
            Some("{ \"stream\" : true ,\n \"stream_options\": {\"include_usage\":true,\"x\":1} }")
        );
        assert_eq!(
            rewrite(
                "xai",
                r#"{"stream":true,"stream_options":{"include_usage":false}}"#
            )
            .as_deref(),
            Some(r#"{"stream":true,"stream_options":{"include_usage":true}}"#)
        );
        assert_eq!(
            rewrite("groq", r#"{"stream":true,"stream_options":null}"#).as_deref(),
            Some(r#"{"stream":true,"stream_options":{"include_usage":true}}"#)
        );
        assert_eq!(
            rewrite("deepseek", r#"{"stream":true,"stream_options":{ }}"#).as_deref(),
            Some(r#"{"stream":true,"stream_options":{"include_usage":true}}"#)
        );
        assert_eq!(
            rewrite(
                "openai",
                r#"{"stream":true,"stream_options":{"include_usage":true}}"#
            ),
            None
        );
        assert_eq!(rewrite("openai", r#"{"model":"m","stream":false}"#), None);
        assert_eq!(rewrite("openai", r#"{"model":"m"}"#), None);
        assert_eq!(rewrite("mistral", r#"{"stream":true}"#), None);
        // Only on a path the provider's rules admit as a completion.
        assert_eq!(
            add_include_usage("groq", "/v1/chat/completions", br#"{"stream":true}"#),
            None
        );
        assert_eq!(
            add_include_usage("openai", "/v1/embeddings", br#"{"stream":true}"#),
            None
        );
        assert_eq!(
            add_include_usage("openai", "/v1/responses", br#"{"stream":true}"#),
            None
        );
        // Strings that look like keys are not keys.
        let tricky = r#"{"messages":[{"content":"\"stream_options\":1}"}],"stream":true}"#;
        let out = rewrite("openai", tricky).expect("rewritten");
        let v: Value = serde_json::from_str(&out).expect("still JSON");
        assert_eq!(v["stream_options"]["include_usage"], Value::Bool(true));
        assert_eq!(v["messages"][0]["content"], "\"stream_options\":1}");
    }
}

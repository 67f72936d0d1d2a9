//! Token usage read from provider responses as they stream past.
//!
//! [`ResponseMeter`] watches a copy of a response body, chunk by chunk, split anywhere,
//! and never holds more than one SSE event (see [`super::sse`]) or one captured usage
//! object (an incremental JSON path scanner). It never changes what the page receives.
//!
//! Which [`Dialect`] a response is read in is a fact of the provider's row (or of the
//! path rule that admitted the request). Where each dialect reports usage (all counts
//! are cumulative for the request):
//! - **Anthropic** Messages: `usage` on the message; when streaming, `message_start`
//!   carries `message.usage` (input and cache counts, a first output count) and each
//!   `message_delta` carries `usage` with the cumulative `output_tokens` (and, on newer
//!   API versions, cumulative input and cache counts). `input_tokens` excludes cache
//!   reads (`cache_read_input_tokens`) and writes (`cache_creation_input_tokens`, split by
//!   lifetime in `cache_creation.ephemeral_{5m,1h}_input_tokens`).
//! - **OpenAI** and OpenAI-compatible chat: `usage` (`prompt_tokens` including
//!   `prompt_tokens_details.cached_tokens`, `completion_tokens` including
//!   `completion_tokens_details.reasoning_tokens`); when streaming, one extra final chunk
//!   with empty `choices` and `usage` (only with `stream_options.include_usage`; see
//!   [`super::request_body`]). Responses API: `usage` with `input_tokens`/`output_tokens`
//!   and `*_details`, in `response.usage` of `response.completed` (also `.incomplete`,
//!   `.failed`). DeepSeek adds `prompt_cache_hit_tokens`; OpenRouter adds `usage.cost`
//!   (USD); Groq streams put usage in `x_groq.usage` of the last chunk.
//! - **Gemini**: `usageMetadata` on every chunk (`promptTokenCount` including
//!   `cachedContentTokenCount`, plus `toolUsePromptTokenCount`; `candidatesTokenCount`
//!   plus `thoughtsTokenCount` for output). The last chunk has `finishReason`.
//! - **Cohere** v2: `usage.billed_units` (what is billed) and `usage.tokens`; streaming
//!   puts it in `delta.usage` of `message-end`. v1: `meta`, or `response.meta` of the
//!   final `stream-end` line.
//!
//! A report is *complete* when the provider's final usage arrived. When a stream is cut
//! short, the counts so far are still returned, marked incomplete, so the caller can
//! settle conservatively (see [`super::budget::Settlement`]).

use serde::{Deserialize, Deserializer, Serialize};

use super::background::ResponseObject;
use super::json_scan::{JsonScanner, Seg};
use super::request_body::RequestFacts;
use super::sse::{SseEvent, SseSplitter};
use crate::providers::{self, Provider};

/// Token counts of one request, normalised across providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    /// Every input token, cached or not.
    pub input_tokens: u64,
    /// Every output token, reasoning and thoughts included.
    pub output_tokens: u64,
    /// The part of `input_tokens` read from a prompt cache.
    #[serde(default)]
    pub cache_read_tokens: u64,
    /// The part of `input_tokens` written to a prompt cache.
    #[serde(default)]
    pub cache_write_tokens: u64,
    /// The part of `cache_write_tokens` written with a one-hour lifetime (Anthropic).
    #[serde(default)]
    pub cache_write_1h_tokens: u64,
    /// The part of `output_tokens` spent on reasoning or thoughts.
    #[serde(default)]
    pub reasoning_tokens: u64,
    /// A cost the provider itself reported (OpenRouter), in nano-USD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_cost_nano_usd: Option<u64>,
}

impl Usage {
    /// Input plus output tokens.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens.saturating_add(self.output_tokens)
    }
}

/// How a provider's responses report usage: each provider row's
/// [`Provider::dialect`](crate::providers::Provider::dialect), or its path rule's.
pub use crate::providers::Dialect;

impl Dialect {
    /// The dialect of a request to `provider` at `path` (Cohere's `/compatibility/...`
    /// endpoints answer in OpenAI's shape: their rules say so).
    pub fn for_request(provider: &Provider, path: &str) -> Self {
        provider.dialect_for(path)
    }

    fn paths(self) -> &'static [&'static [Seg]] {
        use Seg::{AnyIndex, Key};
        match self {
            Self::Anthropic => &[
                &[Key("usage")],
                &[Key("model")],
                &[Key("message"), Key("usage")],
                &[Key("message"), Key("model")],
            ],
            Self::OpenAi => &[
                &[Key("usage")],
                &[Key("model")],
                &[Key("x_groq"), Key("usage")],
                &[Key("response"), Key("usage")],
                &[Key("response"), Key("model")],
                // A Responses object's id and `background` flag (whole, or in an event).
                &[Key("id")],
                &[Key("response"), Key("id")],
                &[Key("background")],
                &[Key("response"), Key("background")],
            ],
            Self::Gemini => &[
                &[Key("usageMetadata")],
                &[Key("modelVersion")],
                &[Key("candidates"), AnyIndex, Key("finishReason")],
            ],
            Self::Cohere => &[
                &[Key("usage")],
                &[Key("delta"), Key("usage")],
                &[Key("meta")],
                &[Key("response"), Key("meta")],
            ],
        }
    }
}

/// What a [`ResponseMeter`] learned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metered {
    /// The counts seen, if any usage was reported at all.
    pub usage: Option<Usage>,
    /// The model the provider says answered (more precise than the request's alias).
    pub model: Option<String>,
    /// Whether the provider's final usage report arrived.
    pub complete: bool,
}

#[derive(Debug)]
enum Mode {
    Sse(SseSplitter),
    Json(JsonScanner),
    /// Not a body that reports usage (audio, images, files).
    Ignore,
}

/// Reads usage from a copy of one response body.
#[derive(Debug)]
pub struct ResponseMeter {
    dialect: Dialect,
    mode: Mode,
    fold: Fold,
    seen_usage: bool,
    model: Option<String>,
    final_seen: bool,
    object: ResponseObject,
}

/// Longest response id kept (OpenAI's are about 50 characters).
const MAX_RESPONSE_ID_CHARS: usize = 256;

impl ResponseMeter {
    /// A meter for a response in `dialect` with the given `content-type` header.
    /// `text/event-stream` is read as SSE; any JSON type (or none) as JSON, NDJSON or a
    /// JSON array stream; anything else is ignored.
    pub fn new(dialect: Dialect, content_type: Option<&str>) -> Self {
        let essence = content_type
            .and_then(|ct| ct.split(';').next())
            .map(|ct| ct.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let mode = if essence == "text/event-stream" {
            Mode::Sse(SseSplitter::new())
        } else if essence.is_empty() || essence.contains("json") {
            Mode::Json(JsonScanner::new(dialect.paths()))
        } else {
            Mode::Ignore
        };
        Self {
            dialect,
            mode,
            fold: Fold::default(),
            seen_usage: false,
            model: None,
            final_seen: false,
            object: ResponseObject::default(),
        }
    }

    /// The meter for the response to a request: reads usage only for a billable call
    /// that named a model, or that reads a stored response
    /// ([`RequestFacts::reads_usage`]), and otherwise reads nothing.
    /// An unknown `provider_id` (whose request facts could not have been read) gets a
    /// meter that reads nothing, so the reservation settles as "at least".
    pub fn for_request(
        provider_id: &str,
        path: &str,
        facts: &RequestFacts,
        content_type: Option<&str>,
    ) -> Self {
        let Ok(provider) = providers::find(provider_id) else {
            let mut meter = Self::new(Dialect::OpenAi, content_type);
            meter.mode = Mode::Ignore;
            return meter;
        };
        let mut meter = Self::new(Dialect::for_request(provider, path), content_type);
        if !facts.reads_usage() {
            meter.mode = Mode::Ignore;
        }
        meter
    }

    /// Whether this meter reads the body at all (not for audio, images, files or
    /// unmetered calls): the caller can skip copying bytes that would be ignored.
    pub fn is_reading(&self) -> bool {
        !matches!(self.mode, Mode::Ignore)
    }

    /// Feeds the next chunk of the body, exactly as received.
    pub fn feed(&mut self, chunk: &[u8]) {
        match &mut self.mode {
            Mode::Sse(splitter) => {
                for event in splitter.feed(chunk) {
                    self.event(&event);
                }
            }
            Mode::Json(scanner) => {
                scanner.feed(chunk);
                let captures = scanner.take_captures();
                self.apply_all(captures);
            }
            Mode::Ignore => {}
        }
    }

    /// The counts seen so far (for a stream that is still running or was cut off).
    pub fn usage_so_far(&self) -> Option<Usage> {
        self.seen_usage.then(|| self.fold.normalise(self.dialect))
    }

    /// Ends the body (normally, on error or on abort) and returns what was learned.
    pub fn finish(self) -> Metered {
        self.finish_with_object().0
    }

    /// [`finish`](Self::finish), plus what the answer said about the OpenAI Responses
    /// object it is (or carries in its events): its id and whether it runs in the
    /// background.
    pub fn finish_with_object(mut self) -> (Metered, ResponseObject) {
        match std::mem::replace(&mut self.mode, Mode::Ignore) {
            Mode::Sse(splitter) => {
                if let Some(event) = splitter.finish() {
                    self.event(&event);
                }
            }
            Mode::Json(mut scanner) => {
                scanner.finish();
                let captures = scanner.take_captures();
                self.apply_all(captures);
                // A whole JSON document (or array stream) that reported usage is final.
                self.final_seen |= self.seen_usage && scanner.documents_complete();
            }
            Mode::Ignore => {}
        }
        let metered = Metered {
            usage: self.usage_so_far(),
            model: self.model,
            complete: self.final_seen && self.seen_usage,
        };
        (metered, self.object)
    }

    fn event(&mut self, event: &SseEvent) {
        let mut scanner = JsonScanner::new(self.dialect.paths());
        scanner.feed(event.data.as_bytes());
        scanner.finish();
        let captures = scanner.take_captures();
        self.apply_all(captures);
    }

    fn apply_all(&mut self, captures: Vec<(usize, Vec<u8>)>) {
        for (path, bytes) in captures {
            self.apply(path, &bytes);
        }
    }

    /// Applies one captured value; `null` and unreadable values change nothing.
    fn apply(&mut self, path: usize, bytes: &[u8]) {
        use Dialect::*;
        let patch = match (self.dialect, path) {
            (Anthropic, 1 | 3) | (OpenAi, 1 | 4) | (Gemini, 1) => {
                if let Ok(model) = serde_json::from_slice::<String>(bytes) {
                    if !model.is_empty() {
                        self.model = Some(model);
                    }
                }
                return;
            }
            (Gemini, 2) => {
                self.final_seen |= serde_json::from_slice::<String>(bytes).is_ok();
                return;
            }
            (OpenAi, 5 | 6) => {
                if let Ok(id) = serde_json::from_slice::<String>(bytes) {
                    if !id.is_empty() && id.chars().count() <= MAX_RESPONSE_ID_CHARS {
                        self.object.id = Some(id);
                    }
                }
                return;
            }
            (OpenAi, 7 | 8) => {
                self.object.background |= bytes == b"true";
                return;
            }
            (Anthropic, _) => parse::<AnthropicUsage>(bytes).map(AnthropicUsage::into_fold),
            (OpenAi, _) => parse::<OpenAiUsage>(bytes).map(OpenAiUsage::into_fold),
            (Gemini, _) => parse::<GeminiUsage>(bytes).map(GeminiUsage::into_fold),
            (Cohere, _) => parse::<CohereUsage>(bytes).map(CohereUsage::into_fold),
        };
        let Some(patch) = patch else { return };
        self.fold.apply(&patch);
        self.seen_usage = true;
        // Anthropic's `message.usage` (message_start) is a first report, not the last.
        // Gemini's report is final only with the chunk that has a finish reason.
        self.final_seen |= match self.dialect {
            Anthropic => path == 0,
            Gemini => false,
            OpenAi | Cohere => true,
        };
    }
}

/// A usage object's JSON; `None` for `null` or a value of the wrong shape.
fn parse<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Option<T> {
    serde_json::from_slice::<Option<T>>(bytes).ok().flatten()
}

/// Raw counts, each replaced whenever a later report carries it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Fold {
    /// Anthropic: uncached input; Gemini: prompt; others: all input.
    input: Option<u64>,
    /// Gemini: tool-use prompt tokens (billed as input).
    extra_input: Option<u64>,
    /// Gemini: candidates only (thoughts are `reasoning`); others: all output.
    output: Option<u64>,
    cache_read: Option<u64>,
    cache_write: Option<u64>,
    cache_write_1h: Option<u64>,
    reasoning: Option<u64>,
    cost_nano_usd: Option<u64>,
}

impl Fold {
    fn apply(&mut self, p: &Fold) {
        let pairs = [
            (&mut self.input, p.input),
            (&mut self.extra_input, p.extra_input),
            (&mut self.output, p.output),
            (&mut self.cache_read, p.cache_read),
            (&mut self.cache_write, p.cache_write),
            (&mut self.cache_write_1h, p.cache_write_1h),
            (&mut self.reasoning, p.reasoning),
            (&mut self.cost_nano_usd, p.cost_nano_usd),
        ];
        for (slot, new) in pairs {
            if new.is_some() {
                *slot = new;
            }
        }
    }

    fn normalise(&self, dialect: Dialect) -> Usage {
        let n = |v: Option<u64>| v.unwrap_or(0);
        let cache_read = n(self.cache_read);
        let cache_write = n(self.cache_write);
        let (input, output, reasoning) = match dialect {
            Dialect::Anthropic => (
                n(self.input)
                    .saturating_add(cache_read)
                    .saturating_add(cache_write),
                n(self.output),
                n(self.reasoning),
            ),
            Dialect::Gemini => (
                n(self.input).saturating_add(n(self.extra_input)),
                n(self.output).saturating_add(n(self.reasoning)),
                n(self.reasoning),
            ),
            Dialect::OpenAi | Dialect::Cohere => (n(self.input), n(self.output), n(self.reasoning)),
        };
        // Parts never exceed their whole, whatever a provider reports.
        let cache_read = cache_read.min(input);
        let cache_write = cache_write.min(input - cache_read);
        Usage {
            input_tokens: input,
            output_tokens: output,
            cache_read_tokens: cache_read,
            cache_write_tokens: cache_write,
            cache_write_1h_tokens: n(self.cache_write_1h).min(cache_write),
            reasoning_tokens: reasoning.min(output),
            reported_cost_nano_usd: self.cost_nano_usd,
        }
    }
}

/// A token count: a non-negative integer (an integral float is accepted); anything
/// else reads as absent rather than failing the whole report.
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.as_ref().and_then(|v| {
        v.as_u64().or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && f.fract() == 0.0 && *f < 9.0e15)
                .map(|f| f as u64)
        })
    }))
}

/// A USD amount reported by the provider, as nano-USD.
fn usd<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(v.and_then(|v| v.as_f64())
        .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1.0e9)
        .map(|f| (f * 1e9).round() as u64))
}

#[derive(Deserialize)]
struct AnthropicUsage {
    #[serde(default, deserialize_with = "count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    output_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation: Option<AnthropicCacheCreation>,
}

#[derive(Deserialize)]
struct AnthropicCacheCreation {
    #[serde(default, deserialize_with = "count")]
    ephemeral_1h_input_tokens: Option<u64>,
}

impl AnthropicUsage {
    fn into_fold(self) -> Fold {
        Fold {
            input: self.input_tokens,
            output: self.output_tokens,
            cache_read: self.cache_read_input_tokens,
            cache_write: self.cache_creation_input_tokens,
            cache_write_1h: self
                .cache_creation
                .and_then(|c| c.ephemeral_1h_input_tokens),
            ..Fold::default()
        }
    }
}

/// Chat Completions names (`prompt_tokens`, …) and Responses API names
/// (`input_tokens`, …) are separate fields, so a server that sends both still parses.
#[derive(Deserialize)]
struct OpenAiUsage {
    #[serde(default, deserialize_with = "count")]
    prompt_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    completion_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    output_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<OpenAiInputDetails>,
    #[serde(default)]
    input_tokens_details: Option<OpenAiInputDetails>,
    #[serde(default)]
    completion_tokens_details: Option<OpenAiOutputDetails>,
    #[serde(default)]
    output_tokens_details: Option<OpenAiOutputDetails>,
    /// DeepSeek's name for cached input.
    #[serde(default, deserialize_with = "count")]
    prompt_cache_hit_tokens: Option<u64>,
    /// OpenRouter's reported cost in USD.
    #[serde(default, deserialize_with = "usd")]
    cost: Option<u64>,
}

#[derive(Deserialize)]
struct OpenAiInputDetails {
    #[serde(default, deserialize_with = "count")]
    cached_tokens: Option<u64>,
}

#[derive(Deserialize)]
struct OpenAiOutputDetails {
    #[serde(default, deserialize_with = "count")]
    reasoning_tokens: Option<u64>,
}

impl OpenAiUsage {
    fn into_fold(self) -> Fold {
        let input = self.prompt_tokens.or(self.input_tokens);
        let cached = self
            .prompt_tokens_details
            .or(self.input_tokens_details)
            .and_then(|d| d.cached_tokens);
        let reasoning = self
            .completion_tokens_details
            .or(self.output_tokens_details)
            .and_then(|d| d.reasoning_tokens);
        Fold {
            input,
            // Embeddings report no completion: their output is zero, not unknown.
            output: self
                .completion_tokens
                .or(self.output_tokens)
                .or(input.map(|_| 0)),
            cache_read: cached.or(self.prompt_cache_hit_tokens),
            reasoning,
            cost_nano_usd: self.cost,
            ..Fold::default()
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GeminiUsage {
    #[serde(default, deserialize_with = "count")]
    prompt_token_count: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    candidates_token_count: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    cached_content_token_count: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    thoughts_token_count: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    tool_use_prompt_token_count: Option<u64>,
}

impl GeminiUsage {
    fn into_fold(self) -> Fold {
        Fold {
            input: self.prompt_token_count,
            extra_input: self.tool_use_prompt_token_count,
            output: self.candidates_token_count,
            cache_read: self.cached_content_token_count,
            reasoning: self.thoughts_token_count,
            ..Fold::default()
        }
    }
}

#[derive(Deserialize)]
struct CohereUsage {
    #[serde(default)]
    billed_units: Option<CohereCounts>,
    #[serde(default)]
    tokens: Option<CohereCounts>,
}

#[derive(Deserialize)]
struct CohereCounts {
    #[serde(default, deserialize_with = "count")]
    input_tokens: Option<u64>,
    #[serde(default, deserialize_with = "count")]
    output_tokens: Option<u64>,
}

impl CohereUsage {
    /// Billed units are what the account pays for; `tokens` (which include Cohere's
    /// own prompt template) are used only when no billed units were reported.
    fn into_fold(self) -> Fold {
        let pick = |f: fn(&CohereCounts) -> Option<u64>| {
            self.billed_units
                .as_ref()
                .and_then(f)
                .or_else(|| self.tokens.as_ref().and_then(f))
        };
        Fold {
            input: pick(|c| c.input_tokens),
            output: pick(|c| c.output_tokens),
            ..Fold::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meter(dialect: Dialect, ct: &str, body: &str) -> Metered {
        let mut m = ResponseMeter::new(dialect, Some(ct));
        m.feed(body.as_bytes());
        m.finish()
    }

    #[test]
    fn anthropic_json_adds_cache_counts_to_input() {
        let body = r#"{"id":"msg_1","type":"message","model":"claude-sonnet-4-5-20250929",
            "content":[{"type":"text","text":"hi"}],
            "usage":{"input_tokens":12,"cache_creation_input_tokens":100,"cache_read_input_tokens":2000,
            "cache_creation":{"ephemeral_5m_input_tokens":40,"ephemeral_1h_input_tokens":60},"output_tokens":7}}"#;
        let got = meter(Dialect::Anthropic, "application/json", body);
        assert!(got.complete);
        assert_eq!(got.model.as_deref(), Some("claude-sonnet-4-5-20250929"));
        let u = got.usage.expect("usage");
        assert_eq!((u.input_tokens, u.output_tokens), (2112, 7));
        assert_eq!((u.cache_read_tokens, u.cache_write_tokens), (2000, 100));
        assert_eq!(u.cache_write_1h_tokens, 60);
    }

    #[test]
    fn anthropic_stream_cut_before_message_delta_is_incomplete() {
        let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude-haiku-4-5\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n";
        let got = meter(Dialect::Anthropic, "text/event-stream", body);
        assert!(!got.complete);
        assert_eq!(
            got.usage.map(|u| (u.input_tokens, u.output_tokens)),
            Some((25, 1))
        );
        let done = format!("{body}event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{}},\"usage\":{{\"output_tokens\":15}}}}\n\n");
        let got = meter(
            Dialect::Anthropic,
            "text/event-stream; charset=utf-8",
            &done,
        );
        assert!(got.complete);
        assert_eq!(
            got.usage.map(|u| (u.input_tokens, u.output_tokens)),
            Some((25, 15))
        );
    }

    #[test]
    fn openai_null_usage_chunks_change_nothing() {
        let body = "data: {\"model\":\"gpt-4o-mini\",\"choices\":[{\"delta\":{\"content\":\"x\"}}],\"usage\":null}\n\ndata: [DONE]\n\n";
        let got = meter(Dialect::OpenAi, "text/event-stream", body);
        assert_eq!((got.usage, got.complete), (None, false));
        assert_eq!(got.model.as_deref(), Some("gpt-4o-mini"));
    }

    #[test]
    fn openai_embeddings_and_deepseek_and_openrouter() {
        let emb = r#"{"object":"list","data":[{"embedding":[0.1,-0.2]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
        let u = meter(Dialect::OpenAi, "application/json", emb).usage;
        assert_eq!(u.map(|u| (u.input_tokens, u.output_tokens)), Some((8, 0)));
        let ds = r#"{"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_cache_hit_tokens":64,"prompt_cache_miss_tokens":36}}"#;
        let u = meter(Dialect::OpenAi, "application/json", ds).usage;
        assert_eq!(u.map(|u| u.cache_read_tokens), Some(64));
        let or = r#"{"usage":{"prompt_tokens":10,"completion_tokens":5,"cost":0.0000125}}"#;
        let u = meter(Dialect::OpenAi, "application/json", or).usage;
        assert_eq!(u.and_then(|u| u.reported_cost_nano_usd), Some(12_500));
    }

    #[test]
    fn gemini_thoughts_are_output_and_tool_prompts_are_input() {
        let body = r#"{"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],
            "usageMetadata":{"promptTokenCount":50,"candidatesTokenCount":10,"thoughtsTokenCount":30,
            "toolUsePromptTokenCount":5,"cachedContentTokenCount":20,"totalTokenCount":95},"modelVersion":"gemini-2.5-flash"}"#;
        let got = meter(Dialect::Gemini, "application/json; charset=UTF-8", body);
        let u = got.usage.expect("usage");
        assert_eq!(
            (u.input_tokens, u.output_tokens, u.reasoning_tokens),
            (55, 40, 30)
        );
        assert_eq!(u.cache_read_tokens, 20);
        assert_eq!(u.total_tokens(), 95);
        assert!(got.complete);
    }

    #[test]
    fn cohere_prefers_billed_units() {
        let body = r#"{"id":"x","message":{"role":"assistant"},"usage":{"billed_units":{"input_tokens":21,"output_tokens":124},"tokens":{"input_tokens":186,"output_tokens":124}}}"#;
        let u = meter(Dialect::Cohere, "application/json", body).usage;
        assert_eq!(
            u.map(|u| (u.input_tokens, u.output_tokens)),
            Some((21, 124))
        );
        let only_tokens = r#"{"usage":{"tokens":{"input_tokens":5,"output_tokens":3}}}"#;
        let u = meter(Dialect::Cohere, "application/json", only_tokens).usage;
        assert_eq!(u.map(|u| (u.input_tokens, u.output_tokens)), Some((5, 3)));
    }

    #[test]
    fn parts_are_clamped_and_odd_numbers_tolerated() {
        let body = r#"{"usage":{"prompt_tokens":10.0,"completion_tokens":"7","prompt_tokens_details":{"cached_tokens":50},"completion_tokens_details":{"reasoning_tokens":-1}}}"#;
        let u = meter(Dialect::OpenAi, "application/json", body)
            .usage
            .expect("usage");
        assert_eq!((u.input_tokens, u.output_tokens), (10, 0));
        assert_eq!((u.cache_read_tokens, u.reasoning_tokens), (10, 0));
    }

    #[test]
    fn unmetered_calls_are_not_read() {
        let read = |path: &str, body: &[u8]| {
            crate::metering::request_body::read_request("openai", path, None, body).expect("reads")
        };
        let spoof = br#"{"usage":{"prompt_tokens":1000000,"completion_tokens":1}}"#;
        for (path, body) in [
            ("/v1/files/file-1/content", &b""[..]),
            (
                "/v1/moderations",
                br#"{"model":"omni-moderation-latest","input":"x"}"#,
            ),
        ] {
            let facts = read(path, body);
            let mut m =
                ResponseMeter::for_request("openai", path, &facts, Some("application/json"));
            m.feed(spoof);
            assert_eq!(m.finish().usage, None, "{path}");
        }
        let facts = read("/v1/chat/completions", br#"{"model":"gpt-4o"}"#);
        let mut m = ResponseMeter::for_request("openai", "/v1/chat/completions", &facts, None);
        m.feed(spoof);
        assert_eq!(m.finish().usage.map(|u| u.input_tokens), Some(1_000_000));
    }

    #[test]
    fn a_responses_object_says_its_id_and_whether_it_runs_in_the_background() {
        let object = |ct: &str, body: &str| {
            let mut m = ResponseMeter::new(Dialect::OpenAi, Some(ct));
            m.feed(body.as_bytes());
            m.finish_with_object()
        };
        let queued = r#"{"id":"resp_123","object":"response","status":"queued","background":true,
            "model":"o3-2025-04-16","output":[{"id":"msg_1","type":"message"}],"usage":null}"#;
        let (metered, obj) = object("application/json", queued);
        assert_eq!((metered.usage, metered.complete), (None, false));
        assert_eq!(obj.id.as_deref(), Some("resp_123"));
        assert!(obj.background);
        let foreground =
            r#"{"id":"resp_9","background":false,"usage":{"input_tokens":3,"output_tokens":4}}"#;
        let (metered, obj) = object("application/json", foreground);
        assert!(metered.complete);
        assert_eq!((obj.id.as_deref(), obj.background), (Some("resp_9"), false));
        // Streamed: the id and flag ride on the events' `response`; nested ids are not it.
        let stream = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_7\",\"background\":true,\"usage\":null}}\n\n\
            event: response.output_item.added\ndata: {\"type\":\"response.output_item.added\",\"item\":{\"id\":\"msg_7\"}}\n\n";
        let (_, obj) = object("text/event-stream", stream);
        assert_eq!((obj.id.as_deref(), obj.background), (Some("resp_7"), true));
        // A string "true" is not the flag.
        let (_, obj) = object("application/json", r#"{"id":"resp_1","background":"true"}"#);
        assert!(!obj.background);
    }

    #[test]
    fn a_stored_response_is_read_though_its_request_names_no_model() {
        let read = |method: &str, path: &str| {
            let facts = crate::metering::request_body::facts(
                "openai",
                method,
                path,
                crate::metering::body_scan::BodyFacts::default(),
            )
            .expect("facts");
            let mut m =
                ResponseMeter::for_request("openai", path, &facts, Some("application/json"));
            m.feed(br#"{"id":"resp_1","background":true,"model":"o3","usage":{"input_tokens":10,"output_tokens":20}}"#);
            (facts, m.finish())
        };
        let (facts, metered) = read("GET", "/v1/responses/resp_1");
        assert_eq!(facts.response_id.as_deref(), Some("resp_1"));
        assert_eq!(
            (facts.model.as_deref(), facts.estimated_input_tokens()),
            (None, 0)
        );
        assert_eq!(metered.usage.map(|u| u.total_tokens()), Some(30));
        assert_eq!(metered.model.as_deref(), Some("o3"));
        let (facts, metered) = read("POST", "/v1/responses/resp_1/cancel");
        assert_eq!(
            facts.estimated_output_tokens(),
            0,
            "a cancel reserves nothing"
        );
        assert!(metered.usage.is_some());
        // Listing a response's input items is not a usage report.
        let (facts, metered) = read("GET", "/v1/responses/resp_1/input_items");
        assert_eq!((facts.response_id, metered.usage), (None, None));
    }

    #[test]
    fn other_content_types_are_ignored() {
        let got = meter(
            Dialect::OpenAi,
            "audio/mpeg",
            r#"{"usage":{"prompt_tokens":1}}"#,
        );
        assert_eq!(got.usage, None);
        let dialect = |id: &str, path: &str| {
            Dialect::for_request(providers::find(id).expect("registered"), path)
        };
        assert_eq!(
            dialect("cohere", "/compatibility/v1/chat/completions"),
            Dialect::OpenAi
        );
        assert_eq!(
            dialect("cohere", "/compatibility/v1/embeddings"),
            Dialect::OpenAi
        );
        assert_eq!(dialect("cohere", "/v2/chat"), Dialect::Cohere);
        assert_eq!(dialect("cohere", "/v1/chat"), Dialect::Cohere);
        assert_eq!(
            dialect("groq", "/openai/v1/chat/completions"),
            Dialect::OpenAi
        );
    }

    #[test]
    fn is_reading_only_for_bodies_that_carry_usage() {
        assert!(ResponseMeter::new(Dialect::OpenAi, Some("text/event-stream")).is_reading());
        assert!(ResponseMeter::new(Dialect::OpenAi, Some("application/json")).is_reading());
        assert!(!ResponseMeter::new(Dialect::OpenAi, Some("audio/mpeg")).is_reading());
    }
}

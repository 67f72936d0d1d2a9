//! The common form every dialect translates to and from (hub and spoke: four codecs
//! instead of twelve pairwise translators). It holds the meaning of a generation call,
//! not any one wire format: a dialect's decoder fills it, another dialect's encoder
//! writes it out, and whatever a target cannot express faithfully is refused with
//! [`RouteError::Unsupported`] naming the feature, never dropped silently.
//!
//! Opaque provider tokens (thinking signatures, Gemini `thoughtSignature`, OpenAI
//! encrypted reasoning) are [`Opaque`]: tagged with the dialect that minted them, sent
//! back only to that dialect, never forged or handed to another provider.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

use super::Dialect;

/// Joins a tool-call id and the provider token riding on it (see [`id_with_token`]).
const TOKEN_MARK: &str = "__kfsig_";

/// A generation request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// The model as the app named it (the route's model map may replace it).
    pub model: String,
    /// System prompt / instructions, in order (Anthropic `system` blocks, OpenAI
    /// `system`/`developer` messages, Responses `instructions`, Gemini
    /// `systemInstruction`).
    pub system: Vec<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolDef>,
    pub tool_choice: Option<ToolChoice>,
    /// `false` asks for at most one tool call per turn.
    pub parallel_tool_calls: Option<bool>,
    /// The most tokens to generate (`max_tokens`, `max_completion_tokens`,
    /// `max_output_tokens`, `generationConfig.maxOutputTokens`).
    pub max_output_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stop: Vec<String>,
    pub stream: bool,
    /// OpenAI Chat `stream_options.include_usage`: the app asked for a final usage chunk.
    pub stream_usage: bool,
    pub response_format: Option<ResponseFormat>,
    pub reasoning: Option<Reasoning>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Assistant,
}

/// One turn. Tool results travel in `User` turns (as Anthropic and Gemini put them).
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: Role,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Text(String),
    Image(Image),
    /// A call the model made. `arguments` is the JSON text of an object.
    ToolCall {
        id: String,
        name: String,
        arguments: String,
        /// Gemini's `thoughtSignature` on a `functionCall` part.
        signature: Option<Opaque>,
    },
    /// The app's answer to a call.
    ToolResult {
        call_id: String,
        /// The called function's name, where the app's dialect says it (Gemini needs it).
        name: Option<String>,
        /// Text and images.
        content: Vec<Part>,
        is_error: bool,
    },
    /// The model's visible reasoning summary, with its signature if the provider sent one.
    Thinking {
        text: String,
        signature: Option<Opaque>,
    },
    /// Reasoning the provider returned encrypted (Anthropic `redacted_thinking`, OpenAI
    /// `encrypted_content`): only its own dialect can read it.
    RedactedThinking(Opaque),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Image {
    Base64 { media_type: String, data: String },
    Url(String),
}

/// A provider-minted token, valid only for the dialect that minted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opaque {
    pub dialect: Dialect,
    pub value: String,
}

/// The tool-call id to give an app whose dialect has no place for `token` (a Gemini
/// `thoughtSignature` reaching an OpenAI or Anthropic app). Apps echo call ids back
/// verbatim on the next turn, so the token returns to its provider in band, with no
/// state kept in the wallet. Only `[A-Za-z0-9_-]` is used (Anthropic's id alphabet).
pub fn id_with_token(id: &str, token: &Opaque) -> String {
    let tag = match token.dialect {
        Dialect::Anthropic => 'a',
        Dialect::OpenAiChat => 'c',
        Dialect::OpenAiResponses => 'r',
        Dialect::Gemini => 'g',
    };
    format!(
        "{id}{TOKEN_MARK}{tag}_{}",
        URL_SAFE_NO_PAD.encode(token.value.as_bytes())
    )
}

/// Splits an id made by [`id_with_token`] back into the app's id and the token; any
/// other id comes back whole, with no token.
pub fn split_id(id: &str) -> (String, Option<Opaque>) {
    let Some((base, rest)) = id.rsplit_once(TOKEN_MARK) else {
        return (id.to_string(), None);
    };
    let dialect = match rest.get(..2) {
        Some("a_") => Dialect::Anthropic,
        Some("c_") => Dialect::OpenAiChat,
        Some("r_") => Dialect::OpenAiResponses,
        Some("g_") => Dialect::Gemini,
        _ => return (id.to_string(), None),
    };
    let value = URL_SAFE_NO_PAD
        .decode(&rest.as_bytes()[2..])
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    match value {
        Some(value) => (base.to_string(), Some(Opaque { dialect, value })),
        None => (id.to_string(), None),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments object, as the app wrote it.
    pub parameters: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolChoice {
    Auto,
    None,
    /// Some tool must be called.
    Required,
    /// This tool must be called.
    Named(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ResponseFormat {
    Text,
    /// Any JSON object.
    JsonObject,
    JsonSchema {
        name: String,
        schema: Value,
        strict: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reasoning {
    /// OpenAI's `reasoning_effort` / `reasoning.effort`.
    pub effort: Option<Effort>,
    /// Anthropic's `thinking.budget_tokens`, Gemini's `thinkingConfig.thinkingBudget`.
    pub budget_tokens: Option<u64>,
    /// The app wants the reasoning (summaries) back.
    pub include_thoughts: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effort {
    Minimal,
    Low,
    Medium,
    High,
}

/// A whole (non-streamed) answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatResponse {
    pub id: String,
    pub model: String,
    pub parts: Vec<Part>,
    pub stop: Option<StopReason>,
    pub usage: Usage,
}

/// Why generation stopped, kept exact (never collapsed to "stop").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// The model finished its turn.
    End,
    MaxTokens,
    ToolUse,
    /// One of the request's stop sequences matched (which one, where known).
    StopSequence(Option<String>),
    Refusal,
    ContentFilter,
    /// Anthropic `pause_turn`: a long-running turn the app should continue.
    Pause,
}

/// Token counts. `input` counts every prompt token, cached or not; `cache_read` and
/// `cache_write` are the parts of it read from and written to the prompt cache;
/// `reasoning` is the part of `output` spent thinking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub reasoning: u64,
}

/// One step of a streamed answer, in the order the target must see it. Blocks are
/// numbered by `index` in order of appearance; each block starts, gets deltas, stops.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Start {
        id: String,
        model: String,
    },
    TextStart {
        index: usize,
    },
    TextDelta {
        index: usize,
        text: String,
    },
    ThinkingStart {
        index: usize,
    },
    ThinkingDelta {
        index: usize,
        text: String,
    },
    /// The thinking block's signature (it arrives at the block's end on Anthropic).
    ThinkingSignature {
        index: usize,
        signature: Opaque,
    },
    RedactedThinking {
        index: usize,
        data: Opaque,
    },
    ToolCallStart {
        index: usize,
        id: String,
        name: String,
        signature: Option<Opaque>,
    },
    /// A fragment of the call's arguments JSON text, emitted as it arrives.
    ToolCallDelta {
        index: usize,
        arguments: String,
    },
    BlockStop {
        index: usize,
    },
    /// Usage so far; a later `Usage` replaces an earlier one field by field where the
    /// later one is non-zero (Anthropic sends input first, output at the end).
    Usage(Usage),
    Stop(StopReason),
    /// The provider failed mid-stream: the app's SDK must raise its own error.
    Error(ProviderError),
    /// The stream is over (after `Stop`, or without it when the provider just ended).
    End,
}

/// A provider's error, in dialect-free terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError {
    /// HTTP status (for a mid-stream error: the status it would have had).
    pub status: u16,
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    InvalidRequest,
    Authentication,
    PermissionDenied,
    NotFound,
    RateLimited,
    Overloaded,
    Server,
}

impl ErrorKind {
    /// The kind an HTTP status means, for providers that say only the status.
    pub fn from_status(status: u16) -> Self {
        match status {
            401 => Self::Authentication,
            403 => Self::PermissionDenied,
            404 => Self::NotFound,
            429 => Self::RateLimited,
            503 | 529 => Self::Overloaded,
            400..=499 => Self::InvalidRequest,
            _ => Self::Server,
        }
    }

    /// The usual HTTP status of an error of this kind (Anthropic says 529 for
    /// overloaded; the others 503).
    pub fn status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::PermissionDenied => 403,
            Self::NotFound => 404,
            Self::RateLimited => 429,
            Self::Overloaded => 503,
            Self::Server => 500,
        }
    }
}

/// Why a translation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The request (or answer) uses something the other side cannot express faithfully.
    #[error("cannot be routed: {0}")]
    Unsupported(String),
    /// The body is not what its dialect says it must be.
    #[error("malformed {dialect:?} body: {detail}")]
    Malformed { dialect: Dialect, detail: String },
}

impl From<RouteError> for crate::CoreError {
    fn from(error: RouteError) -> Self {
        match error {
            RouteError::Unsupported(feature) => Self::RouteUnsupported(feature),
            malformed @ RouteError::Malformed { .. } => Self::BadRequest(malformed.to_string()),
        }
    }
}

impl RouteError {
    pub fn unsupported(feature: impl Into<String>) -> Self {
        Self::Unsupported(feature.into())
    }

    pub fn malformed(dialect: Dialect, detail: impl Into<String>) -> Self {
        Self::Malformed {
            dialect,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_rides_on_an_id_and_comes_back() {
        let token = Opaque {
            dialect: Dialect::Gemini,
            value: "CiQB0e2Kb+/sig==".into(),
        };
        let id = id_with_token("call_1", &token);
        assert!(id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'));
        assert_eq!(split_id(&id), ("call_1".to_string(), Some(token)));
        assert_eq!(split_id("toolu_01abc"), ("toolu_01abc".to_string(), None));
        let forged = "call_1__kfsig_g_%%%";
        assert_eq!(split_id(forged), (forged.to_string(), None));
    }
}

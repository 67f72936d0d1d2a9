//! Cross-provider routing: an app written for one provider's API is served by another.
//! Pure translation of the request, the whole answer, the SSE stream and errors between
//! four dialects, through one common form ([`ir`]): each dialect has a decoder into it
//! and an encoder out of it, so every directed pair works with four codecs.
//!
//! Invariants:
//! - never silently wrong: what the target cannot express faithfully is refused with
//!   [`RouteError::Unsupported`] (`ROUTE_UNSUPPORTED`) naming the feature;
//! - provider-minted tokens (signatures, encrypted reasoning) go back only to the
//!   dialect that minted them ([`ir::Opaque`]);
//! - streams are translated incrementally and independently of how chunks are split
//!   (bytes go through [`SseSplitter`] first), with memory bounded per block;
//! - stop reasons and usage (cached and reasoning tokens included) are carried exactly;
//!   usage that arrives after the stop reason is held until the target can say it.

pub mod anthropic;
pub mod config;
pub mod gemini;
pub mod ir;
pub mod models;
pub mod openai_chat;
pub mod openai_responses;

use serde::{Deserialize, Serialize};

use crate::metering::sse::{SseEvent, SseSplitter};
pub use config::{ModelRule, Route};
pub use ir::{ChatRequest, ChatResponse, ProviderError, RouteError, StreamEvent};

/// A provider API's wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dialect {
    /// Anthropic Messages (`/v1/messages`).
    Anthropic,
    /// OpenAI Chat Completions (`/v1/chat/completions`), also spoken by Groq, Mistral,
    /// DeepSeek, OpenRouter and local servers.
    OpenAiChat,
    /// OpenAI Responses (`/v1/responses`).
    OpenAiResponses,
    /// Gemini `generateContent` / `streamGenerateContent?alt=sse`.
    Gemini,
}

impl Dialect {
    pub const ALL: [Dialect; 4] = [
        Dialect::Anthropic,
        Dialect::OpenAiChat,
        Dialect::OpenAiResponses,
        Dialect::Gemini,
    ];

    /// The API's name, as people know it.
    pub fn label(self) -> &'static str {
        match self {
            Dialect::Anthropic => "Messages",
            Dialect::OpenAiChat => "Chat Completions",
            Dialect::OpenAiResponses => "Responses",
            Dialect::Gemini => "generateContent",
        }
    }

    /// Whether `endpoint` (below the API root, without its query) is one of this
    /// dialect's generation endpoints: the only calls a route translates.
    pub fn is_generation(self, endpoint: &str) -> bool {
        match self {
            Dialect::Anthropic => endpoint == "messages",
            Dialect::OpenAiChat => endpoint == "chat/completions",
            Dialect::OpenAiResponses => endpoint == "responses",
            Dialect::Gemini => endpoint.strip_prefix("models/").is_some_and(|rest| {
                !rest.contains('/')
                    && (rest.ends_with(":generateContent")
                        || rest.ends_with(":streamGenerateContent"))
            }),
        }
    }
}

/// A request written in one dialect: the endpoint below the provider's API root (for
/// example `messages`, `chat/completions`, `responses`,
/// `models/gemini-2.5-flash:streamGenerateContent?alt=sse`) and the JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub endpoint: String,
    pub body: Vec<u8>,
}

/// Reads one dialect's SSE events into the common stream.
pub trait StreamDecoder {
    /// One event as the provider sent it.
    fn event(&mut self, event: &SseEvent) -> Result<Vec<StreamEvent>, RouteError>;
    /// The provider's stream ended: whatever is still owed (at least [`StreamEvent::End`]).
    fn end(&mut self) -> Vec<StreamEvent>;
}

/// Writes the common stream as one dialect's SSE bytes.
pub trait StreamEncoder {
    /// The bytes to send the app for `event` (possibly none: an encoder may hold an
    /// event until it can be said, such as a stop reason waiting for usage).
    fn event(&mut self, event: &StreamEvent) -> Vec<u8>;
}

/// The request as the app wrote it, read from `endpoint` (as in [`Encoded`]) and body.
pub fn decode_request(
    dialect: Dialect,
    endpoint: &str,
    body: &[u8],
) -> Result<ChatRequest, RouteError> {
    match dialect {
        Dialect::Anthropic => anthropic::decode_request(endpoint, body),
        Dialect::OpenAiChat => openai_chat::decode_request(endpoint, body),
        Dialect::OpenAiResponses => openai_responses::decode_request(endpoint, body),
        Dialect::Gemini => gemini::decode_request(endpoint, body),
    }
}

/// The request written for the provider that serves it.
pub fn encode_request(dialect: Dialect, request: &ChatRequest) -> Result<Encoded, RouteError> {
    match dialect {
        Dialect::Anthropic => anthropic::encode_request(request),
        Dialect::OpenAiChat => openai_chat::encode_request(request),
        Dialect::OpenAiResponses => openai_responses::encode_request(request),
        Dialect::Gemini => gemini::encode_request(request),
    }
}

/// The serving provider's whole answer.
pub fn decode_response(dialect: Dialect, body: &[u8]) -> Result<ChatResponse, RouteError> {
    match dialect {
        Dialect::Anthropic => anthropic::decode_response(body),
        Dialect::OpenAiChat => openai_chat::decode_response(body),
        Dialect::OpenAiResponses => openai_responses::decode_response(body),
        Dialect::Gemini => gemini::decode_response(body),
    }
}

/// The answer as the app's SDK expects it.
pub fn encode_response(dialect: Dialect, response: &ChatResponse) -> Result<Vec<u8>, RouteError> {
    match dialect {
        Dialect::Anthropic => anthropic::encode_response(response),
        Dialect::OpenAiChat => openai_chat::encode_response(response),
        Dialect::OpenAiResponses => openai_responses::encode_response(response),
        Dialect::Gemini => gemini::encode_response(response),
    }
}

/// The serving provider's error answer (`status` ≥ 400).
pub fn decode_error(dialect: Dialect, status: u16, body: &[u8]) -> ProviderError {
    match dialect {
        Dialect::Anthropic => anthropic::decode_error(status, body),
        Dialect::OpenAiChat => openai_chat::decode_error(status, body),
        Dialect::OpenAiResponses => openai_responses::decode_error(status, body),
        Dialect::Gemini => gemini::decode_error(status, body),
    }
}

/// The error body the app's SDK parses into its own error type (sent with `status`).
pub fn encode_error(dialect: Dialect, error: &ProviderError) -> Vec<u8> {
    match dialect {
        Dialect::Anthropic => anthropic::encode_error(error),
        Dialect::OpenAiChat => openai_chat::encode_error(error),
        Dialect::OpenAiResponses => openai_responses::encode_error(error),
        Dialect::Gemini => gemini::encode_error(error),
    }
}

pub fn stream_decoder(dialect: Dialect) -> Box<dyn StreamDecoder> {
    match dialect {
        Dialect::Anthropic => Box::new(anthropic::Decoder::default()),
        Dialect::OpenAiChat => Box::new(openai_chat::Decoder::default()),
        Dialect::OpenAiResponses => Box::new(openai_responses::Decoder::default()),
        Dialect::Gemini => Box::new(gemini::Decoder::default()),
    }
}

/// An encoder for the app's dialect; `request` is the app's own request (an encoder may
/// need what it asked for, such as OpenAI's `stream_options.include_usage`).
pub fn stream_encoder(dialect: Dialect, request: &ChatRequest) -> Box<dyn StreamEncoder> {
    match dialect {
        Dialect::Anthropic => Box::new(anthropic::Encoder::new(request)),
        Dialect::OpenAiChat => Box::new(openai_chat::Encoder::new(request)),
        Dialect::OpenAiResponses => Box::new(openai_responses::Encoder::new(request)),
        Dialect::Gemini => Box::new(gemini::Encoder::new(request)),
    }
}

/// A streamed answer translated as its bytes arrive: provider SSE in, app SSE out.
pub struct StreamTranslator {
    splitter: SseSplitter,
    decoder: Box<dyn StreamDecoder>,
    encoder: Box<dyn StreamEncoder>,
    failed: bool,
    /// The model the app is told answered, in place of the provider's.
    answer_model: Option<String>,
}

impl StreamTranslator {
    /// `request` is the app's request (decoded from its dialect `to`).
    pub fn new(from: Dialect, to: Dialect, request: &ChatRequest) -> Self {
        Self {
            splitter: SseSplitter::new(),
            decoder: stream_decoder(from),
            encoder: stream_encoder(to, request),
            failed: false,
            answer_model: None,
        }
    }

    /// Tells the app that `model` answered (the model it asked for, when a route
    /// served another one), whatever the provider's stream names.
    pub fn answering_as(mut self, model: impl Into<String>) -> Self {
        self.answer_model = Some(model.into());
        self
    }

    fn encode(&mut self, event: StreamEvent, out: &mut Vec<u8>) {
        let event = match (event, &self.answer_model) {
            (StreamEvent::Start { id, .. }, Some(model)) => StreamEvent::Start {
                id,
                model: model.clone(),
            },
            (event, _) => event,
        };
        out.extend(self.encoder.event(&event));
    }

    /// The app's bytes for the next piece of the provider's stream.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for event in self.splitter.feed(chunk) {
            self.translate(&event, &mut out);
        }
        out
    }

    /// The provider's stream ended: the app's last bytes.
    pub fn finish(mut self) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(event) = std::mem::take(&mut self.splitter).finish() {
            self.translate(&event, &mut out);
        }
        if !self.failed {
            for event in self.decoder.end() {
                self.encode(event, &mut out);
            }
        }
        out
    }

    fn translate(&mut self, event: &SseEvent, out: &mut Vec<u8>) {
        if self.failed {
            return;
        }
        match self.decoder.event(event) {
            Ok(events) => {
                for event in events {
                    self.encode(event, out);
                }
            }
            Err(error) => {
                // A stream the decoder cannot read ends as an error the app's SDK raises.
                self.failed = true;
                let error = ProviderError {
                    status: 502,
                    kind: ir::ErrorKind::Server,
                    message: error.to_string(),
                };
                out.extend(self.encoder.event(&StreamEvent::Error(error)));
                out.extend(self.encoder.event(&StreamEvent::End));
            }
        }
    }
}

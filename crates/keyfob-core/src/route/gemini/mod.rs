//! Gemini `generateContent` / `streamGenerateContent?alt=sse` (Gemini API v1beta, as the
//! @google/genai SDK sends it). Field names are read in lowerCamelCase or snake_case, as
//! the REST API's proto-JSON mapping accepts both; a field given both ways is malformed.
//!
//! Request, mapped: `contents` (roles `user`/`model`; consecutive turns of one role are
//! one IR message, as the SDK's chat history stores each streamed chunk as its own
//! turn), parts `text`, `text`+`thought` (Thinking, never visible text; consecutive
//! thought parts are joined until one carries its signature), `inlineData` image/*,
//! `fileData` image/* by https URL, `functionCall` (+ `thoughtSignature`),
//! `functionResponse` (a `response` of only `output`, `result` or `error` unwrapped,
//! anything else kept as its JSON text; `parts` images), `systemInstruction`
//! text parts, `tools[].functionDeclarations` (`parameters` converted from Gemini's
//! Schema to JSON Schema, `parametersJsonSchema` as is), `toolConfig.functionCallingConfig`
//! (AUTO, NONE, ANY, ANY with one allowed name = Named, every declared name = Required),
//! `generationConfig` `maxOutputTokens`, `temperature`, `topP`, `stopSequences`,
//! `candidateCount` 1, `responseMimeType` text/plain | application/json (+ `responseSchema`
//! / `responseJsonSchema` = JsonSchema named "response", strict), `responseModalities`
//! [TEXT], `thinkingConfig` (`thinkingBudget` > 0 = budget, -1 = dynamic, 0 = no
//! reasoning; `thinkingLevel` = effort; `includeThoughts`).
//! Calls in `contents` without ids get `call_<n>` (unique in the request); a
//! `functionResponse` without id answers the earliest unanswered call of its name.
//!
//! Dropped (harmless): `safetySettings` (only Gemini has them), `serviceTier`, part and
//! generation `mediaResolution`, `partMetadata`, `displayName`, a `thoughtSignature` on a
//! visible text part (optional there, per the API), Schema `propertyOrdering`.
//!
//! Refused (`Unsupported`): `cachedContent`, topK, candidateCount > 1, seed, presence and
//! frequency penalties, logprobs, non-text modalities and speech, `executableCode`,
//! `codeExecutionResult`, `videoMetadata`, server-side tool invocations, non-image inline
//! or file data, Files API / gs:// file URIs, every built-in tool (googleSearch,
//! codeExecution, urlContext, retrieval, fileSearch, maps, computer use, MCP…),
//! function `response` schemas and `behavior`, mode VALIDATED, several allowed names,
//! `retrievalConfig`, `text/x.enum` output, and any field this module does not know.
//!
//! Opaque tokens: Gemini's own `thoughtSignature` is carried as is. A token of another
//! dialect reaching a Gemini app (an Anthropic thinking signature, redacted thinking, an
//! OpenAI `encrypted_content`) rides in `thoughtSignature` too, base64 of a marked
//! envelope (`signature_out`), so it comes back to its own dialect next turn; it
//! is never sent to Gemini. See the submodules for the encoders' rules.

mod config;
mod encode;
mod request;
mod response;
mod schema;
mod stream;

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::ir::{Opaque, RouteError, StopReason, Usage};
use super::Dialect;

pub use encode::encode_request;
pub use request::decode_request;
pub use response::{decode_error, decode_response, encode_error, encode_response};
pub use stream::{Decoder, Encoder};

/// Marks a foreign token inside a `thoughtSignature` (after base64 decoding).
const ENVELOPE: &[u8] = b"kfsig1:";

/// Decodes standard or URL-safe base64, padded or not (SDKs re-encode signatures).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn malformed(detail: impl Into<String>) -> RouteError {
    RouteError::malformed(Dialect::Gemini, detail)
}

/// The `thoughtSignature` to give a Gemini app for `token`: Gemini's own unchanged,
/// another dialect's inside a marked envelope. `redacted` marks a whole redacted block.
fn signature_out(token: &Opaque, redacted: bool) -> String {
    if token.dialect == Dialect::Gemini && !redacted {
        return token.value.clone();
    }
    let tag = match token.dialect {
        Dialect::Anthropic => 'a',
        Dialect::OpenAiChat => 'c',
        Dialect::OpenAiResponses => 'r',
        Dialect::Gemini => 'g',
    };
    let kind = if redacted { 'r' } else { 't' };
    let mut bytes = ENVELOPE.to_vec();
    bytes.extend(format!("{kind}{tag}:{}", token.value).bytes());
    STANDARD.encode(bytes)
}

/// A `thoughtSignature` read back: the token, and whether it stood for redacted thinking.
fn signature_in(value: &str) -> (Opaque, bool) {
    let gemini = (
        Opaque {
            dialect: Dialect::Gemini,
            value: value.to_string(),
        },
        false,
    );
    let normalized: String = value
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let Ok(bytes) = LENIENT.decode(normalized.as_bytes()) else {
        return gemini;
    };
    let Some(rest) = bytes.strip_prefix(ENVELOPE) else {
        return gemini;
    };
    let Ok(rest) = std::str::from_utf8(rest) else {
        return gemini;
    };
    let mut chars = rest.chars();
    let (Some(kind), Some(tag), Some(':')) = (chars.next(), chars.next(), chars.next()) else {
        return gemini;
    };
    let dialect = match tag {
        'a' => Dialect::Anthropic,
        'c' => Dialect::OpenAiChat,
        'r' => Dialect::OpenAiResponses,
        'g' => Dialect::Gemini,
        _ => return gemini,
    };
    let redacted = match kind {
        'r' => true,
        't' => false,
        _ => return gemini,
    };
    let value = chars.as_str().to_string();
    (Opaque { dialect, value }, redacted)
}

/// A JSON object read field by field, under either spelling of each name; whatever was
/// not read is refused by [`Fields::done`].
struct Fields<'a> {
    map: &'a Map<String, Value>,
    seen: Vec<&'a str>,
    at: &'static str,
}

impl<'a> Fields<'a> {
    fn new(value: &'a Value, at: &'static str) -> Result<Self, RouteError> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                seen: Vec::new(),
                at,
            }),
            _ => Err(malformed(format!("{at} is not an object"))),
        }
    }

    /// The field named `camel` (or its snake_case form); JSON null counts as absent.
    fn get(&mut self, camel: &str) -> Result<Option<&'a Value>, RouteError> {
        let snake = snake_case(camel);
        let mut found = None;
        for (key, value) in self.map {
            if key == camel || key == &snake {
                if found.is_some() {
                    return Err(malformed(format!("{}.{camel} given twice", self.at)));
                }
                self.seen.push(key.as_str());
                found = Some(value);
            }
        }
        Ok(found.filter(|v| !v.is_null()))
    }

    fn str(&mut self, camel: &str) -> Result<Option<&'a str>, RouteError> {
        match self.get(camel)? {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(malformed(format!("{}.{camel} is not a string", self.at))),
        }
    }

    fn bool(&mut self, camel: &str) -> Result<Option<bool>, RouteError> {
        match self.get(camel)? {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(malformed(format!("{}.{camel} is not a boolean", self.at))),
        }
    }

    fn f64(&mut self, camel: &str) -> Result<Option<f64>, RouteError> {
        match self.get(camel)? {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| malformed(format!("{}.{camel} is not a number", self.at))),
        }
    }

    /// An integer, as a JSON number or (proto-JSON int64) a decimal string.
    fn i64(&mut self, camel: &str) -> Result<Option<i64>, RouteError> {
        match self.get(camel)? {
            None => Ok(None),
            Some(v) => integer(v)
                .map(Some)
                .ok_or_else(|| malformed(format!("{}.{camel} is not an integer", self.at))),
        }
    }

    fn array(&mut self, camel: &str) -> Result<&'a [Value], RouteError> {
        match self.get(camel)? {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(malformed(format!("{}.{camel} is not an array", self.at))),
        }
    }

    /// Reads and discards a field the module drops on purpose.
    fn drop(&mut self, camel: &str) -> Result<(), RouteError> {
        self.get(camel).map(|_| ())
    }

    /// Refuses a present field as an unsupported feature.
    fn refuse(&mut self, camel: &str, feature: &str) -> Result<(), RouteError> {
        match self.get(camel)? {
            Some(_) => Err(RouteError::unsupported(feature)),
            None => Ok(()),
        }
    }

    /// Every field left unread is one this module does not know: refused.
    fn done(self) -> Result<(), RouteError> {
        match self.map.keys().find(|k| !self.seen.contains(&k.as_str())) {
            Some(key) => Err(RouteError::unsupported(format!("{}.{key}", self.at))),
            None => Ok(()),
        }
    }
}

fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A finish reason as the IR says it; `None` for the reasons that are failures, not
/// endings (MALFORMED_FUNCTION_CALL, OTHER…). `called` says a functionCall part came.
fn stop_in(reason: &str, called: bool) -> Option<StopReason> {
    Some(match reason {
        "STOP" if called => StopReason::ToolUse,
        "STOP" => StopReason::End,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => StopReason::ContentFilter,
        _ => return None,
    })
}

/// The finish reason a Gemini app is told. Gemini says STOP for an end, a stop sequence
/// and tool calls alike; a refusal is a safety stop; Anthropic's `pause_turn` (only
/// reachable with server tools, which are refused) has no Gemini word and is OTHER.
fn stop_out(reason: &StopReason) -> &'static str {
    match reason {
        StopReason::End | StopReason::ToolUse | StopReason::StopSequence(_) => "STOP",
        StopReason::MaxTokens => "MAX_TOKENS",
        StopReason::Refusal | StopReason::ContentFilter => "SAFETY",
        StopReason::Pause => "OTHER",
    }
}

/// `usageMetadata` in IR terms: the prompt count already includes cached tokens;
/// `candidatesTokenCount` excludes thoughts, which the IR counts as output.
fn usage_in(value: &Value) -> Usage {
    let count = |name: &str| value.get(name).and_then(integer).unwrap_or(0).max(0) as u64;
    let thoughts = count("thoughtsTokenCount");
    Usage {
        input: count("promptTokenCount") + count("toolUsePromptTokenCount"),
        output: count("candidatesTokenCount") + thoughts,
        cache_read: count("cachedContentTokenCount"),
        cache_write: 0,
        reasoning: thoughts,
    }
}

/// `usageMetadata` for a Gemini app. Cache writes have no field: they stay in the prompt
/// count, where they belong.
fn usage_out(usage: &Usage) -> Value {
    let mut out = Map::new();
    out.insert("promptTokenCount".into(), usage.input.into());
    out.insert(
        "candidatesTokenCount".into(),
        usage.output.saturating_sub(usage.reasoning).into(),
    );
    if usage.cache_read > 0 {
        out.insert("cachedContentTokenCount".into(), usage.cache_read.into());
    }
    if usage.reasoning > 0 {
        out.insert("thoughtsTokenCount".into(), usage.reasoning.into());
    }
    out.insert(
        "totalTokenCount".into(),
        (usage.input + usage.output).into(),
    );
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_foreign_token_survives_the_envelope_in_either_base64() {
        let token = Opaque {
            dialect: Dialect::Anthropic,
            value: "EqQBCkYIBxgCKkD+sig/==".into(),
        };
        let wrapped = signature_out(&token, false);
        assert_eq!(signature_in(&wrapped), (token.clone(), false));
        let url_safe = wrapped.replace('+', "-").replace('/', "_").replace('=', "");
        assert_eq!(signature_in(&url_safe), (token.clone(), false));
        assert_eq!(signature_in(&signature_out(&token, true)), (token, true));
        let own = Opaque {
            dialect: Dialect::Gemini,
            value: "CiQB0e2Kb+/sig==".into(),
        };
        assert_eq!(signature_out(&own, false), own.value);
        assert_eq!(signature_in(&own.value), (own, false));
    }

    #[test]
    fn fields_read_either_spelling_once() {
        let value = serde_json::json!({"max_output_tokens": 5, "topP": 0.5});
        let mut fields = Fields::new(&value, "generationConfig").expect("test value");
        assert_eq!(fields.i64("maxOutputTokens").expect("test value"), Some(5));
        assert_eq!(fields.f64("topP").expect("test value"), Some(0.5));
        fields.done().expect("test value");
        let twice = serde_json::json!({"topP": 1, "top_p": 1});
        let mut fields = Fields::new(&twice, "generationConfig").expect("test value");
        assert!(matches!(
            fields.f64("topP"),
            Err(RouteError::Malformed { .. })
        ));
    }
}

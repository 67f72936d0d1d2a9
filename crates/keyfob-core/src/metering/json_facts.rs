//! The cost facts of a JSON request body, read as it streams through [`JsonLexer`].
//!
//! Only members of the top-level object count: `model`, `stream`, `background`,
//! `max_tokens`, `max_completion_tokens`, `max_output_tokens`, `n`, and inside a
//! `generationConfig` /
//! `generation_config` object `maxOutputTokens` / `max_output_tokens` and
//! `candidateCount` / `candidate_count`. Keys are compared after unescaping, so
//! `"mo\u0064el"` is `model`.
//!
//! Because the provider, not Keyfob, decides what a body means, a body that could be
//! read two ways is refused: one that repeats a top-level key (or a wanted key inside a
//! config object), that is not JSON, or whose top-level keys do not decode strictly
//! (invalid UTF-8, a lone surrogate). When a config object gives both spellings of a
//! field, the larger count is taken, whichever the provider reads.
//!
//! Memory is bounded whatever the body's size: the lexer's fixed state, the set of
//! top-level keys (at most [`MAX_TOP_KEYS`], each at most [`MAX_KEY_BYTES`] as written,
//! or the body is refused), and the raw text of the wanted values (a model is kept to
//! [`MAX_MODEL_BYTES`]; see [`JsonFacts::finish`]).

use std::collections::BTreeSet;

use super::json_lex::{Event, Failure, JsonLexer, Kind, Sink};
use crate::CoreError;

/// Most distinct top-level keys a body may have (real APIs take a few dozen).
pub(crate) const MAX_TOP_KEYS: usize = 256;
/// Longest top-level key, in bytes as written (escapes included).
pub(crate) const MAX_KEY_BYTES: usize = 256;
/// Most bytes of a model string kept, as written. Anything longer is over 256
/// characters even if every character were a 12-byte escaped surrogate pair, so
/// `check_model` refuses the truncated copy exactly when it would refuse the whole.
pub(crate) const MAX_MODEL_BYTES: usize = 4096;
/// Longest number kept: more digits than any `u64` has.
const MAX_NUMBER_BYTES: usize = 64;
/// Longest config key compared (as written); longer ones are no wanted key.
const MAX_CONFIG_KEY_BYTES: usize = 128;

/// What a JSON body said, once read to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct JsonRead {
    pub(crate) model: Option<String>,
    pub(crate) stream: bool,
    /// `background` is `true` (an OpenAI response that keeps running after the answer).
    pub(crate) background: bool,
    pub(crate) max_output_tokens: Option<u64>,
    /// The largest `n` / `candidateCount` given, unclamped.
    pub(crate) choices: Option<u64>,
}

/// Reads a JSON body fed in pieces.
#[derive(Debug)]
pub(crate) struct JsonFacts {
    lexer: JsonLexer,
    reader: Reader,
}

impl JsonFacts {
    pub(crate) fn new() -> Self {
        Self {
            lexer: JsonLexer::new(),
            reader: Reader::default(),
        }
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        self.lexer.feed(bytes, &mut self.reader);
    }

    /// False once the outcome is certain (the body is refused). A valid body is read
    /// to its end, since a later duplicate key or trailing garbage changes the answer.
    pub(crate) fn wants_more(&self) -> bool {
        !self.lexer.is_done()
    }

    /// Bytes held on the heap plus the fixed state.
    #[cfg(test)]
    pub(crate) fn retained_bytes(&self) -> usize {
        let r = &self.reader;
        std::mem::size_of::<Self>()
            + r.keys
                .iter()
                .map(|k| k.capacity() + std::mem::size_of::<String>())
                .sum::<usize>()
            + r.key.capacity()
            + r.value.as_ref().map_or(0, |c| c.bytes.capacity())
            + r.config.as_ref().map_or(0, |c| {
                c.key.capacity() + c.value.as_ref().map_or(0, |v| v.bytes.capacity())
            })
    }

    /// The facts, or why the body is refused. Problems found while streaming come
    /// first (in body order), then an incomplete document, then a model value that
    /// is not a string. An over-long model comes back as its first
    /// [`MAX_MODEL_BYTES`] as written: `check_model` refuses it wherever the model is
    /// taken from the body, and a provider that takes it from the path ignores it.
    pub(crate) fn finish(mut self) -> Result<JsonRead, CoreError> {
        let end = self.lexer.finish(&mut self.reader);
        let mut reader = self.reader;
        if let Some(error) = reader.error.take() {
            return Err(error);
        }
        match end {
            Ok(()) => {}
            Err(Failure::TooDeep) => return Err(bad("the request body nests too deeply")),
            Err(Failure::Syntax | Failure::Stopped) => return Err(not_json()),
        }
        if reader.model_not_string {
            return Err(bad("model must be a string"));
        }
        Ok(reader.read)
    }
}

fn bad(message: &str) -> CoreError {
    CoreError::BadRequest(message.into())
}

fn not_json() -> CoreError {
    bad("the request body is not valid JSON")
}

fn repeats() -> CoreError {
    bad("the request body repeats a key")
}

/// The top-level members whose values matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Model,
    Stream,
    Background,
    Cap,
    Choices,
    Config,
}

impl Field {
    fn of(key: &str) -> Option<Self> {
        Some(match key {
            "model" => Self::Model,
            "stream" => Self::Stream,
            "background" => Self::Background,
            "max_tokens" | "max_completion_tokens" | "max_output_tokens" => Self::Cap,
            "n" => Self::Choices,
            "generationConfig" | "generation_config" => Self::Config,
            _ => return None,
        })
    }
}

/// Wanted keys of a config object, by bit: each may appear once.
const CONFIG_KEYS: [(&str, Field); 4] = [
    ("maxOutputTokens", Field::Cap),
    ("max_output_tokens", Field::Cap),
    ("candidateCount", Field::Choices),
    ("candidate_count", Field::Choices),
];

/// The raw text of a value being kept.
#[derive(Debug)]
struct Capture {
    field: Field,
    kind: Kind,
    bytes: Vec<u8>,
    limit: usize,
    overflowed: bool,
}

impl Capture {
    fn new(field: Field, kind: Kind) -> Self {
        let limit = match (field, kind) {
            (Field::Model, Kind::String) => MAX_MODEL_BYTES,
            (Field::Cap | Field::Choices, Kind::Number) => MAX_NUMBER_BYTES,
            _ => 0, // only the kind matters
        };
        Self {
            field,
            kind,
            bytes: Vec::new(),
            limit,
            overflowed: false,
        }
    }

    fn push(&mut self, piece: &[u8]) {
        let room = self.limit - self.bytes.len();
        if piece.len() > room {
            self.overflowed = true;
        }
        if self.bytes.capacity() == 0 && self.limit > 0 {
            self.bytes.reserve_exact(self.limit);
        }
        self.bytes
            .extend_from_slice(&piece[..piece.len().min(room)]);
    }

    /// The value as a `u64`, as `serde_json::Value::as_u64` would read it: only a
    /// plain non-negative integer that fits (`5.0`, `1e2` and `-0` are not).
    fn count(&self) -> Option<u64> {
        let digits = self.kind == Kind::Number
            && !self.overflowed
            && self.bytes.iter().all(u8::is_ascii_digit);
        digits
            .then(|| std::str::from_utf8(&self.bytes).ok()?.parse().ok())
            .flatten()
    }
}

/// The keys and wanted values of one config object.
#[derive(Debug, Default)]
struct Config {
    key: Vec<u8>,
    key_open: bool,
    /// The key is longer than any wanted one.
    key_long: bool,
    /// Bits of [`CONFIG_KEYS`] seen so far.
    seen: u8,
    wanted: Option<Field>,
    value: Option<Capture>,
}

#[derive(Debug, Default)]
struct Reader {
    keys: BTreeSet<String>,
    /// The top-level key being read, as written.
    key: Vec<u8>,
    key_open: bool,
    /// The field named by the last top-level key.
    field: Option<Field>,
    /// The top-level value being kept.
    value: Option<Capture>,
    /// Set while inside a config object.
    config: Option<Config>,
    model_not_string: bool,
    read: JsonRead,
    error: Option<CoreError>,
}

impl Sink for Reader {
    fn event(&mut self, depth: usize, event: Event<'_>) -> bool {
        let done = match (depth, &mut self.config) {
            (1, _) => self.member(event),
            (2, Some(config)) => config.member(event, &mut self.read),
            _ => Ok(()),
        };
        if let Err(error) = done {
            self.error = Some(error);
        }
        self.error.is_none()
    }
}

impl Reader {
    /// An event of a top-level member (its key or its value).
    fn member(&mut self, event: Event<'_>) -> Result<(), CoreError> {
        match event {
            Event::Begin(Kind::Key) => {
                self.key.clear();
                self.key_open = true;
            }
            Event::Begin(kind) => {
                self.value = self.field.map(|f| Capture::new(f, kind));
                if self.field == Some(Field::Config) && kind == Kind::Object {
                    self.config = Some(Config::default());
                }
            }
            Event::Piece(piece) if self.key_open => {
                if self.key.len() + piece.len() > MAX_KEY_BYTES {
                    return Err(bad("a top-level key of the request body is too long"));
                }
                self.key.extend_from_slice(piece);
            }
            Event::Piece(piece) => {
                if let Some(value) = &mut self.value {
                    value.push(piece);
                }
            }
            Event::End if self.key_open => {
                self.key_open = false;
                return self.end_key();
            }
            Event::End => {
                self.field = None;
                self.config = None;
                if let Some(value) = self.value.take() {
                    return self.end_value(value);
                }
            }
        }
        Ok(())
    }

    fn end_key(&mut self) -> Result<(), CoreError> {
        let key = decode(&self.key).ok_or_else(not_json)?;
        self.field = Field::of(&key);
        if self.keys.len() >= MAX_TOP_KEYS && !self.keys.contains(&key) {
            return Err(bad("the request body has too many top-level keys"));
        }
        if !self.keys.insert(key) {
            return Err(repeats());
        }
        Ok(())
    }

    fn end_value(&mut self, value: Capture) -> Result<(), CoreError> {
        let read = &mut self.read;
        match (value.field, value.kind) {
            (Field::Model, Kind::Null) => read.model = None,
            (Field::Model, Kind::String) if value.overflowed => {
                read.model = Some(String::from_utf8_lossy(&value.bytes).into_owned());
            }
            (Field::Model, Kind::String) => {
                read.model = Some(decode(&value.bytes).ok_or_else(not_json)?);
            }
            (Field::Model, _) => self.model_not_string = true,
            (Field::Stream, kind) => read.stream = kind == Kind::True,
            (Field::Background, kind) => read.background = kind == Kind::True,
            (Field::Cap | Field::Choices, _) => read.count(&value),
            (Field::Config, _) => {}
        }
        Ok(())
    }
}

impl JsonRead {
    /// Takes a cap or choice count into account: the largest given wins.
    fn count(&mut self, value: &Capture) {
        let slot = match value.field {
            Field::Choices => &mut self.choices,
            _ => &mut self.max_output_tokens,
        };
        *slot = (*slot).max(value.count());
    }
}

impl Config {
    /// An event of a member of this config object.
    fn member(&mut self, event: Event<'_>, read: &mut JsonRead) -> Result<(), CoreError> {
        match event {
            Event::Begin(Kind::Key) => {
                self.key.clear();
                (self.key_open, self.key_long) = (true, false);
            }
            Event::Begin(kind) => self.value = self.wanted.map(|f| Capture::new(f, kind)),
            Event::Piece(piece) if self.key_open => {
                self.key_long |= self.key.len() + piece.len() > MAX_CONFIG_KEY_BYTES;
                if !self.key_long {
                    self.key.extend_from_slice(piece);
                }
            }
            Event::Piece(piece) => {
                if let Some(value) = &mut self.value {
                    value.push(piece);
                }
            }
            Event::End if self.key_open => {
                self.key_open = false;
                return self.end_key();
            }
            Event::End => {
                self.wanted = None;
                if let Some(value) = self.value.take() {
                    read.count(&value);
                }
            }
        }
        Ok(())
    }

    fn end_key(&mut self) -> Result<(), CoreError> {
        let key = if self.key_long {
            None
        } else {
            decode(&self.key)
        };
        let Some(bit) = CONFIG_KEYS
            .iter()
            .position(|(k, _)| Some(*k) == key.as_deref())
        else {
            return Ok(());
        };
        if self.seen & (1 << bit) != 0 {
            return Err(repeats());
        }
        self.seen |= 1 << bit;
        self.wanted = Some(CONFIG_KEYS[bit].1);
        Ok(())
    }
}

/// The text of a JSON string given as written between its quotes, decoded strictly
/// (valid UTF-8, escapes that pair up), or `None`.
fn decode(raw: &[u8]) -> Option<String> {
    if !raw.contains(&b'\\') {
        return String::from_utf8(raw.to_vec()).ok();
    }
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(raw);
    quoted.push(b'"');
    serde_json::from_slice(&quoted).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str) -> Result<JsonRead, CoreError> {
        let mut facts = JsonFacts::new();
        facts.feed(body.as_bytes());
        facts.finish()
    }

    fn message(body: &str) -> String {
        match read(body) {
            Err(CoreError::BadRequest(m)) => m,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn reads_top_level_members_only() {
        let got = read(
            r#"{"a":{"model":"x","n":5},"model":"m","stream":true,"max_tokens":10,"generationConfig":{"candidateCount":4,"x":{"candidateCount":9}}}"#,
        )
        .expect("reads");
        let want = JsonRead {
            model: Some("m".into()),
            stream: true,
            background: false,
            max_output_tokens: Some(10),
            choices: Some(4),
        };
        assert_eq!(got, want);
    }

    #[test]
    fn background_is_true_only_when_the_top_level_value_is_true() {
        let background = |body: &str| read(body).map(|r| r.background);
        assert_eq!(background(r#"{"model":"o3","background":true}"#), Ok(true));
        assert_eq!(background(r#"{"backgr\u006fund":true}"#), Ok(true));
        for body in [
            r#"{"model":"o3"}"#,
            r#"{"background":false}"#,
            r#"{"background":"true"}"#,
            r#"{"background":null}"#,
            r#"{"background":"transparent"}"#, // the image API's background colour
            r#"{"input":{"background":true}}"#,
        ] {
            assert_eq!(background(body), Ok(false), "{body}");
        }
        assert_eq!(
            message(r#"{"background":false,"background":true}"#),
            "the request body repeats a key"
        );
    }

    #[test]
    fn an_overlong_model_is_kept_as_written_and_long() {
        // Escaped surrogate pairs: 12 bytes written per character.
        let model = "\\ud83d\\ude00".repeat(400);
        let got = read(&format!(r#"{{"model":"{model}"}}"#)).expect("reads");
        let kept = got.model.expect("a model");
        assert_eq!(kept.len(), MAX_MODEL_BYTES);
        assert!(kept.chars().count() > 256, "check_model refuses it");
        // One that just fits is decoded.
        let fits = "\\u00e9".repeat(MAX_MODEL_BYTES / 6);
        let got = read(&format!(r#"{{"model":"{fits}"}}"#)).expect("reads");
        assert_eq!(
            got.model.map(|m| m.chars().count()),
            Some(MAX_MODEL_BYTES / 6)
        );
    }

    #[test]
    fn fail_in_body_order_then_model_type() {
        assert_eq!(
            message(r#"{"model":5,"x":}"#),
            "the request body is not valid JSON"
        );
        assert_eq!(
            message(r#"{"model":5,"model":5"#),
            "the request body repeats a key"
        );
        assert_eq!(message(r#"{"model":{"a":1}}"#), "model must be a string");
        assert_eq!(
            message(r#"{"mo\del":1}"#),
            "the request body is not valid JSON"
        );
        assert_eq!(
            message("{\"\u{1}\":1}"),
            "the request body is not valid JSON"
        );
        assert_eq!(
            message("{\"k\":\"\\udc00\",\"\\udc00\":1}"),
            "the request body is not valid JSON"
        );
        let long = format!(r#"{{"{}":1}}"#, "k".repeat(MAX_KEY_BYTES + 1));
        assert_eq!(
            message(&long),
            "a top-level key of the request body is too long"
        );
        let fits = format!(r#"{{"{}":1}}"#, "k".repeat(MAX_KEY_BYTES));
        assert!(read(&fits).is_ok());
    }

    #[test]
    fn fail_a_repeated_config_count() {
        let twice = r#"{"generation_config":{"candidate_count":1,"x":2,"candidate_count":3}}"#;
        assert_eq!(message(twice), "the request body repeats a key");
        // Long config keys are no wanted key and no error.
        let long = format!(
            r#"{{"generationConfig":{{"{}":1,"maxOutputTokens":5}}}}"#,
            "k".repeat(500)
        );
        assert_eq!(read(&long).expect("reads").max_output_tokens, Some(5));
    }
}

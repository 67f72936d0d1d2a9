//! The `model` and `stream` fields of a `multipart/form-data` body (RFC 7578), read as
//! the body streams past.
//!
//! The body must be exactly: `--boundary`, then parts each introduced by CRLF, headers
//! up to the first blank line, content up to the next CRLF `--boundary`, and finally
//! `--` (anything after that is ignored). No transport padding, no preamble. Each part
//! must have exactly one `form-data` Content-Disposition with a name. Anything else is
//! refused rather than guessed at, as are two `model` parts: the provider, not Keyfob,
//! decides which one counts.
//!
//! Memory is bounded whatever the body's size: part content is matched against the
//! delimiter by its KMP state alone (no window of content is kept), part headers are
//! kept up to [`MAX_HEADER_BYTES`], and the first `model` value up to
//! [`MAX_MODEL_BYTES`].

use crate::CoreError;

/// Longest header block of one part, blank line included; a longer one is malformed.
pub(crate) const MAX_HEADER_BYTES: usize = 8 << 10;
/// Longest boundary accepted from the content type.
pub(crate) const MAX_BOUNDARY_BYTES: usize = 200;
/// Most bytes of a `model` value kept. Anything longer is over 256 characters, so
/// `check_model` refuses the kept prefix exactly when it would refuse the whole.
pub(crate) const MAX_MODEL_BYTES: usize = 4096;

/// What a form said, once read to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FormRead {
    pub(crate) model: Option<String>,
    pub(crate) stream: bool,
}

/// The boundary parameter of a multipart content type, quoted or not.
pub(crate) fn boundary(content_type: &str) -> Option<String> {
    content_type
        .split(';')
        .skip(1)
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= MAX_BOUNDARY_BYTES)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Matching the opening `--boundary`; this many bytes of it seen.
    Opening(usize),
    /// Just after a delimiter: `--` (the end) or CRLF (a part) must follow.
    AfterDelimiter,
    AfterDash,
    AfterCr,
    Headers,
    /// Part content; this many bytes of the delimiter matched so far.
    Content(usize),
    Closed,
    Malformed,
}

/// What the current part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Model,
    Stream,
    Other,
}

/// Reads a multipart form fed in pieces.
#[derive(Debug)]
pub(crate) struct FormScanner {
    /// CRLF `--` boundary.
    delimiter: Vec<u8>,
    /// KMP failure table of `delimiter`: longest proper prefix of `delimiter[..=i]`
    /// that is also its suffix.
    fallback: Vec<u8>,
    state: State,
    headers: Vec<u8>,
    part: Part,
    fields: Fields,
}

/// The field values gathered so far.
#[derive(Debug, Default)]
struct Fields {
    models: u32,
    model: Vec<u8>,
    model_overflowed: bool,
    stream: bool,
    word: TrueWord,
}

impl FormScanner {
    /// A scanner for `boundary` (as [`boundary`] returns it).
    pub(crate) fn new(boundary: &str) -> Self {
        let delimiter = [b"\r\n--".as_slice(), boundary.as_bytes()].concat();
        let fallback = fallback_table(&delimiter);
        Self {
            delimiter,
            fallback,
            state: State::Opening(0),
            headers: Vec::new(),
            part: Part::Other,
            fields: Fields::default(),
        }
    }

    /// False once the form is closed or malformed.
    pub(crate) fn wants_more(&self) -> bool {
        !matches!(self.state, State::Closed | State::Malformed)
    }

    /// Bytes held on the heap plus the fixed state.
    #[cfg(test)]
    pub(crate) fn retained_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.delimiter.capacity()
            + self.fallback.capacity()
            + self.headers.capacity()
            + self.fields.model.capacity()
    }

    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Closed | State::Malformed => return,
                // Fast path: content that cannot start a delimiter goes out in one piece.
                State::Content(0) => {
                    let run = bytes[i..]
                        .iter()
                        .position(|&b| b == b'\r')
                        .unwrap_or(bytes.len() - i);
                    if run > 0 {
                        self.fields.content(self.part, &bytes[i..i + run]);
                        i += run;
                        continue;
                    }
                }
                _ => {}
            }
            self.byte(bytes[i]);
            i += 1;
        }
    }

    /// The facts, or why the form is refused.
    pub(crate) fn finish(self) -> Result<FormRead, CoreError> {
        if self.state != State::Closed {
            return Err(bad("the multipart body is malformed"));
        }
        self.fields.finish()
    }

    fn byte(&mut self, b: u8) {
        self.state = match self.state {
            State::Opening(seen) => {
                // The opening delimiter is the CRLF-less tail of `delimiter`.
                if self.delimiter.get(seen + 2) != Some(&b) {
                    State::Malformed
                } else if seen + 3 == self.delimiter.len() {
                    State::AfterDelimiter
                } else {
                    State::Opening(seen + 1)
                }
            }
            State::AfterDelimiter => match b {
                b'-' => State::AfterDash,
                b'\r' => State::AfterCr,
                _ => State::Malformed,
            },
            State::AfterDash if b == b'-' => State::Closed,
            State::AfterCr if b == b'\n' => {
                self.headers.clear();
                State::Headers
            }
            State::AfterDash | State::AfterCr => State::Malformed,
            State::Headers => self.header_byte(b),
            State::Content(matched) => self.content_byte(matched, b),
            state @ (State::Closed | State::Malformed) => state,
        }
    }

    fn header_byte(&mut self, b: u8) -> State {
        if self.headers.len() >= MAX_HEADER_BYTES {
            return State::Malformed;
        }
        self.headers.push(b);
        let Some(block) = self.headers.strip_suffix(b"\r\n\r\n") else {
            return State::Headers;
        };
        match part_name(block) {
            Some(name) => {
                self.part = match name.as_str() {
                    "model" => Part::Model,
                    "stream" => Part::Stream,
                    _ => Part::Other,
                };
                self.fields.begin(self.part);
                State::Content(0)
            }
            None => State::Malformed,
        }
    }

    /// One content byte against the delimiter (Knuth–Morris–Pratt). Bytes that fall
    /// out of a partial match are content; they equal the delimiter's prefix, so
    /// nothing needs to be buffered.
    fn content_byte(&mut self, mut matched: usize, b: u8) -> State {
        while matched > 0 && self.delimiter[matched] != b {
            let keep = usize::from(self.fallback[matched - 1]);
            self.fields
                .content(self.part, &self.delimiter[..matched - keep]);
            matched = keep;
        }
        if self.delimiter[matched] == b {
            matched += 1;
        } else {
            self.fields.content(self.part, std::slice::from_ref(&b));
        }
        if matched == self.delimiter.len() {
            self.fields.end(self.part);
            return State::AfterDelimiter;
        }
        State::Content(matched)
    }
}

impl Fields {
    fn begin(&mut self, part: Part) {
        match part {
            Part::Model => self.models += 1,
            Part::Stream => self.word = TrueWord::Lead,
            Part::Other => {}
        }
    }

    fn content(&mut self, part: Part, bytes: &[u8]) {
        match part {
            Part::Model if self.models == 1 => {
                let room = MAX_MODEL_BYTES - self.model.len();
                self.model_overflowed |= bytes.len() > room;
                self.model
                    .extend_from_slice(&bytes[..bytes.len().min(room)]);
            }
            Part::Stream => {
                for &b in bytes {
                    self.word = self.word.step(b);
                }
            }
            Part::Model | Part::Other => {}
        }
    }

    fn end(&mut self, part: Part) {
        if part == Part::Stream {
            self.stream |= self.word.is_true();
        }
    }

    fn finish(self) -> Result<FormRead, CoreError> {
        let model = match self.models {
            0 => None,
            1 => Some(self.model_text()?),
            _ => return Err(bad("the form names more than one model")),
        };
        Ok(FormRead {
            model,
            stream: self.stream,
        })
    }

    /// The model as text. A value cut at [`MAX_MODEL_BYTES`] may end inside a
    /// character; only bytes that are wrong before the cut make it "not text".
    fn model_text(&self) -> Result<String, CoreError> {
        match std::str::from_utf8(&self.model) {
            Ok(text) => Ok(text.to_string()),
            Err(e) if self.model_overflowed && e.error_len().is_none() => {
                Ok(String::from_utf8_lossy(&self.model).into_owned())
            }
            Err(_) => Err(bad("model must be text")),
        }
    }
}

/// Whether a value, ASCII whitespace trimmed, is exactly `true`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum TrueWord {
    #[default]
    Lead,
    /// This many bytes of `true` matched.
    Word(usize),
    Trail,
    No,
}

impl TrueWord {
    fn step(self, b: u8) -> Self {
        let ws = b.is_ascii_whitespace();
        match self {
            Self::Lead if ws => Self::Lead,
            Self::Lead | Self::Word(0) if b == b't' => Self::Word(1),
            Self::Word(n) if n < 4 && b"true"[n] == b => Self::Word(n + 1),
            Self::Word(4) | Self::Trail if ws => Self::Trail,
            _ => Self::No,
        }
    }

    fn is_true(self) -> bool {
        matches!(self, Self::Word(4) | Self::Trail)
    }
}

fn bad(message: &str) -> CoreError {
    CoreError::BadRequest(message.into())
}

fn fallback_table(pattern: &[u8]) -> Vec<u8> {
    let mut table = vec![0u8; pattern.len()];
    let mut k = 0usize;
    for i in 1..pattern.len() {
        while k > 0 && pattern[i] != pattern[k] {
            k = usize::from(table[k - 1]);
        }
        if pattern[i] == pattern[k] {
            k += 1;
        }
        // k < pattern.len() <= MAX_BOUNDARY_BYTES + 4, which fits in a u8.
        table[i] = u8::try_from(k).unwrap_or(u8::MAX);
    }
    table
}

/// The name of a part, from its header block (without the blank line): exactly one
/// Content-Disposition header, of type `form-data`, with a `name`.
fn part_name(block: &[u8]) -> Option<String> {
    let headers = std::str::from_utf8(block).ok()?;
    let mut names = headers
        .split("\r\n")
        .filter_map(|h| h.split_once(':'))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("content-disposition"))
        .map(|(_, v)| disposition_name(v));
    match (names.next(), names.next()) {
        (Some(name), None) => name,
        _ => None,
    }
}

/// The `name` parameter of a `form-data` Content-Disposition value.
fn disposition_name(value: &str) -> Option<String> {
    let mut parts = value.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case("form-data") {
        return None;
    }
    parts
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("name"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(boundary: &str, body: &[u8], chunk: usize) -> Result<FormRead, CoreError> {
        let mut scanner = FormScanner::new(boundary);
        for piece in body.chunks(chunk) {
            scanner.feed(piece);
        }
        scanner.finish()
    }

    #[test]
    fn boundaries_from_the_content_type() {
        let b = |ct: &str| boundary(ct);
        assert_eq!(
            b("multipart/form-data; boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(
            b("multipart/form-data;BOUNDARY = \"a b\" ;x=1").as_deref(),
            Some("a b")
        );
        assert_eq!(b("multipart/form-data"), None);
        assert_eq!(b("multipart/form-data; boundary=\"\""), None);
        assert_eq!(
            b(&format!(
                "multipart/form-data; boundary={}",
                "x".repeat(201)
            )),
            None
        );
    }

    #[test]
    fn the_fallback_table_finds_borders() {
        assert_eq!(fallback_table(b"\r\n--aab"), [0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(fallback_table(b"abab"), [0, 0, 1, 2]);
        assert_eq!(fallback_table(b"aaab"), [0, 1, 2, 0]);
    }

    #[test]
    fn delimiters_are_found_after_partial_matches() {
        // The boundary "\r\n--" repeats the start of the delimiter inside itself.
        let boundary = "\r\n--";
        let body = b"--\r\n--\r\ncontent-disposition: form-data; name=model\r\n\r\n\r\n--\r\n-\r\n--\r\n----";
        for chunk in 1..body.len() {
            let got = scan(boundary, body, chunk).expect("reads");
            assert_eq!(got.model.as_deref(), Some("\r\n--\r\n-"), "chunk {chunk}");
        }
    }

    #[test]
    fn stream_is_true_only_when_trimmed_true() {
        let word = |text: &[u8]| {
            text.iter()
                .fold(TrueWord::Lead, |w, &b| w.step(b))
                .is_true()
        };
        assert!(word(b"true") && word(b" \x0c\ttrue\r\n "));
        assert!(
            !word(b"") && !word(b"tru") && !word(b"truee") && !word(b"t rue") && !word(b"True")
        );
    }

    #[test]
    fn fail_oversized_headers() {
        let mut body = b"--b\r\ncontent-disposition: form-data; name=model\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', MAX_HEADER_BYTES));
        body.extend_from_slice(b"\r\n\r\nm\r\n--b--");
        assert!(scan("b", &body, 1000).is_err());
    }

    #[test]
    fn a_long_model_is_cut_on_any_byte() {
        let model = "é".repeat(MAX_MODEL_BYTES); // two bytes each: cut mid-character
        let body =
            format!("--b\r\ncontent-disposition: form-data; name=model\r\n\r\nx{model}\r\n--b--");
        let got = scan("b", body.as_bytes(), 777)
            .expect("reads")
            .model
            .expect("a model");
        assert!(got.chars().count() > 256);
        let bad = b"--b\r\ncontent-disposition: form-data; name=model\r\n\r\n\xff\r\n--b--";
        assert!(scan("b", bad, 3).is_err());
    }
}

//! The incremental request body reader: the cost facts of a body fed in chunks of any
//! size, in bounded memory, wherever in the body they sit (a model after megabytes of
//! base64 is found as surely as one at the start).
//!
//! Threat model: the page writes the body, and the provider — not Keyfob — decides
//! what it means. So the reader refuses (`BAD_REQUEST`) any body whose facts could be
//! read two ways: invalid JSON, a repeated top-level key, a non-string model, a form
//! with two `model` fields or a malformed structure. A body is read as JSON when its
//! content type says so *or* it starts like JSON (`{`, `[`, or a byte-order mark,
//! which is then refused), so a JSON body cannot hide behind `text/plain`. A
//! `multipart/form-data` body is read as a form; anything else names nothing. A body
//! of only whitespace names nothing whatever its type.
//!
//! This module only picks the reading; [`super::json_facts`] and
//! [`super::multipart_scan`] do it. Whether the model is a valid id is checked where
//! the facts are used ([`super::request_body::facts`]), since a provider may take its
//! model from the path instead.
//!
//! Memory: at most [`MAX_RETAINED_BYTES`] whatever the body's size (the key set and
//! captured values of a JSON body, or one part's headers and the model of a form).

use super::json_facts::{self, JsonFacts};
use super::multipart_scan::{self, FormScanner};
use crate::CoreError;

/// An upper bound on what a reader holds, for any body.
pub const MAX_RETAINED_BYTES: usize = 96 << 10;

/// The cost-relevant facts of a request body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyFacts {
    pub model: Option<String>,
    pub stream: bool,
    /// A top-level `"background": true` (JSON bodies only).
    pub background: bool,
    pub max_output_tokens: Option<u64>,
    pub choices: u64,
    pub body_bytes: u64,
}

/// Most choices counted (`n`, `candidateCount`); more are clamped to this.
const MAX_CHOICES: u64 = 128;

/// Reads a request body fed in chunks: [`BodyReader::feed`] each chunk while
/// [`BodyReader::wants_more`], then [`BodyReader::finish`].
#[derive(Debug)]
pub struct BodyReader {
    mode: Mode,
    /// Every byte so far was ASCII whitespace (so the body may yet name nothing).
    blank: bool,
}

#[derive(Debug)]
enum Mode {
    /// No non-blank byte yet: both readings the content type allows are fed, so the
    /// one chosen has seen the leading whitespace too.
    Undecided {
        json: Box<JsonFacts>,
        form: Option<Form>,
    },
    Json(Box<JsonFacts>),
    Form(Form),
    /// Neither JSON nor a form: nothing to read.
    Nothing,
}

/// A form reading, or the lack of a boundary to read it by.
#[derive(Debug)]
enum Form {
    Scanner(FormScanner),
    NoBoundary,
}

impl BodyReader {
    /// A reader for a body with this `content-type` header.
    pub fn new(content_type: Option<&str>) -> Self {
        let content_type = content_type.unwrap_or_default();
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let json = Box::new(JsonFacts::new());
        let mode = if essence.contains("json") {
            Mode::Json(json)
        } else {
            let form = (essence == "multipart/form-data").then(|| {
                match multipart_scan::boundary(content_type) {
                    Some(boundary) => Form::Scanner(FormScanner::new(&boundary)),
                    None => Form::NoBoundary,
                }
            });
            Mode::Undecided { json, form }
        };
        Self { mode, blank: true }
    }

    /// Reads the next chunk of the body.
    pub fn feed(&mut self, chunk: &[u8]) {
        if self.blank {
            if let Some(&first) = chunk.iter().find(|b| !b.is_ascii_whitespace()) {
                self.blank = false;
                self.decide(first);
            }
        }
        match &mut self.mode {
            Mode::Undecided { json, form } => {
                json.feed(chunk);
                if let Some(Form::Scanner(form)) = form {
                    form.feed(chunk);
                }
            }
            Mode::Json(json) => json.feed(chunk),
            Mode::Form(Form::Scanner(form)) => form.feed(chunk),
            Mode::Form(Form::NoBoundary) | Mode::Nothing => {}
        }
    }

    /// The first non-blank byte chooses the reading.
    fn decide(&mut self, first: u8) {
        self.mode = match std::mem::replace(&mut self.mode, Mode::Nothing) {
            Mode::Undecided { json, .. } if matches!(first, b'{' | b'[' | 0xEF) => Mode::Json(json),
            Mode::Undecided { form, .. } => form.map_or(Mode::Nothing, Mode::Form),
            decided => decided, // JSON by its content type
        };
    }

    /// Whether more bytes could change the outcome. False once it is certain (a body
    /// refused, a form closed, a body that names nothing); a valid JSON body is read
    /// to its end, since a later duplicate key changes the answer.
    pub fn wants_more(&self) -> bool {
        self.blank
            || match &self.mode {
                Mode::Undecided { .. } => true,
                Mode::Json(json) => json.wants_more(),
                Mode::Form(Form::Scanner(form)) => form.wants_more(),
                Mode::Form(Form::NoBoundary) | Mode::Nothing => false,
            }
    }

    /// What the reader holds, in bytes (at most [`MAX_RETAINED_BYTES`]).
    #[cfg(test)]
    pub(crate) fn retained_bytes(&self) -> usize {
        let form = |form: &Form| match form {
            Form::Scanner(scanner) => scanner.retained_bytes(),
            Form::NoBoundary => 0,
        };
        std::mem::size_of::<Self>()
            + match &self.mode {
                Mode::Undecided { json, form: f } => {
                    json.retained_bytes() + f.as_ref().map_or(0, form)
                }
                Mode::Json(json) => json.retained_bytes(),
                Mode::Form(f) => form(f),
                Mode::Nothing => 0,
            }
    }

    /// The facts of the body, `total_bytes` long, or why it is refused.
    pub fn finish(self, total_bytes: u64) -> Result<BodyFacts, CoreError> {
        let mut facts = BodyFacts {
            choices: 1,
            body_bytes: total_bytes,
            ..BodyFacts::default()
        };
        if self.blank {
            return Ok(facts);
        }
        match self.mode {
            Mode::Json(json) => {
                let read = json.finish()?;
                facts.model = read.model;
                facts.stream = read.stream;
                facts.background = read.background;
                facts.max_output_tokens = read.max_output_tokens;
                facts.choices = read.choices.unwrap_or(1).clamp(1, MAX_CHOICES);
            }
            Mode::Form(Form::Scanner(form)) => {
                let read = form.finish()?;
                facts.model = read.model;
                facts.stream = read.stream;
            }
            Mode::Form(Form::NoBoundary) => {
                return Err(CoreError::BadRequest(
                    "multipart body without a boundary".into(),
                ))
            }
            Mode::Undecided { .. } | Mode::Nothing => {}
        }
        Ok(facts)
    }
}

// The bound holds by construction; these keep the constants honest.
const _: () = assert!(
    json_facts::MAX_TOP_KEYS * (json_facts::MAX_KEY_BYTES + 24)
        + json_facts::MAX_KEY_BYTES
        + json_facts::MAX_MODEL_BYTES
        + 4096
        < MAX_RETAINED_BYTES
);
const _: () = assert!(
    multipart_scan::MAX_HEADER_BYTES
        + 2 * (multipart_scan::MAX_BOUNDARY_BYTES + 4)
        + multipart_scan::MAX_MODEL_BYTES
        + 4096
        < MAX_RETAINED_BYTES
);

#[cfg(test)]
mod tests {
    use super::*;

    const CHUNK: usize = 64 << 10;

    /// Feeds `parts` in 64 KiB chunks; returns the facts and the most the reader held.
    fn read_streamed(content_type: &str, parts: &[&[u8]]) -> (Result<BodyFacts, CoreError>, usize) {
        let mut reader = BodyReader::new(Some(content_type));
        let mut most = reader.retained_bytes();
        let mut total = 0;
        for part in parts {
            for chunk in part.chunks(CHUNK) {
                reader.feed(chunk);
                total += chunk.len() as u64;
                most = most.max(reader.retained_bytes());
            }
        }
        (reader.finish(total), most)
    }

    #[test]
    fn a_20_mib_json_body_is_read_in_a_few_kib() {
        let content = "abc \\\" {\\\"model\\\":1} ".repeat(1 << 20); // 20 MiB
        let head = br#"{"max_tokens":50,"messages":[{"role":"user","content":""#;
        let tail = br#""}],"stream":true,"model":"gpt-4o"}"#;
        let (read, most) = read_streamed("application/json", &[head, content.as_bytes(), tail]);
        let facts = read.expect("reads");
        assert_eq!(facts.model.as_deref(), Some("gpt-4o"));
        assert_eq!((facts.stream, facts.max_output_tokens), (true, Some(50)));
        assert!(facts.body_bytes > 20 << 20);
        assert!(most < 8 << 10, "held {most} bytes");
    }

    #[test]
    fn a_20_mib_form_is_read_in_a_few_kib() {
        let boundary = "----formdata-x";
        let file = vec![b'\r'; 20 << 20];
        let head = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n"
        );
        let tail = format!(
            "\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--{boundary}--\r\n"
        );
        let ct = format!("multipart/form-data; boundary={boundary}");
        let parts = [head.as_bytes(), &file, tail.as_bytes()];
        let (read, most) = read_streamed(&ct, &parts);
        assert_eq!(read.expect("reads").model.as_deref(), Some("whisper-1"));
        assert!(most < 16 << 10, "held {most} bytes");
    }

    #[test]
    fn the_worst_json_body_stays_under_the_bound() {
        let key = |i: usize| format!("{i:0>256}");
        let body = format!(
            "{{{}\"model\":\"{}\",\"n\":{}}}",
            (0..json_facts::MAX_TOP_KEYS - 2)
                .map(|i| format!("\"{}\":0,", key(i)))
                .collect::<String>(),
            "m".repeat(json_facts::MAX_MODEL_BYTES * 3),
            "9".repeat(1000),
        );
        let (read, most) = read_streamed("application/json", &[body.as_bytes()]);
        let facts = read.expect("reads");
        assert_eq!(facts.choices, 1, "a count past u64 is no count");
        assert_eq!(
            facts.model.map(|m| m.len()),
            Some(json_facts::MAX_MODEL_BYTES)
        );
        assert!(most < MAX_RETAINED_BYTES, "held {most} bytes");
    }

    #[test]
    fn the_first_byte_picks_the_reading() {
        let read = |ct: Option<&str>, body: &[u8]| {
            let mut reader = BodyReader::new(ct);
            for b in body {
                reader.feed(std::slice::from_ref(b));
            }
            reader.finish(body.len() as u64)
        };
        let form = Some("multipart/form-data; boundary=b");
        let facts = read(
            form,
            b"--b\r\ncontent-disposition: form-data; name=stream\r\n\r\ntrue\r\n--b--",
        )
        .expect("a form");
        assert!(facts.stream);
        assert_eq!(read(form, b" {\"n\":3}").expect("JSON").choices, 3);
        assert_eq!(
            read(None, b"\n\n").expect("blank"),
            BodyFacts {
                choices: 1,
                body_bytes: 2,
                ..Default::default()
            }
        );
        assert_eq!(
            read(Some("text/plain"), b"--b--").expect("text").model,
            None
        );
        assert!(read(Some("multipart/form-data"), b"--b--").is_err());
    }
}

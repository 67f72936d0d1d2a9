//! TEMPORARY stand-in for the incremental body reader (being written on its own
//! branch): buffers the body and reads it in one go.

use crate::CoreError;

/// The cost-relevant facts of a request body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BodyFacts {
    pub model: Option<String>,
    pub stream: bool,
    pub max_output_tokens: Option<u64>,
    pub choices: u64,
    pub body_bytes: u64,
}

pub struct BodyReader {
    content_type: Option<String>,
    bytes: Vec<u8>,
}

impl BodyReader {
    pub fn new(content_type: Option<&str>) -> Self {
        Self {
            content_type: content_type.map(str::to_string),
            bytes: Vec::new(),
        }
    }

    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes.extend_from_slice(chunk);
    }

    pub fn wants_more(&self) -> bool {
        true
    }

    pub fn finish(self, total_bytes: u64) -> Result<BodyFacts, CoreError> {
        let f = super::request_body::read_request(
            "openai",
            "/v1/chat/completions",
            self.content_type.as_deref(),
            &self.bytes,
        )?;
        Ok(BodyFacts {
            model: f.model,
            stream: f.stream,
            max_output_tokens: f.max_output_tokens,
            choices: f.choices,
            body_bytes: total_bytes,
        })
    }
}

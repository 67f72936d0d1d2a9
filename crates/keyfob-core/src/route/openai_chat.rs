//! STUB: replaced by the dialect's codec (see route/mod.rs for the interface).

use super::ir::{ChatRequest, ChatResponse, ErrorKind, ProviderError, RouteError, StreamEvent};
use super::{Encoded, StreamDecoder, StreamEncoder};
use crate::metering::sse::SseEvent;

pub fn decode_request(_endpoint: &str, _body: &[u8]) -> Result<ChatRequest, RouteError> {
    Err(RouteError::unsupported("this dialect"))
}

pub fn encode_request(_request: &ChatRequest) -> Result<Encoded, RouteError> {
    Err(RouteError::unsupported("this dialect"))
}

pub fn decode_response(_body: &[u8]) -> Result<ChatResponse, RouteError> {
    Err(RouteError::unsupported("this dialect"))
}

pub fn encode_response(_response: &ChatResponse) -> Result<Vec<u8>, RouteError> {
    Err(RouteError::unsupported("this dialect"))
}

pub fn decode_error(status: u16, _body: &[u8]) -> ProviderError {
    ProviderError {
        status,
        kind: ErrorKind::from_status(status),
        message: String::new(),
    }
}

pub fn encode_error(_error: &ProviderError) -> Vec<u8> {
    Vec::new()
}

#[derive(Default)]
pub struct Decoder;

impl StreamDecoder for Decoder {
    fn event(&mut self, _event: &SseEvent) -> Result<Vec<StreamEvent>, RouteError> {
        Err(RouteError::unsupported("this dialect"))
    }

    fn end(&mut self) -> Vec<StreamEvent> {
        vec![StreamEvent::End]
    }
}

pub struct Encoder;

impl Encoder {
    pub fn new(_request: &ChatRequest) -> Self {
        Self
    }
}

impl StreamEncoder for Encoder {
    fn event(&mut self, _event: &StreamEvent) -> Vec<u8> {
        Vec::new()
    }
}

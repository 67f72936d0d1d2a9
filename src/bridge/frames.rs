//! The frames of docs/bridge.md as serde types. Every frame is a JSON object tagged by
//! `t`; bodies are base64 (standard alphabet, padded).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Header lists travel as `[[name, value], …]`.
pub type Headers = Vec<(String, String)>;

/// Host → extension.
#[derive(Debug, Serialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Outgoing {
    Hello {
        version: &'static str,
        listen: String,
    },
    ListenFailed {
        message: String,
    },
    Req {
        id: u64,
        provider: String,
        method: String,
        path: String,
        headers: Headers,
        #[serde(rename = "hasBody")]
        has_body: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        b: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        end: Option<bool>,
    },
    Body {
        id: u64,
        b: String,
    },
    End {
        id: u64,
    },
    Abort {
        id: u64,
    },
    Cmd {
        id: u64,
        cmd: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        args: Value,
    },
}

/// Extension → host.
#[derive(Debug, Deserialize, PartialEq)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Incoming {
    Head {
        id: u64,
        status: u16,
        #[serde(rename = "statusText", default)]
        status_text: String,
        #[serde(default)]
        headers: Headers,
        #[serde(default)]
        b: Option<String>,
        #[serde(default)]
        end: Option<bool>,
    },
    Data {
        id: u64,
        #[serde(default)]
        b: String,
        #[serde(default)]
        end: Option<bool>,
    },
    End {
        id: u64,
    },
    /// `body` is the JSON text of a Keyfob error; a JSON value is accepted too.
    Error {
        id: u64,
        status: u16,
        body: Value,
    },
    Fail {
        id: u64,
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    },
    Reply {
        id: u64,
        status: u16,
        #[serde(default)]
        body: Value,
    },
    Shutdown,
}

impl Incoming {
    /// The frame's `t`, for logs (which never show a body).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Head { .. } => "head",
            Self::Data { .. } => "data",
            Self::End { .. } => "end",
            Self::Error { .. } => "error",
            Self::Fail { .. } => "fail",
            Self::Reply { .. } => "reply",
            Self::Shutdown => "shutdown",
        }
    }

    /// The request this frame answers (`None` for `shutdown`).
    pub fn id(&self) -> Option<u64> {
        match self {
            Self::Head { id, .. }
            | Self::Data { id, .. }
            | Self::End { id }
            | Self::Error { id, .. }
            | Self::Fail { id, .. }
            | Self::Reply { id, .. } => Some(*id),
            Self::Shutdown => None,
        }
    }
}

pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    STANDARD.decode(text)
}

/// The text of an `error` frame's body: a string as is, any other value as JSON.
pub fn body_text(body: &Value) -> String {
    match body {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn outgoing_frames_have_the_documented_shape() {
        let req = Outgoing::Req {
            id: 7,
            provider: "openai".into(),
            method: "POST".into(),
            path: "/v1/chat/completions".into(),
            headers: vec![("authorization".into(), "Bearer kf".into())],
            has_body: true,
            b: Some(encode(b"{}")),
            end: Some(true),
        };
        assert_eq!(
            serde_json::to_value(&req).unwrap(),
            json!({"t": "req", "id": 7, "provider": "openai", "method": "POST",
                "path": "/v1/chat/completions", "headers": [["authorization", "Bearer kf"]],
                "hasBody": true, "b": "e30=", "end": true})
        );
        let failed = Outgoing::ListenFailed {
            message: "x".into(),
        };
        assert_eq!(
            serde_json::to_value(&failed).unwrap(),
            json!({"t": "listen_failed", "message": "x"})
        );
        let cmd = Outgoing::Cmd {
            id: 1,
            cmd: "status".into(),
            token: None,
            args: json!({}),
        };
        assert_eq!(
            serde_json::to_value(&cmd).unwrap(),
            json!({"t": "cmd", "id": 1, "cmd": "status", "args": {}})
        );
    }

    #[test]
    fn incoming_frames_parse() {
        let head: Incoming = serde_json::from_value(json!({"t": "head", "id": 3,
            "status": 200, "statusText": "OK", "headers": [["content-type", "text/plain"]]}))
        .unwrap();
        assert_eq!((head.id(), head.kind()), (Some(3), "head"));
        let Incoming::Head { headers, end, .. } = head else {
            panic!("not a head")
        };
        assert_eq!(headers[0].1, "text/plain");
        assert_eq!(end, None);
        let shutdown: Incoming = serde_json::from_value(json!({"t": "shutdown"})).unwrap();
        assert_eq!(shutdown, Incoming::Shutdown);
        let error: Incoming = serde_json::from_value(
            json!({"t": "error", "id": 4, "status": 423, "body": "{\"error\":{}}"}),
        )
        .unwrap();
        let Incoming::Error { body, .. } = error else {
            panic!("not an error")
        };
        assert_eq!(body_text(&body), "{\"error\":{}}");
        assert_eq!(body_text(&json!({"a": 1})), "{\"a\":1}");
    }

    #[test]
    fn fail_unknown_or_incomplete_frames_do_not_parse() {
        assert!(serde_json::from_value::<Incoming>(json!({"t": "bogus", "id": 1})).is_err());
        assert!(serde_json::from_value::<Incoming>(json!({"t": "head", "id": 1})).is_err());
        assert!(serde_json::from_value::<Incoming>(json!({"id": 1})).is_err());
    }
}

//! The CLI's side of the bridge: blocking HTTP to 127.0.0.1 only (no proxy, no
//! redirects), and the mapping from what comes back to a typed error.

use crate::error::KeyfobError;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use std::io::ErrorKind;
use std::time::Duration;

/// The largest answer read from the bridge.
const MAX_ANSWER: u64 = 16 << 20;

pub struct Bridge {
    addr: String,
    timeout: Duration,
    agent: ureq::Agent,
}

impl Bridge {
    /// A client for the bridge on `KEYFOB_BRIDGE_PORT` (default 8790).
    pub fn new(timeout: Duration) -> Result<Self, KeyfobError> {
        let addr = format!("127.0.0.1:{}", crate::bridge::port()?);
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .max_redirects(0)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Ok(Self {
            addr,
            timeout,
            agent,
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// `POST /_keyfob/{cmd}` with the token as a bearer, if any.
    pub fn command(
        &self,
        cmd: &str,
        token: Option<&SecretString>,
        args: &Value,
    ) -> Result<Value, KeyfobError> {
        let mut request = self
            .agent
            .post(format!("http://{}/_keyfob/{cmd}", self.addr))
            .content_type("application/json");
        if let Some(token) = token {
            // EXPOSE: the token goes to the bridge on loopback, which forwards it to the
            // extension that verifies it.
            request = request.header("authorization", format!("Bearer {}", token.expose_secret()));
        }
        let response = request.send(args.to_string());
        self.finish(response)
    }

    /// `GET {path}` with the given headers (a provider call through the bridge).
    pub fn get(&self, path: &str, headers: &[(&str, String)]) -> Result<Value, KeyfobError> {
        let mut request = self.agent.get(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.finish(request.call())
    }

    fn finish(
        &self,
        response: Result<http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Value, KeyfobError> {
        let mut response = response.map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER)
            .read_to_vec()
            .map_err(|e| self.transport(e))?;
        answer(status, &body)
    }

    /// Refused or reset: not running (exit 2). Out of time: exit 3. Anything else broke
    /// the answer (exit 3).
    fn transport(&self, error: ureq::Error) -> KeyfobError {
        let unreachable = |detail: String| KeyfobError::BridgeUnreachable {
            addr: self.addr.clone(),
            detail,
        };
        match error {
            ureq::Error::Timeout(_) => KeyfobError::Timeout(self.timeout.as_secs()),
            ureq::Error::ConnectionFailed => unreachable("connection failed".into()),
            ureq::Error::Io(e) => match e.kind() {
                ErrorKind::ConnectionRefused
                | ErrorKind::ConnectionReset
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
                | ErrorKind::AddrNotAvailable => unreachable(e.to_string()),
                ErrorKind::TimedOut | ErrorKind::WouldBlock => {
                    KeyfobError::Timeout(self.timeout.as_secs())
                }
                _ => KeyfobError::BadAnswer(e.to_string()),
            },
            other => KeyfobError::BadAnswer(other.to_string()),
        }
    }
}

/// A 2xx answer's JSON, or the error the body describes.
pub fn answer(status: u16, body: &[u8]) -> Result<Value, KeyfobError> {
    if !(200..300).contains(&status) {
        return Err(error_from(status, body));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body)
        .map_err(|_| KeyfobError::BadAnswer(format!("a {status} answer that is not JSON")))
}

/// Keyfob's `{"error":{"code","message"}}`, or a provider's own error shape (OpenAI's
/// `type`, Gemini's `status`, a numeric `code`), or the bare status.
pub fn error_from(status: u16, body: &[u8]) -> KeyfobError {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &value["error"];
    let code = [&error["code"], &error["status"], &error["type"]]
        .into_iter()
        .find_map(|v| v.as_str().filter(|s| !s.is_empty()))
        .map(str::to_string)
        .unwrap_or_else(|| format!("HTTP_{status}"));
    let message = match error["message"].as_str().or(error.as_str()) {
        Some(message) => message.to_string(),
        None => {
            let text = String::from_utf8_lossy(body);
            let text: String = text.trim().chars().take(200).collect();
            if text.is_empty() {
                format!("the bridge answered {status}")
            } else {
                text
            }
        }
    };
    KeyfobError::Http {
        status,
        code,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_answers_are_json() {
        assert_eq!(answer(200, br#"{"a":1}"#).unwrap()["a"], 1);
        assert_eq!(answer(204, b"").unwrap(), Value::Null);
        let e = answer(200, b"<html>").unwrap_err();
        assert_eq!(e.code(), "BRIDGE_BAD_ANSWER");
    }

    #[test]
    fn keyfob_and_provider_errors_are_typed() {
        let keyfob = br#"{"error":{"code":"WALLET_LOCKED","message":"locked","source":"keyfob"}}"#;
        let e = answer(423, keyfob).unwrap_err();
        assert_eq!(
            (e.code(), e.message().as_str()),
            ("WALLET_LOCKED", "locked")
        );
        let openai = br#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":null}}"#;
        assert_eq!(error_from(401, openai).code(), "invalid_request_error");
        let gemini = br#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(error_from(400, gemini).code(), "INVALID_ARGUMENT");
        let bare = error_from(502, b"Bad Gateway");
        assert_eq!(
            (bare.code(), bare.message().as_str()),
            ("HTTP_502", "Bad Gateway")
        );
        assert_eq!(error_from(500, b"").message(), "the bridge answered 500");
    }
}

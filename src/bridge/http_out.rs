//! The response half of the bridge's HTTP/1.1: Keyfob's own JSON errors, and the
//! extension's responses relayed as a head plus a chunked body.
//!
//! The extension's `fetch` has already decoded the body, so its framing headers
//! (`content-length`, `transfer-encoding`, `content-encoding`) and hop-by-hop headers are
//! dropped and the body is re-framed here. Header names and values that could split the
//! response (CR, LF, NUL, non-token names) are dropped too.

use crate::error::KeyfobError;
use serde_json::json;
use std::io::{self, Write};

/// Headers never relayed from the extension's response.
const DROPPED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "content-length",
    "content-encoding",
];

/// The status and JSON body of an error raised by Keyfob.
pub fn error_parts(error: &KeyfobError) -> (u16, Vec<u8>) {
    let status = match error {
        KeyfobError::Http { status, .. } => *status,
        _ => 502,
    };
    let body =
        json!({"error": {"code": error.code(), "message": error.message(), "source": "keyfob"}});
    (status, body.to_string().into_bytes())
}

/// A complete response with a JSON body and `Connection: close`.
pub fn write_json(out: &mut impl Write, status: u16, body: &[u8]) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
        reason(status, ""),
        body.len()
    );
    let mut response = head.into_bytes();
    response.extend_from_slice(body);
    out.write_all(&response)?;
    out.flush()
}

/// A relayed response head; `chunked` announces a body (false for HEAD, 204 and 304).
pub fn write_head(
    out: &mut impl Write,
    status: u16,
    status_text: &str,
    headers: &[(String, String)],
    chunked: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status, status_text));
    for (name, value) in relayed(headers) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if chunked {
        head.push_str("transfer-encoding: chunked\r\n");
    }
    head.push_str("connection: close\r\n\r\n");
    out.write_all(head.as_bytes())?;
    out.flush()
}

/// One chunk, flushed so it reaches the client now (SSE depends on it). Empty data is
/// skipped: an empty chunk would end the body.
pub fn write_chunk(out: &mut impl Write, data: &[u8]) -> io::Result<()> {
    if data.is_empty() {
        return Ok(());
    }
    let mut chunk = format!("{:x}\r\n", data.len()).into_bytes();
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(b"\r\n");
    out.write_all(&chunk)?;
    out.flush()
}

/// The last chunk: the body ended cleanly.
pub fn write_last_chunk(out: &mut impl Write) -> io::Result<()> {
    out.write_all(b"0\r\n\r\n")?;
    out.flush()
}

/// The headers that survive the filter, names lower-cased.
pub fn relayed(headers: &[(String, String)]) -> impl Iterator<Item = (String, &str)> {
    headers.iter().filter_map(|(name, value)| {
        let name = name.to_ascii_lowercase();
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        let clean = !value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0);
        (token && clean && !DROPPED.contains(&name.as_str())).then_some((name, value.as_str()))
    })
}

/// The extension's status text when it is printable, else the standard reason phrase.
pub fn reason(status: u16, text: &str) -> String {
    let printable = text
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || b.is_ascii_graphic());
    if !text.trim().is_empty() && printable {
        return text.to_string();
    }
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn framing_and_hop_by_hop_headers_are_dropped() {
        let headers = pairs(&[
            ("Content-Type", "text/event-stream"),
            ("content-length", "10"),
            ("Content-Encoding", "gzip"),
            ("transfer-encoding", "chunked"),
            ("connection", "keep-alive"),
            ("x-request-id", "req_1"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
            ("x-evil", "a\r\nset-cookie: injected"),
            ("bad name", "x"),
        ]);
        let kept: Vec<_> = relayed(&headers).map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(
            kept,
            [
                "content-type=text/event-stream",
                "x-request-id=req_1",
                "set-cookie=a=1",
                "set-cookie=b=2"
            ]
        );
    }

    #[test]
    fn a_relayed_response_is_chunked_and_ends_with_the_last_chunk() {
        let mut out = Vec::new();
        write_head(
            &mut out,
            200,
            "",
            &pairs(&[("content-type", "text/plain")]),
            true,
        )
        .unwrap();
        write_chunk(&mut out, b"hello").unwrap();
        write_chunk(&mut out, b"").unwrap();
        write_chunk(&mut out, &[b'x'; 26]).unwrap();
        write_last_chunk(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n5\r\nhello\r\n1a\r\nxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n0\r\n\r\n"
        );
    }

    #[test]
    fn the_status_text_falls_back_to_the_standard_phrase() {
        assert_eq!(reason(429, "Slow Down"), "Slow Down");
        assert_eq!(reason(429, ""), "Too Many Requests");
        assert_eq!(reason(200, "OK\r\nx: y"), "OK");
        assert_eq!(reason(599, ""), "");
    }

    #[test]
    fn keyfob_errors_carry_code_message_and_source() {
        let (status, body) = error_parts(&KeyfobError::http(401, "CLIENT_TOKEN_MISSING", "m"));
        assert_eq!(status, 401);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            value,
            json!({"error": {"code": "CLIENT_TOKEN_MISSING", "message": "m", "source": "keyfob"}})
        );
        let mut out = Vec::new();
        write_json(&mut out, status, &body).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 401 Unauthorized\r\n"));
        assert!(text.contains(&format!("content-length: {}\r\n", body.len())));
    }
}

//! The request half of the bridge's HTTP/1.1 (RFC 9112): the head, parsed with
//! `httparse` and bounded in size, then the body as a reader that speaks
//! `Content-Length` or `Transfer-Encoding: chunked` and turns a short body into an error
//! (a client that went away mid-upload is an abort, never a silently shorter body).

use crate::error::KeyfobError;
use std::io::{self, BufRead, ErrorKind, Read};

/// The largest request head (request line and headers) accepted.
const MAX_HEAD: u64 = 64 * 1024;
const MAX_HEADERS: usize = 128;
/// The largest chunk-size or trailer line accepted.
const MAX_LINE: u64 = 4096;

#[derive(Debug)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    /// Names lower-cased, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: BodyKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    None,
    Length(u64),
    Chunked,
}

/// Reads one request head. `Ok(None)`: the client closed before sending one.
pub fn read_head(reader: &mut impl BufRead) -> Result<Option<RequestHead>, KeyfobError> {
    let bad = |message: &str| KeyfobError::http(400, "BRIDGE_BAD_REQUEST", message);
    let mut head = Vec::new();
    loop {
        let room = MAX_HEAD - head.len() as u64;
        let start = head.len();
        let n = (&mut *reader)
            .take(room)
            .read_until(b'\n', &mut head)
            .map_err(|_| bad("the request head could not be read"))?;
        if n == 0 {
            return match head.is_empty() {
                true => Ok(None),
                false => Err(bad("the request head ended early")),
            };
        }
        let line = &head[start..];
        if !line.ends_with(b"\n") {
            return Err(KeyfobError::http(
                431,
                "BRIDGE_HEAD_TOO_LARGE",
                "the request head is too large",
            ));
        }
        if line == b"\r\n" || line == b"\n" {
            if start == 0 {
                head.clear(); // a stray empty line before the request line (RFC 9112 §2.2)
                continue;
            }
            break;
        }
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    match request.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) | Err(_) => return Err(bad("malformed request head")),
    }
    let (Some(method), Some(target)) = (request.method, request.path) else {
        return Err(bad("malformed request line"));
    };
    let mut headers = Vec::with_capacity(request.headers.len());
    for h in request.headers.iter() {
        let value = std::str::from_utf8(h.value).map_err(|_| bad("a header is not UTF-8"))?;
        headers.push((h.name.to_ascii_lowercase(), value.trim().to_string()));
    }
    let body = body_kind(&headers).ok_or_else(|| bad("unsupported body framing"))?;
    Ok(Some(RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        headers,
        body,
    }))
}

/// `Transfer-Encoding` wins over `Content-Length`; only `chunked` is understood, and
/// conflicting lengths are refused (`None`).
fn body_kind(headers: &[(String, String)]) -> Option<BodyKind> {
    let mut encodings = headers.iter().filter(|(n, _)| n == "transfer-encoding");
    if let Some((_, first)) = encodings.next() {
        let only_chunked = encodings.next().is_none() && first.eq_ignore_ascii_case("chunked");
        return only_chunked.then_some(BodyKind::Chunked);
    }
    let mut length = None;
    for (_, value) in headers.iter().filter(|(n, _)| n == "content-length") {
        let parsed: u64 = value.parse().ok()?;
        if length.is_some_and(|l| l != parsed) {
            return None;
        }
        length = Some(parsed);
    }
    Some(match length {
        None | Some(0) => BodyKind::None,
        Some(n) => BodyKind::Length(n),
    })
}

/// The request body as a reader; it ends exactly at the body's end.
pub struct BodyReader<'a, R> {
    inner: &'a mut R,
    kind: BodyKind,
    /// Bytes left in the body (`Length`) or in the current chunk (`Chunked`).
    left: u64,
    done: bool,
}

impl<'a, R: BufRead> BodyReader<'a, R> {
    pub fn new(inner: &'a mut R, kind: BodyKind) -> Self {
        let left = match kind {
            BodyKind::Length(n) => n,
            _ => 0,
        };
        Self {
            inner,
            kind,
            left,
            done: kind == BodyKind::None,
        }
    }

    fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        (&mut *self.inner)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)?;
        if !line.ends_with(b"\n") {
            return Err(io::Error::new(ErrorKind::InvalidData, "bad chunk framing"));
        }
        Ok(line)
    }

    /// Reads the next chunk-size line; at the last chunk, also the trailers.
    fn next_chunk(&mut self) -> io::Result<()> {
        let line = self.line()?;
        let size = match httparse::parse_chunk_size(&line) {
            Ok(httparse::Status::Complete((_, size))) => size,
            _ => return Err(io::Error::new(ErrorKind::InvalidData, "bad chunk size")),
        };
        if size == 0 {
            while !matches!(self.line()?.as_slice(), b"\r\n" | b"\n") {}
            self.done = true;
        }
        self.left = size;
        Ok(())
    }
}

impl<R: BufRead> Read for BodyReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        if self.kind == BodyKind::Chunked && self.left == 0 {
            self.next_chunk()?;
            if self.done {
                return Ok(0);
            }
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "the client closed the connection inside the body",
            ));
        }
        self.left -= n as u64;
        if self.left == 0 && self.kind == BodyKind::Chunked {
            if !matches!(self.line()?.as_slice(), b"\r\n" | b"\n") {
                return Err(io::Error::new(ErrorKind::InvalidData, "bad chunk end"));
            }
        } else if self.left == 0 {
            self.done = true;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn parse(wire: &[u8]) -> Result<Option<RequestHead>, KeyfobError> {
        read_head(&mut Cursor::new(wire.to_vec()))
    }

    fn body(wire: &[u8]) -> io::Result<Vec<u8>> {
        let mut input = Cursor::new(wire.to_vec());
        let head = read_head(&mut input).unwrap().unwrap();
        let mut out = Vec::new();
        BodyReader::new(&mut input, head.body).read_to_end(&mut out)?;
        let mut rest = Vec::new();
        input.read_to_end(&mut rest)?;
        assert_eq!(rest, b"NEXT", "the body reader stops at the body's end");
        Ok(out)
    }

    #[test]
    fn a_head_is_parsed_with_lowercase_names() {
        let head = parse(b"\r\nPOST /openai/v1/x?a=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Api-Key: k\r\nContent-Length: 3\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/openai/v1/x?a=1");
        assert_eq!(head.headers[1], ("x-api-key".into(), "k".into()));
        assert_eq!(head.body, BodyKind::Length(3));
        assert!(parse(b"").unwrap().is_none());
    }

    #[test]
    fn fail_malformed_oversized_or_ambiguous_heads_are_refused() {
        let e = parse(b"GARBAGE\r\n\r\n").unwrap_err();
        assert_eq!(e.code(), "BRIDGE_BAD_REQUEST");
        let huge = format!("GET / HTTP/1.1\r\nx: {}\r\n\r\n", "a".repeat(70_000));
        assert_eq!(
            parse(huge.as_bytes()).unwrap_err().code(),
            "BRIDGE_HEAD_TOO_LARGE"
        );
        assert!(parse(b"GET / HTTP/1.1\r\nHost: x\r\n").is_err());
        let two = b"POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n";
        assert!(parse(two).is_err());
        assert!(parse(b"POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n").is_err());
    }

    #[test]
    fn content_length_and_chunked_bodies_read_exactly() {
        let fixed = body(b"POST / HTTP/1.1\r\ncontent-length: 5\r\n\r\nhelloNEXT").unwrap();
        assert_eq!(fixed, b"hello");
        let chunked = body(
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\ntrailer: x\r\n\r\nNEXT",
        )
        .unwrap();
        assert_eq!(chunked, b"hello world");
        let none = body(b"GET / HTTP/1.1\r\n\r\nNEXT").unwrap();
        assert!(none.is_empty());
    }

    #[test]
    fn fail_a_body_cut_short_is_an_error_not_a_shorter_body() {
        let mut input = Cursor::new(b"POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\nhello".to_vec());
        let head = read_head(&mut input).unwrap().unwrap();
        let mut out = Vec::new();
        let e = BodyReader::new(&mut input, head.body)
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedEof);
        let mut input = Cursor::new(
            b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n".to_vec(),
        );
        let head = read_head(&mut input).unwrap().unwrap();
        assert!(BodyReader::new(&mut input, head.body)
            .read_to_end(&mut out)
            .is_err());
        let mut input =
            Cursor::new(b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n".to_vec());
        let head = read_head(&mut input).unwrap().unwrap();
        assert!(BodyReader::new(&mut input, head.body)
            .read_to_end(&mut out)
            .is_err());
    }
}

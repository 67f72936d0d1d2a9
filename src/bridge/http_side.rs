//! One HTTP connection (one thread each, one request each, `Connection: close`): check
//! it, forward it to the extension as frames, relay the answer frames as they arrive.
//!
//! Invariants: a refused request sends no frame; a request whose client goes away
//! (a failed body read, a failed write, or the socket closing while we wait) sends
//! `abort`; a response that breaks after its head ends without the last chunk, so the
//! client sees a broken stream and never a clean, shorter body.
//!
//! While a request waits on the extension (a login waits for a human, with no host-side
//! timeout), its socket is checked every [`LIVENESS`]: end of input counts as gone, so a
//! client that half-closes its side after the request is treated as disconnected.

use super::frames::{self, Incoming, Outgoing};
use super::guard::{self, Route};
use super::http_in::{read_head, BodyKind, BodyReader, RequestHead};
use super::http_out::{error_parts, write_chunk, write_head, write_json, write_last_chunk};
use super::hub::{Hub, Ticket};
use crate::error::KeyfobError;
use std::io::{BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;

/// Raw body bytes per `body` frame: base64 and JSON keep it well under Chrome's 1 MB.
pub const BODY_FRAME: usize = 256 * 1024;
/// The largest JSON body a `/_keyfob/` command accepts.
const MAX_COMMAND_BODY: u64 = 256 * 1024;
/// How often a request waiting on the extension checks that its client is still there.
const LIVENESS: Duration = Duration::from_millis(200);

/// Request headers not forwarded: hop-by-hop ones and this hop's framing.
const NOT_FORWARDED: &[&str] = &[
    "host",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "upgrade",
    "transfer-encoding",
    "content-length",
    "expect",
];

/// Accepts connections until the process exits.
pub fn serve(listener: TcpListener, hub: Arc<Hub>) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                let hub = hub.clone();
                std::thread::spawn(move || handle(stream, &hub));
            }
            Err(e) => eprintln!("keyfob bridge: accept failed: {e}"),
        }
    }
}

fn handle(stream: TcpStream, hub: &Hub) {
    // The head and each chunk are small writes: without this, Nagle holds the next one
    // back until the client's delayed ACK of the last (tens of ms on every answer).
    let _ = stream.set_nodelay(true);
    let Ok(mut out) = stream.try_clone() else {
        return;
    };
    let mut input = BufReader::new(stream);
    let head = match read_head(&mut input) {
        Ok(Some(head)) => head,
        Ok(None) => return,
        Err(e) => return refuse(&mut out, &e),
    };
    let checked = guard::check_caller(&head.headers).and_then(|()| guard::route(&head.target));
    match checked {
        Err(e) => refuse(&mut out, &e),
        Ok(Route::Command(cmd)) => command(hub, &head, &mut input, &mut out, cmd),
        Ok(Route::Provider { .. }) if !guard::has_token(&head.headers, &head.target) => {
            let e = KeyfobError::http(
                401,
                "CLIENT_TOKEN_MISSING",
                "no client token: run `keyfob login` and send the token as the API key",
            );
            refuse(&mut out, &e);
        }
        Ok(Route::Provider { provider, path }) => {
            provider_call(hub, &head, &mut input, &mut out, provider, path)
        }
    }
}

/// Writes a Keyfob error, then lets the client finish sending (bounded) so that closing
/// with unread input does not reset the connection before the client reads the answer.
fn refuse(out: &mut TcpStream, error: &KeyfobError) {
    let (status, body) = error_parts(error);
    if write_json(out, status, &body).is_err() {
        return;
    }
    let _ = out.shutdown(Shutdown::Write);
    let _ = out.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = std::io::copy(&mut (&*out).take(1 << 20), &mut std::io::sink());
}

fn continue_if_expected(head: &RequestHead, out: &mut TcpStream) -> std::io::Result<()> {
    match guard::header(&head.headers, "expect") {
        Some(v) if v.eq_ignore_ascii_case("100-continue") && head.body != BodyKind::None => {
            out.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
        }
        _ => Ok(()),
    }
}

fn command(
    hub: &Hub,
    head: &RequestHead,
    input: &mut BufReader<TcpStream>,
    out: &mut TcpStream,
    cmd: String,
) {
    if continue_if_expected(head, out).is_err() {
        return;
    }
    let mut body = Vec::new();
    let read = BodyReader::new(input, head.body)
        .take(MAX_COMMAND_BODY + 1)
        .read_to_end(&mut body);
    if read.is_err() {
        return; // the client went away before anything was sent
    }
    if body.len() as u64 > MAX_COMMAND_BODY {
        let e = KeyfobError::http(413, "BRIDGE_BODY_TOO_LARGE", "command body too large");
        return refuse(out, &e);
    }
    let args = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(args) => args,
            Err(_) => {
                let e = KeyfobError::http(400, "BRIDGE_BAD_JSON", "the body is not JSON");
                return refuse(out, &e);
            }
        }
    };
    let ticket = hub.open();
    let frame = Outgoing::Cmd {
        id: ticket.id,
        cmd,
        token: guard::bearer(&head.headers),
        args,
    };
    if let Err(e) = hub.send(&frame) {
        return refuse(out, &e);
    }
    loop {
        let written = match next_answer(&ticket, out) {
            Answer::Frame(Incoming::Reply { status, body, .. }) => {
                write_json(out, answer_status(status), body.to_string().as_bytes())
            }
            Answer::Frame(Incoming::Error { status, body, .. }) => write_json(
                out,
                answer_status(status),
                frames::body_text(&body).as_bytes(),
            ),
            Answer::Frame(other) => {
                let kind = other.kind();
                eprintln!(
                    "keyfob bridge: command {}: ignoring a {kind} frame",
                    ticket.id
                );
                continue;
            }
            Answer::ClientGone => Err(ErrorKind::ConnectionAborted.into()),
        };
        if written.is_err() {
            abort(hub, &ticket);
        }
        return;
    }
}

fn provider_call(
    hub: &Hub,
    head: &RequestHead,
    input: &mut BufReader<TcpStream>,
    out: &mut TcpStream,
    provider: String,
    path: String,
) {
    if continue_if_expected(head, out).is_err() {
        return;
    }
    let headers: Vec<(String, String)> = head
        .headers
        .iter()
        .filter(|(name, _)| !NOT_FORWARDED.contains(&name.as_str()))
        .cloned()
        .collect();
    let mut body = BodyReader::new(input, head.body);
    // A body known to fit in one frame rides along with the request.
    let inline = match head.body {
        BodyKind::Length(n) if n <= BODY_FRAME as u64 => {
            let mut bytes = Vec::new();
            if body.read_to_end(&mut bytes).is_err() {
                return; // the client went away before anything was sent
            }
            Some(frames::encode(&bytes))
        }
        _ => None,
    };
    let ticket = hub.open();
    let streamed = head.body != BodyKind::None && inline.is_none();
    let frame = Outgoing::Req {
        id: ticket.id,
        provider,
        method: head.method.clone(),
        path,
        headers,
        has_body: head.body != BodyKind::None,
        end: inline.as_ref().map(|_| true),
        b: inline,
    };
    if let Err(e) = hub.send(&frame) {
        return refuse(out, &e);
    }
    let paced = head.body == BodyKind::Chunked;
    if streamed && stream_body(hub, &ticket, &mut body, paced).is_err() {
        return abort(hub, &ticket);
    }
    let has_body = head.method != "HEAD";
    if relay(&ticket, out, has_body).is_err() {
        abort(hub, &ticket);
    }
}

/// Sends the body as `body` frames of at most [`BODY_FRAME`] bytes, then `end`. A sized
/// body fills whole frames; a chunked upload is forwarded as it arrives (`paced`).
fn stream_body(
    hub: &Hub,
    ticket: &Ticket<'_>,
    body: &mut impl Read,
    paced: bool,
) -> Result<(), KeyfobError> {
    let mut buf = vec![0; BODY_FRAME];
    loop {
        let mut filled = 0;
        while filled < buf.len() {
            match body.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) if paced => {
                    filled += n;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(KeyfobError::io("reading the request body")(e)),
            }
        }
        if filled == 0 {
            return hub.send(&Outgoing::End { id: ticket.id });
        }
        let b = frames::encode(&buf[..filled]);
        hub.send(&Outgoing::Body { id: ticket.id, b })?;
    }
}

/// What a waiting request got next.
enum Answer {
    Frame(Incoming),
    ClientGone,
}

/// Waits for the next frame of this request while watching its client.
fn next_answer(ticket: &Ticket<'_>, client: &TcpStream) -> Answer {
    loop {
        match ticket.answers.recv_timeout(LIVENESS) {
            Ok(frame) => return Answer::Frame(frame),
            Err(RecvTimeoutError::Timeout) if client_gone(client) => return Answer::ClientGone,
            Err(RecvTimeoutError::Timeout) => {}
            // The hub keeps the sender while the ticket lives, so this cannot happen; treat
            // it as the end of this request.
            Err(RecvTimeoutError::Disconnected) => return Answer::ClientGone,
        }
    }
}

/// A closed (EOF) or broken socket; pending pipelined bytes mean it is alive.
fn client_gone(client: &TcpStream) -> bool {
    if client.set_nonblocking(true).is_err() {
        return true;
    }
    let peeked = client.peek(&mut [0u8; 1]);
    let gone = match peeked {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    gone || client.set_nonblocking(false).is_err()
}

/// Relays head, data and end frames to the client. `Err`: the client went away.
fn relay(ticket: &Ticket<'_>, out: &mut TcpStream, has_body: bool) -> std::io::Result<()> {
    let gone = || std::io::Error::from(ErrorKind::ConnectionAborted);
    // Before the head: an error frame is an ordinary JSON response.
    let ended = match next_answer(ticket, out) {
        Answer::ClientGone => return Err(gone()),
        Answer::Frame(Incoming::Head {
            status,
            status_text,
            headers,
            b,
            end,
            ..
        }) if (200..=599).contains(&status) => {
            let chunked = has_body && !matches!(status, 204 | 304);
            write_head(out, status, &status_text, &headers, chunked)?;
            if !chunked {
                return Ok(());
            }
            if let Some(b) = b {
                match frames::decode(&b) {
                    Ok(bytes) => write_chunk(out, &bytes)?,
                    Err(_) => return broken(out, ticket.id, "undecodable base64 in head"),
                }
            }
            end == Some(true)
        }
        Answer::Frame(Incoming::Error { status, body, .. }) => {
            let body = frames::body_text(&body);
            return write_json(out, answer_status(status), body.as_bytes());
        }
        Answer::Frame(Incoming::Fail { code, message, .. }) => {
            let e = KeyfobError::http(502, &code, message);
            let (status, body) = error_parts(&e);
            return write_json(out, status, &body);
        }
        Answer::Frame(other) => {
            let e = KeyfobError::http(
                502,
                "BRIDGE_PROTOCOL_ERROR",
                "the extension answered out of order",
            );
            let kind = other.kind();
            eprintln!(
                "keyfob bridge: request {}: a {kind} frame before head",
                ticket.id
            );
            let (status, body) = error_parts(&e);
            write_json(out, status, &body)?;
            return Err(gone()); // the extension's side is confused: abort it
        }
    };
    if ended {
        return write_last_chunk(out);
    }
    loop {
        match next_answer(ticket, out) {
            Answer::ClientGone => return Err(gone()),
            Answer::Frame(Incoming::Data { b, end, .. }) => {
                match frames::decode(&b) {
                    Ok(bytes) => write_chunk(out, &bytes)?,
                    Err(_) => return broken(out, ticket.id, "undecodable base64 in data"),
                }
                if end == Some(true) {
                    return write_last_chunk(out);
                }
            }
            Answer::Frame(Incoming::End { .. }) => return write_last_chunk(out),
            Answer::Frame(Incoming::Fail { code, message, .. }) => {
                let why = format!("the upstream stream broke ({code}: {message})");
                let _ = broken(out, ticket.id, &why);
                return Ok(()); // the extension has already ended its side
            }
            Answer::Frame(other) => {
                let kind = other.kind();
                eprintln!(
                    "keyfob bridge: request {}: unexpected {kind} frame",
                    ticket.id
                );
                return broken(out, ticket.id, "the extension answered out of order");
            }
        }
    }
}

/// A status the extension gave for a complete answer; nonsense becomes 502.
fn answer_status(status: u16) -> u16 {
    match status {
        200..=599 => status,
        _ => 502,
    }
}

/// Ends a chunked response without its last chunk: the client sees a broken stream.
/// Returns `Err` so that the caller aborts the extension's side as well (harmless when
/// the extension already ended it).
fn broken(out: &mut TcpStream, id: u64, why: &str) -> std::io::Result<()> {
    eprintln!("keyfob bridge: request {id}: {why}; closing the response unfinished");
    let _ = out.shutdown(Shutdown::Both);
    Err(std::io::Error::from(ErrorKind::ConnectionAborted))
}

fn abort(hub: &Hub, ticket: &Ticket<'_>) {
    if let Err(e) = hub.send(&Outgoing::Abort { id: ticket.id }) {
        eprintln!("keyfob bridge: could not send abort {}: {e}", ticket.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::framing::read_frame;
    use std::io::Cursor;
    use std::sync::Mutex;
    use std::time::Instant;

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Hands out at most `step` bytes per read, like a socket.
    struct Trickle(Cursor<Vec<u8>>, usize);
    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.1);
            self.0.read(&mut buf[..n])
        }
    }

    fn body_frames(body: &[u8], step: usize, paced: bool) -> Vec<serde_json::Value> {
        let capture = Capture::default();
        let hub = Hub::new(Box::new(capture.clone()));
        let ticket = hub.open();
        let mut reader = Trickle(Cursor::new(body.to_vec()), step);
        stream_body(&hub, &ticket, &mut reader, paced).unwrap();
        let mut wire = Cursor::new(capture.0.lock().unwrap().clone());
        let mut frames = Vec::new();
        while let Some(frame) = read_frame(&mut wire).unwrap() {
            frames.push(serde_json::from_slice(&frame).unwrap());
        }
        frames
    }

    #[test]
    fn a_sized_body_fills_whole_frames_and_ends() {
        let body: Vec<u8> = (0..600 * 1024).map(|i| i as u8).collect();
        let frames = body_frames(&body, 64 * 1024, false);
        let sizes: Vec<usize> = frames[..frames.len() - 1]
            .iter()
            .map(|f| frames::decode(f["b"].as_str().unwrap()).unwrap().len())
            .collect();
        assert_eq!(sizes, [BODY_FRAME, BODY_FRAME, 600 * 1024 - 2 * BODY_FRAME]);
        assert_eq!(frames.last().unwrap()["t"], "end");
    }

    #[test]
    fn a_chunked_body_is_forwarded_as_it_arrives() {
        let frames = body_frames(b"abcdefghij", 4, true);
        let parts: Vec<Vec<u8>> = frames
            .iter()
            .filter(|f| f["t"] == "body")
            .map(|f| frames::decode(f["b"].as_str().unwrap()).unwrap())
            .collect();
        assert_eq!(parts, [b"abcd".to_vec(), b"efgh".to_vec(), b"ij".to_vec()]);
    }

    #[test]
    fn a_closed_client_is_noticed_and_a_waiting_one_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        assert!(!client_gone(&server));
        drop(client);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !client_gone(&server) {
            assert!(
                Instant::now() < deadline,
                "a closed client was never noticed"
            );
            std::thread::yield_now();
        }
    }

    #[test]
    fn nonsense_statuses_become_502() {
        assert_eq!(answer_status(200), 200);
        assert_eq!(answer_status(423), 423);
        assert_eq!(answer_status(0), 502);
        assert_eq!(answer_status(101), 502);
        assert_eq!(answer_status(600), 502);
    }
}

//! The bridge host as Chrome runs it: the built binary started as
//! `keyfob chrome-extension://abc/`, this test playing the extension on its stdin and
//! stdout, and real HTTP clients on 127.0.0.1. No fixed sleeps: every wait is a bounded
//! wait for a condition.
#![allow(clippy::unwrap_used)]

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// The host process and the extension's end of its pipes.
struct Host {
    child: Child,
    stdin: Option<ChildStdin>,
    frames: Receiver<Value>,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Host {
    fn start() -> Self {
        Self::start_on(free_port())
    }

    fn start_on(port: u16) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keyfob"))
            .arg("chrome-extension://abc/")
            .env("KEYFOB_BRIDGE_PORT", port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (tx, frames) = channel();
        std::thread::spawn(move || {
            let mut length = [0u8; 4];
            while stdout.read_exact(&mut length).is_ok() {
                let length = u32::from_ne_bytes(length) as usize;
                assert!(length <= 1024 * 1024, "a host message over 1 MB");
                let mut message = vec![0; length];
                stdout.read_exact(&mut message).unwrap();
                if tx.send(serde_json::from_slice(&message).unwrap()).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Self {
            child,
            stdin,
            frames,
            port,
        }
    }

    /// Starts a host and waits for its `hello`.
    fn ready() -> Self {
        let host = Self::start();
        let hello = host.next();
        assert_eq!(hello["t"], "hello");
        assert_eq!(hello["listen"], format!("127.0.0.1:{}", host.port));
        assert!(hello["version"].is_string());
        host
    }

    fn next(&self) -> Value {
        self.frames
            .recv_timeout(WAIT)
            .expect("a frame from the host")
    }

    fn send(&mut self, frame: Value) {
        let bytes = frame.to_string().into_bytes();
        let stdin = self.stdin.as_mut().unwrap();
        stdin
            .write_all(&(bytes.len() as u32).to_ne_bytes())
            .unwrap();
        stdin.write_all(&bytes).unwrap();
        stdin.flush().unwrap();
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the host did not exit");
            std::thread::park_timeout(Duration::from_millis(20));
        }
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        stream
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

fn unb64(frame: &Value) -> Vec<u8> {
    STANDARD.decode(frame["b"].as_str().unwrap()).unwrap()
}

/// A response head: status and lower-cased headers.
struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn read_head(reader: &mut impl BufRead) -> Head {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            return Head { status, headers };
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
}

/// One chunk; `Ok(None)` at the last chunk; `Err` when the stream breaks.
fn read_chunk(reader: &mut impl BufRead) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let size = usize::from_str_radix(line.trim(), 16).unwrap();
    let mut data = vec![0; size + 2];
    reader.read_exact(&mut data)?;
    assert_eq!(&data[size..], b"\r\n");
    data.truncate(size);
    Ok((size > 0).then_some(data))
}

/// A complete response with a JSON body, sized or chunked.
fn read_response(stream: TcpStream) -> (Head, Value) {
    let mut reader = BufReader::new(stream);
    let head = read_head(&mut reader);
    let mut body = Vec::new();
    if head.header("transfer-encoding") == Some("chunked") {
        while let Some(chunk) = read_chunk(&mut reader).unwrap() {
            body.extend_from_slice(&chunk);
        }
    } else {
        let length: usize = head.header("content-length").unwrap().parse().unwrap();
        body.resize(length, 0);
        reader.read_exact(&mut body).unwrap();
    }
    (head, serde_json::from_slice(&body).unwrap())
}

fn get(host: &Host, target: &str, extra: &str) -> TcpStream {
    let mut stream = host.connect();
    let request = format!(
        "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{extra}\r\n",
        host.port
    );
    stream.write_all(request.as_bytes()).unwrap();
    stream
}

#[test]
fn a_streamed_response_reaches_the_client_chunk_by_chunk() {
    let mut host = Host::ready();
    let body = br#"{"model":"m","stream":true}"#;
    let mut client = host.connect();
    let request = format!(
        "POST /openai/v1/chat/completions?x=1 HTTP/1.1\r\nHost: localhost:{}\r\nAuthorization: Bearer kf-agent-1-abc\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: keep-alive\r\n\r\n",
        host.port,
        body.len()
    );
    client.write_all(request.as_bytes()).unwrap();
    client.write_all(body).unwrap();
    let req = host.next();
    assert_eq!(req["t"], "req");
    assert_eq!(req["provider"], "openai");
    assert_eq!(req["method"], "POST");
    assert_eq!(req["path"], "/v1/chat/completions?x=1");
    assert_eq!(req["hasBody"], true);
    assert_eq!(req["end"], true);
    assert_eq!(unb64(&req), body);
    let names: Vec<&str> = req["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h[0].as_str().unwrap())
        .collect();
    assert!(names.contains(&"authorization") && names.contains(&"content-type"));
    assert!(!names.contains(&"host") && !names.contains(&"connection"));
    let id = req["id"].clone();

    host.send(
        json!({"t": "head", "id": id, "status": 200, "statusText": "OK", "headers": [
        ["content-type", "text/event-stream"], ["content-length", "999"],
        ["content-encoding", "gzip"], ["x-request-id", "req_1"]]}),
    );
    host.send(json!({"t": "data", "id": id, "b": b64(b"data: one\n\n")}));
    let mut reader = BufReader::new(client);
    let head = read_head(&mut reader);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(head.header("x-request-id"), Some("req_1"));
    assert_eq!(head.header("transfer-encoding"), Some("chunked"));
    assert_eq!(head.header("content-length"), None);
    assert_eq!(head.header("content-encoding"), None);
    // The second frame is sent only once the first chunk has reached the client.
    assert_eq!(read_chunk(&mut reader).unwrap().unwrap(), b"data: one\n\n");
    host.send(json!({"t": "data", "id": id, "b": b64(b"data: two\n\n")}));
    assert_eq!(read_chunk(&mut reader).unwrap().unwrap(), b"data: two\n\n");
    host.send(json!({"t": "end", "id": id}));
    assert_eq!(read_chunk(&mut reader).unwrap(), None);
}

#[test]
fn a_600_kib_body_goes_in_frames_of_at_most_256_kib_and_reassembles() {
    let mut host = Host::ready();
    let body: Vec<u8> = (0..600 * 1024).map(|i| (i % 251) as u8).collect();
    let port = host.port;
    let upload = body.clone();
    let client = std::thread::spawn(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.set_read_timeout(Some(WAIT)).unwrap();
        let head = format!(
            "POST /anthropic/v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: kf-agent-2-x\r\nContent-Length: {}\r\n\r\n",
            upload.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&upload).unwrap();
        read_response(stream)
    });
    let req = host.next();
    assert_eq!(
        (req["t"].as_str(), req["hasBody"].as_bool()),
        (Some("req"), Some(true))
    );
    assert!(req.get("b").is_none() && req.get("end").is_none());
    let id = req["id"].clone();
    let mut received = Vec::new();
    let mut frames = 0;
    loop {
        let frame = host.next();
        assert_eq!(frame["id"], id);
        if frame["t"] == "end" {
            break;
        }
        assert_eq!(frame["t"], "body");
        let bytes = unb64(&frame);
        assert!(
            !bytes.is_empty() && bytes.len() <= 256 * 1024,
            "{}",
            bytes.len()
        );
        received.extend_from_slice(&bytes);
        frames += 1;
    }
    assert!(frames >= 3, "{frames} frames");
    assert!(received == body, "the body reassembles byte-exact");
    let answer = br#"{"ok":true}"#;
    host.send(
        json!({"t": "head", "id": id, "status": 200, "statusText": "",
        "headers": [["content-type", "application/json"]], "b": b64(answer), "end": true}),
    );
    let (head, answer) = client.join().unwrap();
    assert_eq!(head.status, 200);
    assert_eq!(answer, json!({"ok": true}));
}

#[test]
fn a_chunked_upload_is_decoded_before_it_is_forwarded() {
    let mut host = Host::ready();
    let mut client = host.connect();
    let head = "POST /gemini/v1beta/models/x:generateContent?key=kf-agent-3-y HTTP/1.1\r\nHost: [::1]\r\nTransfer-Encoding: chunked\r\n\r\n";
    client.write_all(head.as_bytes()).unwrap();
    client.write_all(b"5\r\nhello\r\n").unwrap();
    let req = host.next();
    assert_eq!(
        req["path"],
        "/v1beta/models/x:generateContent?key=kf-agent-3-y"
    );
    assert_eq!(req["hasBody"], true);
    let id = req["id"].clone();
    // The first chunk is forwarded before the client has sent the rest.
    let first = host.next();
    assert_eq!(
        (first["t"].as_str(), unb64(&first)),
        (Some("body"), b"hello".to_vec())
    );
    client.write_all(b"6;ext=1\r\n world\r\n0\r\n\r\n").unwrap();
    let mut rest = Vec::new();
    loop {
        let frame = host.next();
        if frame["t"] == "end" {
            break;
        }
        rest.extend_from_slice(&unb64(&frame));
    }
    assert_eq!(rest, b" world");
    host.send(json!({"t": "error", "id": id, "status": 423,
        "body": r#"{"error":{"code":"WALLET_LOCKED","message":"locked","source":"keyfob"}}"#}));
    let (head, body) = read_response(client);
    assert_eq!(head.status, 423);
    assert_eq!(head.header("content-type"), Some("application/json"));
    assert_eq!(body["error"]["code"], "WALLET_LOCKED");
}

#[test]
fn refused_requests_forward_nothing() {
    let mut host = Host::ready();
    let cases = [
        (
            "/openai/v1/models",
            "Authorization: Bearer kf\r\nOrigin: https://evil.test\r\n",
            403,
            "BRIDGE_ORIGIN_REFUSED",
        ),
        ("/openai/v1/models", "", 401, "CLIENT_TOKEN_MISSING"),
        (
            "/OpenAI/v1/models",
            "x-api-key: kf\r\n",
            404,
            "BRIDGE_UNKNOWN_PATH",
        ),
        ("/favicon.ico", "", 404, "BRIDGE_UNKNOWN_PATH"),
    ];
    for (target, extra, status, code) in cases {
        let (head, body) = read_response(get(&host, target, extra));
        assert_eq!(head.status, status, "{target} {extra}");
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["source"], "keyfob");
    }
    let mut evil = host.connect();
    evil.write_all(
        b"GET /openai/v1/models HTTP/1.1\r\nHost: evil.test\r\nAuthorization: Bearer kf\r\n\r\n",
    )
    .unwrap();
    let (head, body) = read_response(evil);
    assert_eq!(head.status, 403);
    assert_eq!(body["error"]["code"], "BRIDGE_HOST_REFUSED");
    // The next frame the extension sees is this request's: nothing came before it.
    let ok = get(
        &host,
        "/groq/v1/models",
        "Authorization: Bearer kf-agent-4-z\r\n",
    );
    let req = host.next();
    assert_eq!(
        (req["provider"].as_str(), req["path"].as_str()),
        (Some("groq"), Some("/v1/models"))
    );
    assert_eq!(req["hasBody"], false);
    host.send(
        json!({"t": "head", "id": req["id"], "status": 200, "statusText": "OK",
        "headers": [], "b": b64(b"{}"), "end": true}),
    );
    let mut reader = BufReader::new(ok);
    assert_eq!(read_head(&mut reader).status, 200);
    assert_eq!(read_chunk(&mut reader).unwrap().unwrap(), b"{}");
    assert_eq!(read_chunk(&mut reader).unwrap(), None);
}

#[test]
fn a_client_that_disconnects_mid_stream_aborts_the_request() {
    let mut host = Host::ready();
    let client = get(
        &host,
        "/openai/v1/responses",
        "Authorization: Bearer kf-agent-5-a\r\n",
    );
    let req = host.next();
    let id = req["id"].clone();
    host.send(
        json!({"t": "head", "id": id, "status": 200, "statusText": "OK",
        "headers": [["content-type", "text/event-stream"]]}),
    );
    host.send(json!({"t": "data", "id": id, "b": b64(b"data: 1\n\n")}));
    let mut reader = BufReader::new(client);
    read_head(&mut reader);
    assert_eq!(read_chunk(&mut reader).unwrap().unwrap(), b"data: 1\n\n");
    reader.get_ref().shutdown(Shutdown::Both).unwrap();
    drop(reader);
    // Keep streaming until the host notices (bounded): it must answer with `abort`.
    let deadline = Instant::now() + WAIT;
    let abort = loop {
        assert!(Instant::now() < deadline, "no abort frame");
        host.send(json!({"t": "data", "id": id, "b": b64(b"data: more\n\n")}));
        match host.frames.recv_timeout(Duration::from_millis(100)) {
            Ok(frame) => break frame,
            Err(RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(abort, json!({"t": "abort", "id": id}));
}

#[test]
fn a_broken_upstream_stream_breaks_the_client_stream() {
    let mut host = Host::ready();
    let client = get(
        &host,
        "/openai/v1/chat/completions",
        "api-key: kf-agent-6-b\r\n",
    );
    let id = host.next()["id"].clone();
    host.send(json!({"t": "head", "id": id, "status": 200, "statusText": "OK", "headers": []}));
    host.send(json!({"t": "data", "id": id, "b": b64(b"partial")}));
    let mut reader = BufReader::new(client);
    read_head(&mut reader);
    assert_eq!(read_chunk(&mut reader).unwrap().unwrap(), b"partial");
    host.send(json!({"t": "fail", "id": id, "code": "UPSTREAM_BROKE", "message": "reset"}));
    assert!(
        read_chunk(&mut reader).is_err(),
        "no clean last chunk after a fail"
    );
}

#[test]
fn a_command_round_trips_through_keyfob_status() {
    let mut host = Host::ready();
    let mut client = host.connect();
    let body = br#"{"verbose":true}"#;
    let request = format!(
        "POST /_keyfob/status HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer kf-agent-7-c\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        host.port,
        body.len()
    );
    client.write_all(request.as_bytes()).unwrap();
    client.write_all(body).unwrap();
    let cmd = host.next();
    let first_id = cmd["id"].clone();
    assert_eq!(cmd["t"], "cmd");
    assert_eq!(cmd["cmd"], "status");
    assert_eq!(cmd["token"], "kf-agent-7-c");
    assert_eq!(cmd["args"], json!({"verbose": true}));
    let reply = json!({"wallet": "unlocked", "client": {"id": "7", "providers": ["openai"]}});
    host.send(json!({"t": "reply", "id": cmd["id"], "status": 200, "body": reply}));
    let (head, answer) = read_response(client);
    assert_eq!(head.status, 200);
    assert_eq!(answer, reply);

    // A GET without a token or body: args {}, no token.
    let client = get(&host, "/_keyfob/status", "");
    let cmd = host.next();
    assert_eq!(cmd["args"], json!({}));
    assert!(cmd.get("token").is_none());
    assert_ne!(cmd["id"], first_id, "each request gets a fresh id");
    host.send(json!({"t": "reply", "id": cmd["id"], "status": 200, "body": {"wallet": "locked"}}));
    assert_eq!(read_response(client).1["wallet"], "locked");
}

#[test]
fn stdin_eof_makes_the_host_exit_0() {
    let mut host = Host::ready();
    host.stdin = None; // closes the pipe
    assert_eq!(host.wait_exit().code(), Some(0));
}

#[test]
fn a_shutdown_frame_makes_the_host_exit_0() {
    let mut host = Host::ready();
    host.send(json!({"t": "shutdown"}));
    assert_eq!(host.wait_exit().code(), Some(0));
}

#[test]
fn a_port_in_use_sends_listen_failed_and_exits_1() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut host = Host::start_on(taken.local_addr().unwrap().port());
    let frame = host.next();
    assert_eq!(frame["t"], "listen_failed");
    assert!(frame["message"].as_str().unwrap().contains("127.0.0.1"));
    assert_eq!(host.wait_exit().code(), Some(1));
}

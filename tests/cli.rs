//! The CLI against a fake bridge: a TcpListener in this test answering `/_keyfob/…` on
//! 127.0.0.1, and against a closed port. Each test has its own port and config folder.
#![allow(clippy::unwrap_used)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

/// What the fake bridge saw of one request.
#[derive(Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Serves every connection with `answer(target) -> (status, body)` and reports what it
/// saw. The thread ends with the test process.
fn fake_bridge(answer: fn(&str) -> (u16, Value)) -> (u16, Receiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, seen) = channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let stream = stream.unwrap();
            let request = read_request(&stream);
            let (status, body) = answer(&request.target);
            let body = body.to_string();
            let mut out = &stream;
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            out.write_all(response.as_bytes()).unwrap();
            if tx.send(request).is_err() {
                return;
            }
        }
    });
    (port, seen)
}

fn read_request(stream: &TcpStream) -> Seen {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap().to_string(),
        parts.next().unwrap().to_string(),
    );
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Seen {
        method,
        target,
        headers,
        body,
    }
}

/// A fresh, empty config folder for one test.
fn config_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keyfob-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn keyfob(port: u16, config: &PathBuf, token: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyfob"));
    command
        .args(args)
        .env("KEYFOB_BRIDGE_PORT", port.to_string())
        .env("KEYFOB_CONFIG_DIR", config)
        .env("HOME", config)
        .env_remove("KEYFOB_AGENT_KEY")
        .env_remove("XDG_CONFIG_HOME");
    if let Some(token) = token {
        command.env("KEYFOB_AGENT_KEY", token);
    }
    command.output().unwrap()
}

fn stdout_json(output: &Output) -> Value {
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "one JSON object: {text}");
    serde_json::from_str(&text).unwrap()
}

fn next(seen: &Receiver<Seen>) -> Seen {
    seen.recv_timeout(Duration::from_secs(20)).unwrap()
}

fn status_answer(target: &str) -> (u16, Value) {
    match target {
        "/_keyfob/status" => (
            200,
            json!({"wallet": "unlocked", "client": {"id": "c1", "name": "ci agent",
                "providers": ["openai", "gemini", "groq"]}}),
        ),
        "/_keyfob/login" => (
            200,
            json!({"token": "kf-agent-c2-secret", "client": {"id": "c2", "name": "new",
                "providers": ["anthropic"]}}),
        ),
        _ => (
            404,
            json!({"error": {"code": "BRIDGE_UNKNOWN_PATH", "message": "no"}}),
        ),
    }
}

#[test]
fn status_json_reports_the_bridge_wallet_and_grant() {
    let (port, seen) = fake_bridge(status_answer);
    let config = config_dir("status");
    let output = keyfob(
        port,
        &config,
        Some("kf-agent-c1-abc"),
        &["status", "--json"],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let out = stdout_json(&output);
    assert_eq!(out["bridge"]["reachable"], true);
    assert_eq!(out["bridge"]["listen"], format!("127.0.0.1:{port}"));
    assert_eq!(out["wallet"], "unlocked");
    assert_eq!(out["client"]["name"], "ci agent");
    assert_eq!(out["token"], "KEYFOB_AGENT_KEY");
    let request = next(&seen);
    assert_eq!(
        (request.method.as_str(), request.target.as_str()),
        ("POST", "/_keyfob/status")
    );
    assert_eq!(
        request.header("authorization"),
        Some("Bearer kf-agent-c1-abc")
    );
    assert_eq!(
        request.header("host"),
        Some(format!("127.0.0.1:{port}").as_str())
    );
    assert_eq!(request.header("origin"), None);
    assert_eq!(request.body, json!({}));
}

#[test]
fn status_against_a_closed_port_exits_2() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // the listener is dropped: nothing listens there now
    let config = config_dir("closed");
    let output = keyfob(port, &config, None, &["status", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let out = stdout_json(&output);
    assert_eq!(out["error"]["code"], "BRIDGE_UNREACHABLE");
    assert_eq!(out["exit"], 2);
    let text = keyfob(port, &config, None, &["status"]);
    assert_eq!(text.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&text.stderr);
    assert!(stderr.contains("keyfob install"), "{stderr}");
    assert!(text.stdout.is_empty());
}

#[test]
fn env_json_prints_every_granted_providers_variables() {
    let (port, seen) = fake_bridge(status_answer);
    let config = config_dir("env");
    let token = "kf-agent-c1-tok";
    let output = keyfob(port, &config, Some(token), &["env", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let base = format!("http://127.0.0.1:{port}");
    assert_eq!(
        stdout_json(&output),
        json!({"env": {
            "OPENAI_BASE_URL": format!("{base}/openai/v1"),
            "OPENAI_API_KEY": token,
            "GEMINI_API_KEY": token,
            "GOOGLE_API_KEY": token,
            "GOOGLE_GEMINI_BASE_URL": format!("{base}/gemini"),
            "KEYFOB_GROQ_BASE_URL": format!("{base}/groq"),
            "KEYFOB_GROQ_API_KEY": token,
        }})
    );
    assert_eq!(
        next(&seen).header("authorization"),
        Some("Bearer kf-agent-c1-tok")
    );

    let filtered = keyfob(port, &config, Some(token), &["env", "--provider", "gemini"]);
    let text = String::from_utf8(filtered.stdout).unwrap();
    assert_eq!(
        text,
        format!("GEMINI_API_KEY={token}\nGOOGLE_API_KEY={token}\nGOOGLE_GEMINI_BASE_URL={base}/gemini\n")
    );
    let refused = keyfob(
        port,
        &config,
        Some(token),
        &["env", "--provider", "anthropic", "--json"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(stdout_json(&refused)["error"]["code"], "USAGE");
}

#[test]
fn fail_env_without_a_token_is_a_user_error() {
    let (port, _seen) = fake_bridge(status_answer);
    let config = config_dir("notoken");
    let output = keyfob(port, &config, None, &["env", "--json"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(stdout_json(&output)["error"]["code"], "NOT_LOGGED_IN");
}

#[test]
fn a_locked_wallet_exits_1_with_the_hint_and_a_5xx_exits_3() {
    let (port, _seen) = fake_bridge(|target| match target {
        "/_keyfob/clients" => (
            423,
            json!({"error": {"code": "WALLET_LOCKED", "message": "the wallet is locked", "source": "keyfob"}}),
        ),
        _ => (
            503,
            json!({"error": {"code": "EXTENSION_UNAVAILABLE", "message": "restarting"}}),
        ),
    });
    let config = config_dir("locked");
    let locked = keyfob(port, &config, Some("kf-agent-1-x"), &["clients"]);
    assert_eq!(locked.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&locked.stderr);
    assert!(
        stderr.contains("WALLET_LOCKED: the wallet is locked"),
        "{stderr}"
    );
    assert!(
        stderr.contains("unlock Keyfob in the browser's toolbar popup"),
        "{stderr}"
    );
    let server = keyfob(port, &config, Some("kf-agent-1-x"), &["logout", "--json"]);
    assert_eq!(server.status.code(), Some(3));
    assert_eq!(
        stdout_json(&server)["error"]["code"],
        "EXTENSION_UNAVAILABLE"
    );
}

#[test]
fn login_stores_the_token_privately_and_env_then_uses_it() {
    let (port, seen) = fake_bridge(status_answer);
    let config = config_dir("login");
    let output = keyfob(
        port,
        &config,
        None,
        &[
            "login",
            "--name",
            "new",
            "--provider",
            "anthropic",
            "--json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let out = stdout_json(&output);
    assert_eq!(out["token"], "kf-agent-c2-secret");
    let request = next(&seen);
    assert_eq!(request.target, "/_keyfob/login");
    assert_eq!(
        request.body,
        json!({"name": "new", "providers": ["anthropic"]})
    );
    assert_eq!(request.header("authorization"), None);
    let path = config.join("agent-token");
    assert_eq!(out["stored"], path.display().to_string());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap().trim(),
        "kf-agent-c2-secret"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&config), 0o700);
    }
    // The stored token is what later commands present.
    let status = keyfob(port, &config, None, &["status", "--json"]);
    assert_eq!(stdout_json(&status)["token"], "file");
    assert_eq!(
        next(&seen).header("authorization"),
        Some("Bearer kf-agent-c2-secret")
    );
}

#[test]
fn help_works_for_every_command_and_bad_arguments_exit_1() {
    for command in [
        "demo",
        "bridge",
        "install",
        "uninstall",
        "login",
        "logout",
        "clients",
        "env",
        "test",
        "status",
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_keyfob"))
            .args([command, "--help"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{command}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("--json"),
            "{command}"
        );
    }
    let bad = Command::new(env!("CARGO_BIN_EXE_keyfob"))
        .args(["status", "--bogus", "--json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(stdout_json(&bad)["exit"], 1);
}

#[test]
fn install_writes_the_host_manifest_and_uninstall_removes_it() {
    let config = config_dir("install");
    let id = "abcdefghijklmnopabcdefghijklmnop";
    let dir = config.join("profile");
    let dir_arg = dir.display().to_string();
    let args = [
        "install",
        "--user-data-dir",
        &dir_arg,
        "--extension-id",
        id,
        "--json",
    ];
    let output = keyfob(1, &config, None, &args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let path = dir.join("NativeMessagingHosts/dev.keyfob.bridge.json");
    let manifest: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_keyfob")).unwrap();
    assert_eq!(
        manifest,
        json!({"name": "dev.keyfob.bridge", "description": "Keyfob local bridge",
            "path": binary.display().to_string(), "type": "stdio",
            "allowed_origins": [format!("chrome-extension://{id}/")]})
    );
    assert_eq!(
        stdout_json(&output)["installed"],
        path.display().to_string()
    );
    let removed = keyfob(
        1,
        &config,
        None,
        &["uninstall", "--user-data-dir", &dir_arg, "--json"],
    );
    assert_eq!(stdout_json(&removed)["removed"], true);
    assert!(!path.exists());
}

#[test]
fn test_lists_the_first_granted_providers_models_with_its_auth() {
    let (port, seen) = fake_bridge(|target| match target {
        "/openai/v1/models" => (
            200,
            json!({"object": "list", "data": [{"id": "a"}, {"id": "b"}]}),
        ),
        "/gemini/v1beta/models" => (
            401,
            json!({"error": {"code": "CLIENT_TOKEN_INVALID", "message": "unknown token", "source": "keyfob"}}),
        ),
        other => status_answer(other),
    });
    let config = config_dir("probe");
    let output = keyfob(port, &config, Some("kf-agent-c1-t"), &["test"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.starts_with("OK openai (2 models, ") && text.ends_with(" ms)\n"),
        "{text}"
    );
    assert_eq!(next(&seen).target, "/_keyfob/status");
    let models = next(&seen);
    assert_eq!(
        (models.method.as_str(), models.target.as_str()),
        ("GET", "/openai/v1/models")
    );
    assert_eq!(models.header("authorization"), Some("Bearer kf-agent-c1-t"));

    let refused = keyfob(
        port,
        &config,
        Some("kf-agent-c1-t"),
        &["test", "--provider", "gemini", "--json"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        stdout_json(&refused),
        json!({"error": {"code": "CLIENT_TOKEN_INVALID", "message": "unknown token"}, "exit": 1})
    );
    assert_eq!(next(&seen).header("x-goog-api-key"), Some("kf-agent-c1-t"));
}

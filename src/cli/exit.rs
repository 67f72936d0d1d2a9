//! The CLI's one rule from error to exit code (docs/bridge.md), and how errors print.
//!
//! 0 success; 1 a user error or a 4xx (locked wallet, unapproved or revoked client,
//! budget); 2 the bridge cannot be reached; 3 a 5xx, a timeout, or an unusable answer.

use crate::error::KeyfobError;
use serde_json::json;

pub const OK: i32 = 0;
pub const USER: i32 = 1;
pub const UNREACHABLE: i32 = 2;
pub const SERVER: i32 = 3;

pub fn exit_code(error: &KeyfobError) -> i32 {
    match error {
        KeyfobError::BridgeUnreachable { .. } => UNREACHABLE,
        KeyfobError::Http { status, .. } if *status >= 500 => SERVER,
        KeyfobError::Timeout(_) | KeyfobError::BadAnswer(_) => SERVER,
        KeyfobError::Http { .. }
        | KeyfobError::Usage(_)
        | KeyfobError::NotLoggedIn
        | KeyfobError::Frame(_)
        | KeyfobError::Listen { .. }
        | KeyfobError::Io { .. } => USER,
    }
}

/// What to do about an error, when there is something to do.
pub fn hint(error: &KeyfobError) -> Option<&'static str> {
    match error.code() {
        "WALLET_LOCKED" => Some("unlock Keyfob in the browser's toolbar popup"),
        _ => None,
    }
}

/// `{"error":{"code","message"[,"hint"]},"exit":N}`.
pub fn error_json(error: &KeyfobError) -> serde_json::Value {
    let mut body = json!({"code": error.code(), "message": error.message()});
    if let Some(hint) = hint(error) {
        body["hint"] = json!(hint);
    }
    json!({"error": body, "exit": exit_code(error)})
}

/// `CODE: message` (and the hint on its own line).
pub fn error_text(error: &KeyfobError) -> String {
    let mut text = format!("{}: {}", error.code(), error.message());
    if let Some(hint) = hint(error) {
        text.push_str(&format!("\n  {hint}"));
    }
    text
}

/// Prints the error (JSON on stdout, or text on stderr) and returns the exit code.
pub fn report(error: &KeyfobError, json: bool) -> i32 {
    if json {
        println!("{}", error_json(error));
    } else {
        eprintln!("{}", error_text(error));
    }
    exit_code(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_maps_to_the_documented_exit_code() {
        let cases = [
            (KeyfobError::Usage("x".into()), 1),
            (KeyfobError::NotLoggedIn, 1),
            (KeyfobError::http(401, "CLIENT_TOKEN_INVALID", "m"), 1),
            (KeyfobError::http(403, "BRIDGE_ORIGIN_REFUSED", "m"), 1),
            (KeyfobError::http(423, "WALLET_LOCKED", "m"), 1),
            (KeyfobError::http(429, "BUDGET_EXCEEDED", "m"), 1),
            (KeyfobError::http(499, "X", "m"), 1),
            (KeyfobError::http(500, "UPSTREAM", "m"), 3),
            (KeyfobError::http(503, "X", "m"), 3),
            (KeyfobError::Timeout(300), 3),
            (KeyfobError::BadAnswer("cut".into()), 3),
            (
                KeyfobError::BridgeUnreachable {
                    addr: "127.0.0.1:8790".into(),
                    detail: "connection refused".into(),
                },
                2,
            ),
        ];
        for (error, code) in cases {
            assert_eq!(exit_code(&error), code, "{error:?}");
            assert_eq!(error_json(&error)["exit"], code);
        }
    }

    #[test]
    fn a_locked_wallet_says_where_to_unlock_it() {
        let e = KeyfobError::http(423, "WALLET_LOCKED", "the wallet is locked");
        assert_eq!(
            error_text(&e),
            "WALLET_LOCKED: the wallet is locked\n  unlock Keyfob in the browser's toolbar popup"
        );
        assert_eq!(
            error_json(&e),
            json!({"error": {"code": "WALLET_LOCKED", "message": "the wallet is locked",
                "hint": "unlock Keyfob in the browser's toolbar popup"}, "exit": 1})
        );
        let other = KeyfobError::http(401, "CLIENT_REVOKED", "revoked");
        assert_eq!(error_text(&other), "CLIENT_REVOKED: revoked");
        assert!(error_json(&other)["error"].get("hint").is_none());
    }
}

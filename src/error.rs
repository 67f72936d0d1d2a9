//! The root package's one error type, shared by the bridge host and the CLI.
//!
//! Every variant has a stable `code` (what scripts branch on, see [`KeyfobError::code`])
//! and, for the CLI, an exit code (see `cli::exit`). Messages never contain a token.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum KeyfobError {
    /// Bad arguments or environment.
    #[error("{0}")]
    Usage(String),

    /// A command that needs an agent token found none.
    #[error("no agent token: run `keyfob login --name NAME` first (or set KEYFOB_AGENT_KEY)")]
    NotLoggedIn,

    /// Nothing answers on the bridge's port (or the connection was reset).
    #[error(
        "the Keyfob bridge is not running on {addr} ({detail}): start the browser with \
         Keyfob, run `keyfob install` once, and start the bridge in the Keyfob popup \
         (Settings → Local apps → Start)"
    )]
    BridgeUnreachable { addr: String, detail: String },

    /// An error with an HTTP status and a Keyfob (or provider) code: raised by the host
    /// (refusals it writes to a client) or read back by the CLI from an answer.
    #[error("{code}: {message}")]
    Http {
        status: u16,
        code: String,
        message: String,
    },

    /// The bridge did not answer in time.
    #[error("no answer from the bridge within {0} s")]
    Timeout(u64),

    /// The bridge's answer broke off or was not what the protocol says.
    #[error("the bridge's answer was unusable: {0}")]
    BadAnswer(String),

    /// A native-messaging frame that cannot be read or written.
    #[error("native-messaging frame: {0}")]
    Frame(String),

    /// The bridge or the demo could not bind its port.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        #[source]
        source: io::Error,
    },

    /// A local file operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

impl KeyfobError {
    /// The stable code of this error, as printed by the CLI and written by the host.
    pub fn code(&self) -> &str {
        match self {
            Self::Usage(_) => "USAGE",
            Self::NotLoggedIn => "NOT_LOGGED_IN",
            Self::BridgeUnreachable { .. } => "BRIDGE_UNREACHABLE",
            Self::Http { code, .. } => code,
            Self::Timeout(_) => "BRIDGE_TIMEOUT",
            Self::BadAnswer(_) => "BRIDGE_BAD_ANSWER",
            Self::Frame(_) => "BRIDGE_FRAME",
            Self::Listen { .. } => "LISTEN_FAILED",
            Self::Io { .. } => "IO",
        }
    }

    /// The message without the code (the `Http` variant's Display carries both).
    pub fn message(&self) -> String {
        match self {
            Self::Http { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }

    /// A refusal the host writes to an HTTP client.
    pub fn http(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::Http {
            status,
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>) -> impl FnOnce(io::Error) -> Self {
        let context = context.into();
        move |source| Self::Io { context, source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_errors_keep_their_code_and_message_apart() {
        let e = KeyfobError::http(423, "WALLET_LOCKED", "the wallet is locked");
        assert_eq!(e.code(), "WALLET_LOCKED");
        assert_eq!(e.message(), "the wallet is locked");
        assert_eq!(e.to_string(), "WALLET_LOCKED: the wallet is locked");
    }

    #[test]
    fn other_errors_have_fixed_codes() {
        assert_eq!(KeyfobError::NotLoggedIn.code(), "NOT_LOGGED_IN");
        assert_eq!(KeyfobError::Timeout(300).code(), "BRIDGE_TIMEOUT");
        let io = KeyfobError::io("reading x")(io::Error::other("boom"));
        assert_eq!(io.message(), "reading x: boom");
    }
}

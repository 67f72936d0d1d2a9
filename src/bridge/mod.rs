//! `keyfob bridge`, or `keyfob chrome-extension://<id>/` as Chrome starts it: the
//! native-messaging host of docs/bridge.md.
//!
//! It serves HTTP on 127.0.0.1 for as long as the extension keeps its port open, and
//! holds no secrets and decides nothing but transport hygiene (see `guard`): the
//! extension verifies every token and runs every rule. Stdout is the protocol, so nothing
//! else is ever printed there (`print_stdout` is denied here); logs go to stderr, which
//! Chrome shows in its own log.
#![deny(clippy::print_stdout)]

mod frames;
mod framing;
mod guard;
mod http_in;
mod http_out;
mod http_side;
mod hub;

pub use guard::is_id;

use crate::error::KeyfobError;
use frames::{Incoming, Outgoing};
use hub::Hub;
use std::net::TcpListener;
use std::sync::Arc;

/// The bridge's default port (docs/bridge.md).
pub const DEFAULT_PORT: u16 = 8790;

/// `KEYFOB_BRIDGE_PORT`, else [`DEFAULT_PORT`] (the CLI uses the same rule).
pub fn port() -> Result<u16, KeyfobError> {
    match std::env::var("KEYFOB_BRIDGE_PORT") {
        Ok(text) => text.trim().parse().map_err(|_| {
            KeyfobError::Usage(format!("KEYFOB_BRIDGE_PORT is not a port number: {text:?}"))
        }),
        Err(_) => Ok(DEFAULT_PORT),
    }
}

/// Runs the host until stdin ends or the extension sends `shutdown`; returns the exit
/// code (0 then, 1 when the port cannot be bound or the input breaks).
pub fn run(caller: Option<&str>) -> i32 {
    let hub = Arc::new(Hub::new(Box::new(std::io::stdout())));
    let listener = match port().and_then(|port| {
        TcpListener::bind(("127.0.0.1", port)).map_err(|source| KeyfobError::Listen {
            addr: format!("127.0.0.1:{port}"),
            source,
        })
    }) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("keyfob bridge: {e}");
            let _ = hub.send(&Outgoing::ListenFailed {
                message: e.to_string(),
            });
            return 1;
        }
    };
    let listen = match listener.local_addr() {
        Ok(addr) => addr.to_string(),
        Err(e) => {
            eprintln!("keyfob bridge: {e}");
            return 1;
        }
    };
    eprintln!(
        "keyfob bridge: listening on {listen} for {}",
        caller.unwrap_or("a caller that did not say who it is")
    );
    let hello = Outgoing::Hello {
        version: env!("CARGO_PKG_VERSION"),
        listen,
    };
    if let Err(e) = hub.send(&hello) {
        eprintln!("keyfob bridge: {e}");
        return 1;
    }
    let server_hub = hub.clone();
    std::thread::spawn(move || http_side::serve(listener, server_hub));
    read_browser(&hub, &mut std::io::stdin().lock())
}

/// Routes the browser's frames until EOF or `shutdown`.
fn read_browser(hub: &Hub, input: &mut impl std::io::Read) -> i32 {
    loop {
        let message = match framing::read_frame(input) {
            Ok(Some(message)) => message,
            Ok(None) => {
                eprintln!("keyfob bridge: the browser closed the port; exiting");
                return 0;
            }
            Err(e) => {
                eprintln!("keyfob bridge: {e}; exiting");
                return 1;
            }
        };
        match serde_json::from_slice::<Incoming>(&message) {
            Ok(Incoming::Shutdown) => {
                eprintln!("keyfob bridge: shutdown requested; exiting");
                return 0;
            }
            Ok(frame) => hub.route(frame),
            Err(e) => eprintln!("keyfob bridge: ignoring a frame it cannot read: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn wire(frames: &[&str]) -> Cursor<Vec<u8>> {
        let mut bytes = Vec::new();
        for f in frames {
            framing::write_frame(&mut bytes, f.as_bytes()).unwrap();
        }
        Cursor::new(bytes)
    }

    #[test]
    fn eof_and_shutdown_end_cleanly_and_bad_frames_are_skipped() {
        let hub = Hub::new(Box::new(std::io::sink()));
        let ticket = hub.open();
        let end = format!(r#"{{"t":"end","id":{}}}"#, ticket.id);
        assert_eq!(
            read_browser(&hub, &mut wire(&["{nope", r#"{"t":"x"}"#, &end])),
            0
        );
        assert_eq!(
            ticket.answers.try_recv().unwrap(),
            Incoming::End { id: ticket.id }
        );
        let later = r#"{"t":"end","id":99}"#;
        assert_eq!(
            read_browser(&hub, &mut wire(&[r#"{"t":"shutdown"}"#, later])),
            0
        );
    }

    #[test]
    fn fail_a_broken_input_stream_exits_1() {
        let hub = Hub::new(Box::new(std::io::sink()));
        assert_eq!(read_browser(&hub, &mut Cursor::new(vec![1, 2])), 1);
    }
}

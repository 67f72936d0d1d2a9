//! Native-messaging framing: a 4-byte length in native byte order, then that many bytes
//! of UTF-8 JSON.
//!
//! Limits: Chrome may send the host up to 4 GB in one message, but nothing in this
//! protocol needs more than a command's arguments, so reads refuse lengths past
//! [`MAX_READ`] to stay bounded. Chrome drops a host whose message to it exceeds 1 MB,
//! so writes refuse anything past [`MAX_WRITE`] instead of killing the port.

use crate::error::KeyfobError;
use std::io::{ErrorKind, Read, Write};

/// The largest message the host accepts from the browser.
pub const MAX_READ: usize = 64 << 20;
/// The largest message Chrome accepts from a host (1 MB).
pub const MAX_WRITE: usize = 1024 * 1024;

/// Reads one message. `Ok(None)` is a clean end of input (EOF before a length).
pub fn read_frame(input: &mut impl Read) -> Result<Option<Vec<u8>>, KeyfobError> {
    let mut length = [0u8; 4];
    let mut got = 0;
    while got < length.len() {
        match input.read(&mut length[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(KeyfobError::Frame("input ended inside a length".into())),
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(KeyfobError::Frame(format!("reading a length: {e}"))),
        }
    }
    let length = u32::from_ne_bytes(length) as usize;
    if length > MAX_READ {
        return Err(KeyfobError::Frame(format!(
            "a message of {length} bytes exceeds the host's limit of {MAX_READ}"
        )));
    }
    let mut message = vec![0; length];
    input
        .read_exact(&mut message)
        .map_err(|e| KeyfobError::Frame(format!("reading a {length}-byte message: {e}")))?;
    Ok(Some(message))
}

/// Writes one message and flushes it.
pub fn write_frame(output: &mut impl Write, message: &[u8]) -> Result<(), KeyfobError> {
    if message.len() > MAX_WRITE {
        return Err(KeyfobError::Frame(format!(
            "a message of {} bytes exceeds Chrome's limit of {MAX_WRITE}",
            message.len()
        )));
    }
    // The check above keeps the length far below u32::MAX.
    let length = message.len() as u32;
    let write = |output: &mut dyn Write| -> std::io::Result<()> {
        output.write_all(&length.to_ne_bytes())?;
        output.write_all(message)?;
        output.flush()
    };
    write(output).map_err(|e| KeyfobError::Frame(format!("writing a message: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn frames_round_trip_in_native_byte_order() {
        let mut wire = Vec::new();
        write_frame(&mut wire, br#"{"t":"hello"}"#).unwrap();
        write_frame(&mut wire, b"{}").unwrap();
        assert_eq!(&wire[..4], &13u32.to_ne_bytes());
        let mut input = Cursor::new(wire);
        assert_eq!(
            read_frame(&mut input).unwrap().unwrap(),
            br#"{"t":"hello"}"#
        );
        assert_eq!(read_frame(&mut input).unwrap().unwrap(), b"{}");
        assert!(read_frame(&mut input).unwrap().is_none());
    }

    #[test]
    fn a_browser_message_over_one_megabyte_is_still_read() {
        let message = vec![b'x'; 3 * 1024 * 1024];
        let mut wire = (message.len() as u32).to_ne_bytes().to_vec();
        wire.extend_from_slice(&message);
        let read = read_frame(&mut Cursor::new(wire)).unwrap().unwrap();
        assert_eq!(read.len(), message.len());
    }

    #[test]
    fn fail_an_absurd_length_is_refused_without_allocating_it() {
        let wire = (MAX_READ as u32 + 1).to_ne_bytes().to_vec();
        let e = read_frame(&mut Cursor::new(wire)).unwrap_err();
        assert!(e.to_string().contains("exceeds"), "{e}");
        let wire = u32::MAX.to_ne_bytes().to_vec();
        assert!(read_frame(&mut Cursor::new(wire)).is_err());
    }

    #[test]
    fn fail_a_truncated_length_or_message_is_an_error() {
        let e = read_frame(&mut Cursor::new(vec![5, 0])).unwrap_err();
        assert!(e.to_string().contains("inside a length"), "{e}");
        let mut wire = 10u32.to_ne_bytes().to_vec();
        wire.extend_from_slice(b"short");
        assert!(read_frame(&mut Cursor::new(wire)).is_err());
    }

    #[test]
    fn fail_a_host_message_over_one_megabyte_is_not_written() {
        let mut wire = Vec::new();
        assert!(write_frame(&mut wire, &vec![b'x'; MAX_WRITE + 1]).is_err());
        assert!(wire.is_empty());
        write_frame(&mut wire, &vec![b'x'; MAX_WRITE]).unwrap();
        assert_eq!(wire.len(), MAX_WRITE + 4);
    }
}

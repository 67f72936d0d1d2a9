//! An incremental server-sent-events splitter (WHATWG HTML, "Parsing an event stream").
//!
//! Invariants:
//! - chunks may be split anywhere: inside a line, inside a multi-byte UTF-8 character,
//!   between the CR and LF of a CRLF pair, inside the leading byte-order mark. Feeding a
//!   stream in one piece or byte by byte yields the same events;
//! - at most one event is buffered: the bytes of the current line plus the data of the
//!   event being assembled. An event larger than the cap is skipped whole and counted in
//!   [`SseSplitter::oversized_events`], so a hostile or broken stream cannot grow memory;
//! - lines are decoded only once complete, so a character split across chunks is never
//!   turned into replacement characters. Invalid UTF-8 becomes U+FFFD, as browsers do.
//!
//! The splitter observes a copy of the stream; the page always receives the bytes
//! exactly as the provider sent them.

/// The default cap on one event (line plus data): 16 MiB. The largest events in practice
/// are OpenAI Responses `response.completed`, which repeat the whole response.
pub const DEFAULT_MAX_EVENT_BYTES: usize = 16 << 20;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `message` when the event named none.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The last `id:` field seen in this event, if any.
    pub id: Option<String>,
}

/// Splits a byte stream into [`SseEvent`]s.
#[derive(Debug)]
pub struct SseSplitter {
    max_event_bytes: usize,
    /// Bytes of the line being read (without its terminator).
    line: Vec<u8>,
    /// The line being read has bytes, kept or not (a skipped line is not blank).
    line_seen: bool,
    /// A CR ended the previous line; an LF right after it belongs to that line ending.
    after_cr: bool,
    /// Bytes seen so far while the stream might still start with a byte-order mark.
    bom_probe: Option<Vec<u8>>,
    event: Option<String>,
    data: String,
    has_data: bool,
    id: Option<String>,
    /// The current event outgrew the cap: drop everything up to the next blank line.
    skipping: bool,
    oversized: u64,
}

impl Default for SseSplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl SseSplitter {
    /// A splitter with the default event cap.
    pub fn new() -> Self {
        Self::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A splitter that skips events larger than `max_event_bytes`.
    pub fn with_max_event_bytes(max_event_bytes: usize) -> Self {
        Self {
            max_event_bytes,
            line: Vec::new(),
            line_seen: false,
            after_cr: false,
            bom_probe: Some(Vec::new()),
            event: None,
            data: String::new(),
            has_data: false,
            id: None,
            skipping: false,
            oversized: 0,
        }
    }

    /// How many events were skipped for exceeding the cap.
    pub fn oversized_events(&self) -> u64 {
        self.oversized
    }

    /// Feeds the next chunk; returns the events it completed, in order.
    pub fn feed(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        let chunk = match self.strip_bom(chunk) {
            Some(rest) => rest,
            None => return out,
        };
        self.feed_bytes(&chunk, &mut out);
        out
    }

    /// Ends the stream. The specification drops a last event that no blank line ended;
    /// for metering the provider has still billed it, so it is returned if it has data.
    pub fn finish(mut self) -> Option<SseEvent> {
        if let Some(probe) = self.bom_probe.take() {
            // Fewer than three bytes arrived: they were not a whole BOM.
            let mut out = Vec::new();
            self.feed_bytes(&probe, &mut out);
        }
        if self.line_seen {
            self.end_line(&mut Vec::new());
        }
        self.take_event()
    }

    /// Holds back the first bytes until it is clear whether they are a UTF-8 BOM.
    /// Returns the bytes to parse now, or `None` while still undecided.
    fn strip_bom<'a>(&mut self, chunk: &'a [u8]) -> Option<std::borrow::Cow<'a, [u8]>> {
        let Some(probe) = self.bom_probe.as_mut() else {
            return Some(chunk.into());
        };
        let want = BOM.len() - probe.len();
        let (head, tail) = chunk.split_at(want.min(chunk.len()));
        probe.extend_from_slice(head);
        if probe.len() < BOM.len() && BOM.starts_with(probe) {
            return None;
        }
        let probe = self.bom_probe.take().unwrap_or_default();
        let mut bytes = if probe == BOM { Vec::new() } else { probe };
        bytes.extend_from_slice(tail);
        Some(bytes.into())
    }

    fn feed_bytes(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) {
        while !bytes.is_empty() {
            if self.after_cr {
                self.after_cr = false;
                if bytes[0] == b'\n' {
                    bytes = &bytes[1..];
                    continue;
                }
            }
            match bytes.iter().position(|&b| b == b'\n' || b == b'\r') {
                Some(i) => {
                    self.push_line_bytes(&bytes[..i]);
                    self.after_cr = bytes[i] == b'\r';
                    self.end_line(out);
                    bytes = &bytes[i + 1..];
                }
                None => {
                    self.push_line_bytes(bytes);
                    bytes = &[];
                }
            }
        }
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) {
        self.line_seen |= !bytes.is_empty();
        if self.skipping {
            return;
        }
        // What is held: the data assembled so far plus the line being read.
        let held = self.data.len() + self.line.len() + bytes.len();
        if held > self.max_event_bytes {
            self.start_skipping();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn start_skipping(&mut self) {
        self.skipping = true;
        self.oversized += 1;
        self.line = Vec::new();
        self.data = String::new();
        self.has_data = false;
        self.event = None;
        self.id = None;
    }

    fn end_line(&mut self, out: &mut Vec<SseEvent>) {
        let line = std::mem::take(&mut self.line);
        let blank = !std::mem::take(&mut self.line_seen);
        if blank {
            if self.skipping {
                self.skipping = false;
            } else if let Some(event) = self.take_event() {
                out.push(event);
            }
            return;
        }
        if self.skipping {
            return;
        }
        let line = String::from_utf8_lossy(&line);
        if line.starts_with(':') {
            return; // a comment
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_string()),
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {} // `retry` and unknown fields do not matter here
        }
    }

    /// Dispatches the assembled event, if it has data, and resets for the next one.
    fn take_event(&mut self) -> Option<SseEvent> {
        let event = self.event.take();
        let id = self.id.take();
        if !self.has_data {
            self.data.clear();
            return None;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        data.pop(); // the trailing `\n` added after the last data line
        Some(SseEvent {
            event: event
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| "message".into()),
            data,
            id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<SseEvent> {
        let mut s = SseSplitter::new();
        let mut out = s.feed(input);
        out.extend(s.finish());
        out
    }

    fn bytewise(input: &[u8]) -> Vec<SseEvent> {
        let mut s = SseSplitter::new();
        let mut out = Vec::new();
        for b in input {
            out.extend(s.feed(std::slice::from_ref(b)));
        }
        out.extend(s.finish());
        out
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
            id: None,
        }
    }

    #[test]
    fn fields_comments_and_multiline_data() {
        let input =
            b": keep-alive\nevent: ping\ndata: {}\n\ndata:a\ndata: b\ndata\n\nid: 7\ndata: x\n\n";
        let got = all(input);
        assert_eq!(got[0], ev("ping", "{}"));
        assert_eq!(got[1], ev("message", "a\nb\n"));
        assert_eq!(got[2].id.as_deref(), Some("7"));
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn line_endings_are_equivalent_even_when_split() {
        let lf = all(b"data: 1\n\ndata: 2\n\n");
        assert_eq!(all(b"data: 1\r\n\r\ndata: 2\r\n\r\n"), lf);
        assert_eq!(all(b"data: 1\r\rdata: 2\r\r"), lf);
        assert_eq!(bytewise(b"data: 1\r\n\r\ndata: 2\r\n\r\n"), lf);
        // Within one event, a CRLF is one line end, not a line end and a blank line.
        let named = all(b"event: x\ndata: a\ndata: b\n\n");
        assert_eq!(named, vec![ev("x", "a\nb")]);
        assert_eq!(all(b"event: x\r\ndata: a\r\ndata: b\r\n\r\n"), named);
        assert_eq!(bytewise(b"event: x\r\ndata: a\r\ndata: b\r\n\r\n"), named);
        // A CR at the end of one chunk and the LF at the start of the next are one ending.
        let mut s = SseSplitter::new();
        assert!(s.feed(b"data: 1\r").is_empty());
        assert_eq!(s.feed(b"\n\r"), vec![ev("message", "1")]);
        assert!(s.feed(b"\n").is_empty());
        assert_eq!(s.feed(b"data: 2\n\n"), vec![ev("message", "2")]);
    }

    #[test]
    fn utf8_split_inside_a_character_is_kept_whole() {
        let text = "data: héllo ✓ 🦀\n\n".as_bytes();
        assert_eq!(bytewise(text), vec![ev("message", "héllo ✓ 🦀")]);
        // Invalid bytes become U+FFFD instead of failing the stream.
        assert_eq!(all(b"data: a\xFFb\n\n"), vec![ev("message", "a\u{FFFD}b")]);
    }

    #[test]
    fn a_leading_bom_is_dropped_even_when_split() {
        let mut input = BOM.to_vec();
        input.extend_from_slice(b"data: x\n\n");
        assert_eq!(bytewise(&input), vec![ev("message", "x")]);
        // Only a leading BOM: a later one is data.
        let twice = [BOM, BOM, b"data: x\n\n"].concat();
        assert!(all(&twice).is_empty(), "second BOM makes the field unknown");
        // Two bytes that merely start like a BOM are not dropped (the field is then
        // not `data`), and fewer than three bytes in all are still parsed at the end.
        assert_eq!(all(b"\xEF\xBBdata: x\n\n").len(), 0);
        assert_eq!(all(b"da"), vec![]);
    }

    #[test]
    fn an_unterminated_last_event_is_returned_by_finish() {
        let mut s = SseSplitter::new();
        assert!(s.feed(b"data: {\"usage\":1}").is_empty());
        assert_eq!(s.finish(), Some(ev("message", "{\"usage\":1}")));
        let mut s = SseSplitter::new();
        s.feed(b"event: x\n");
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn oversized_events_are_skipped_whole_and_counted() {
        let mut s = SseSplitter::with_max_event_bytes(16);
        let mut got = s.feed(b"data: 0123456789abcdef\ndata: more\n\ndata: ok\n\n");
        got.extend(s.feed(b"data: 01234\ndata: 56789abc\n\n"));
        assert_eq!(got, vec![ev("message", "ok")]);
        assert_eq!(s.oversized_events(), 2);
        // The buffer never holds more than the cap.
        let mut s = SseSplitter::with_max_event_bytes(1024);
        for _ in 0..10_000 {
            s.feed(b"data: aaaaaaaaaaaaaaaa");
        }
        assert!(s.line.capacity() <= 4096 && s.data.capacity() <= 4096);
        assert_eq!(s.oversized_events(), 1);
    }
}

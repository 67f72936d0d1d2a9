//! An incremental JSON scanner that captures only the values at a few fixed paths.
//!
//! Response bodies can be megabytes (embeddings, base64 images, long completions), and
//! the usage report is a few hundred bytes inside them. The scanner reads bytes as they
//! arrive, tracks only nesting and the current key path, and keeps a copy of a value
//! only when its path is one of the wanted ones. Memory is bounded by the nesting depth
//! cap, the key length cap and the capture cap, whatever the size of the document.
//!
//! Paths are anchored at a *root*: each top-level value of the stream (so NDJSON and
//! concatenated documents work), or each element of a top-level array (Gemini's
//! non-SSE `streamGenerateContent` answers with one growing JSON array). A value deeper
//! in the document with the same key (say, a tool call argument named `usage`) is never
//! mistaken for the report, because the whole path from the root must match.
//!
//! The scanner does not validate JSON; on bytes that cannot be JSON it stops and
//! reports [`JsonScanner::is_broken`]. Captured bytes are parsed by the caller.

/// One step of a wanted path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seg {
    /// An object member with this exact key.
    Key(&'static str),
    /// Any element of an array.
    AnyIndex,
}

/// Deepest nesting followed; deeper documents are treated as broken.
const MAX_DEPTH: usize = 256;
/// Longest key compared; longer keys never match a wanted path.
const MAX_KEY_BYTES: usize = 128;
/// Largest captured value; a larger one is dropped (usage reports are far smaller).
pub(crate) const MAX_CAPTURE_BYTES: usize = 64 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Object,
    Array,
    /// A top-level array whose elements are roots.
    RootArray,
}

#[derive(Debug)]
struct Frame {
    kind: Kind,
    /// Bit set of wanted paths that still match this container.
    cands: u32,
    /// How many path steps lead to this container.
    pos: usize,
    /// Objects: the next string is a key.
    expect_key: bool,
    /// Candidates and target for the value after the current key.
    value_cands: u32,
    value_target: Option<usize>,
}

#[derive(Debug)]
struct Capture {
    path: usize,
    /// Stack height at which the captured value lives (it completes back at this height).
    depth: usize,
    buf: Vec<u8>,
    overflowed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Between,
    Str { key: bool, escape: bool },
    Scalar,
}

/// Captures values at wanted paths from a JSON byte stream fed in pieces.
#[derive(Debug)]
pub(crate) struct JsonScanner {
    paths: &'static [&'static [Seg]],
    stack: Vec<Frame>,
    lex: Lex,
    key: Vec<u8>,
    key_escaped: bool,
    capture: Option<Capture>,
    captured: Vec<(usize, Vec<u8>)>,
    roots: u64,
    broken: bool,
}

impl JsonScanner {
    /// A scanner for up to 32 wanted paths.
    pub(crate) fn new(paths: &'static [&'static [Seg]]) -> Self {
        debug_assert!(paths.len() <= 32);
        Self {
            paths,
            stack: Vec::new(),
            lex: Lex::Between,
            key: Vec::new(),
            key_escaped: false,
            capture: None,
            captured: Vec::new(),
            roots: 0,
            broken: false,
        }
    }

    /// Whether the input stopped looking like JSON (nothing more is captured).
    #[cfg(test)]
    pub(crate) fn is_broken(&self) -> bool {
        self.broken
    }

    /// How many roots have been read completely.
    #[cfg(test)]
    pub(crate) fn roots_completed(&self) -> u64 {
        self.roots
    }

    /// Whether every document started so far has been read to its end (and at least
    /// one was), without the input breaking.
    pub(crate) fn documents_complete(&self) -> bool {
        !self.broken && self.roots > 0 && self.stack.is_empty() && self.lex == Lex::Between
    }

    /// The values captured since the last call, as (path index, raw JSON bytes).
    pub(crate) fn take_captures(&mut self) -> Vec<(usize, Vec<u8>)> {
        std::mem::take(&mut self.captured)
    }

    /// Ends the input: a number at the very end of the stream completes here.
    pub(crate) fn finish(&mut self) {
        if self.lex == Lex::Scalar && !self.broken {
            self.lex = Lex::Between;
            self.complete_value();
        }
    }

    /// Feeds the next piece of the document.
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        let mut i = 0;
        while i < bytes.len() && !self.broken {
            // Fast path: the inside of a string value that nobody captures.
            if let Lex::Str {
                key: false,
                escape: false,
            } = self.lex
            {
                if self.capture.is_none() {
                    match bytes[i..].iter().position(|&b| b == b'"' || b == b'\\') {
                        Some(n) => i += n,
                        None => return,
                    }
                }
            }
            self.byte(bytes[i]);
            i += 1;
        }
    }

    fn byte(&mut self, b: u8) {
        if self.lex == Lex::Scalar && is_delimiter(b) {
            self.lex = Lex::Between;
            self.complete_value();
        }
        match self.lex {
            Lex::Str { key, escape } => {
                self.record(b);
                if key && self.key.len() <= MAX_KEY_BYTES {
                    self.key.push(b);
                }
                if escape {
                    self.lex = Lex::Str { key, escape: false };
                } else if b == b'\\' {
                    self.key_escaped |= key;
                    self.lex = Lex::Str { key, escape: true };
                } else if b == b'"' {
                    self.lex = Lex::Between;
                    if key {
                        self.end_key();
                    } else {
                        self.complete_value();
                    }
                }
            }
            Lex::Scalar => self.record(b),
            Lex::Between => self.structural(b),
        }
    }

    fn structural(&mut self, b: u8) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => self.record(b),
            b'"' if self.expecting_key() => {
                self.record(b);
                self.key.clear();
                self.key_escaped = false;
                self.lex = Lex::Str {
                    key: true,
                    escape: false,
                };
            }
            b':' => {
                self.record(b);
                if !matches!(self.stack.last(), Some(f) if f.kind == Kind::Object && !f.expect_key)
                {
                    self.broken = true;
                }
            }
            b',' => {
                self.record(b);
                match self.stack.last_mut() {
                    Some(f) if f.kind == Kind::Object => f.expect_key = true,
                    Some(_) => {}
                    None => self.broken = true,
                }
            }
            b'}' | b']' => {
                self.record(b);
                let want = if b == b'}' { Kind::Object } else { Kind::Array };
                match self.stack.pop() {
                    Some(f) if f.kind == want || (f.kind == Kind::RootArray && b == b']') => {
                        if f.kind != Kind::RootArray {
                            self.complete_value();
                        }
                    }
                    _ => self.broken = true,
                }
            }
            b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => self.start_value(b),
            _ => self.broken = true,
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(f) if f.kind == Kind::Object && f.expect_key)
    }

    /// A value begins with `b`: work out which paths it is on and whether to capture it.
    fn start_value(&mut self, b: u8) {
        let all = if self.paths.len() >= 32 {
            u32::MAX
        } else {
            (1u32 << self.paths.len()) - 1
        };
        let (cands, pos, target, top_level_array) = match self.stack.last() {
            None => (all, 0, None, b == b'['),
            Some(f) => match f.kind {
                Kind::RootArray => (all, 0, None, false),
                Kind::Object => (f.value_cands, f.pos + 1, f.value_target, false),
                Kind::Array => {
                    let (c, t) = self.step(f.cands, f.pos, Seg::AnyIndex);
                    (c, f.pos + 1, t, false)
                }
            },
        };
        if let Some(path) = target {
            if self.capture.is_none() {
                self.capture = Some(Capture {
                    path,
                    depth: self.stack.len(),
                    buf: Vec::new(),
                    overflowed: false,
                });
            }
        }
        self.record(b);
        match b {
            b'{' | b'[' => {
                if self.stack.len() >= MAX_DEPTH {
                    self.broken = true;
                    return;
                }
                let kind = match (b, top_level_array) {
                    (b'[', true) => Kind::RootArray,
                    (b'[', false) => Kind::Array,
                    _ => Kind::Object,
                };
                self.stack.push(Frame {
                    kind,
                    cands,
                    pos,
                    expect_key: true,
                    value_cands: 0,
                    value_target: None,
                });
            }
            b'"' => {
                self.lex = Lex::Str {
                    key: false,
                    escape: false,
                }
            }
            _ => self.lex = Lex::Scalar,
        }
    }

    /// The paths among `cands` whose step at `pos` is `seg`, and the one that ends there.
    fn step(&self, cands: u32, pos: usize, seg: Seg) -> (u32, Option<usize>) {
        let mut next = 0u32;
        let mut target = None;
        for (i, path) in self.paths.iter().enumerate() {
            if cands & (1 << i) == 0 || path.get(pos) != Some(&seg) {
                continue;
            }
            if path.len() == pos + 1 {
                target = target.or(Some(i));
            } else {
                next |= 1 << i;
            }
        }
        (next, target)
    }

    fn end_key(&mut self) {
        let raw = std::mem::take(&mut self.key);
        let text: Option<String> = if raw.len() > MAX_KEY_BYTES {
            None
        } else if self.key_escaped {
            // `raw` ends with the closing quote; reopen it to let serde unescape.
            let mut quoted = Vec::with_capacity(raw.len() + 1);
            quoted.push(b'"');
            quoted.extend_from_slice(&raw);
            serde_json::from_slice(&quoted).ok()
        } else {
            raw.split_last()
                .and_then(|(_, k)| std::str::from_utf8(k).ok())
                .map(str::to_string)
        };
        let Some(frame) = self.stack.last() else {
            self.broken = true;
            return;
        };
        let (cands, pos) = (frame.cands, frame.pos);
        let (value_cands, value_target) = match text {
            Some(k) => {
                // Wanted keys are 'static; find one equal to `k` to form the step.
                let seg = self
                    .paths
                    .iter()
                    .flat_map(|p| p.iter())
                    .find(|s| matches!(s, Seg::Key(w) if *w == k))
                    .copied();
                match seg {
                    Some(seg) => self.step(cands, pos, seg),
                    None => (0, None),
                }
            }
            None => (0, None),
        };
        if let Some(frame) = self.stack.last_mut() {
            frame.expect_key = false;
            frame.value_cands = value_cands;
            frame.value_target = value_target;
        }
    }

    /// A value just ended (scalar, string or container): emit a finished capture, count roots.
    fn complete_value(&mut self) {
        let depth = self.stack.len();
        if self.capture.as_ref().is_some_and(|c| c.depth == depth) {
            if let Some(c) = self.capture.take() {
                if !c.overflowed {
                    self.captured.push((c.path, c.buf));
                }
            }
        }
        match self.stack.last() {
            None => self.roots += 1,
            Some(f) if f.kind == Kind::RootArray => self.roots += 1,
            _ => {}
        }
    }

    fn record(&mut self, b: u8) {
        if let Some(c) = self.capture.as_mut() {
            if c.overflowed {
                return;
            }
            if c.buf.len() >= MAX_CAPTURE_BYTES {
                c.overflowed = true;
                c.buf = Vec::new();
            } else {
                c.buf.push(b);
            }
        }
    }
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b',' | b']' | b'}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: &[&[Seg]] = &[
        &[Seg::Key("usage")],
        &[Seg::Key("message"), Seg::Key("usage")],
        &[Seg::Key("model")],
        &[
            Seg::Key("candidates"),
            Seg::AnyIndex,
            Seg::Key("finishReason"),
        ],
    ];

    fn scan_in(pieces: &[&[u8]]) -> (Vec<(usize, String)>, u64, bool) {
        let mut s = JsonScanner::new(PATHS);
        for p in pieces {
            s.feed(p);
        }
        s.finish();
        let caps = s
            .take_captures()
            .into_iter()
            .map(|(i, b)| (i, String::from_utf8_lossy(&b).into_owned()))
            .collect();
        (caps, s.roots_completed(), s.is_broken())
    }

    fn scan(doc: &str) -> (Vec<(usize, String)>, u64, bool) {
        scan_in(&[doc.as_bytes()])
    }

    #[test]
    fn captures_only_anchored_paths() {
        let doc = r#"{"id":"x","content":[{"type":"tool_use","input":{"usage":{"fake":1},"model":"no"}}],
            "model" : "claude-x", "usage": {"input_tokens": 10, "output_tokens": 2}}"#;
        let (caps, roots, broken) = scan(doc);
        assert_eq!(
            caps,
            vec![
                (2, r#""claude-x""#.to_string()),
                (0, r#"{"input_tokens": 10, "output_tokens": 2}"#.to_string()),
            ]
        );
        assert_eq!((roots, broken), (1, false));
    }

    #[test]
    fn nested_paths_array_wildcards_and_scalars() {
        let doc = r#"{"message":{"usage":{"a":[1,2,{"b":"}"}]}},"candidates":[{"finishReason":"STOP"},{"x":1}],"usage":null}"#;
        let (caps, _, _) = scan(doc);
        assert_eq!(
            caps,
            vec![
                (1, r#"{"a":[1,2,{"b":"}"}]}"#.to_string()),
                (3, r#""STOP""#.to_string()),
                (0, "null".to_string()),
            ]
        );
        // A number at the very end of the input completes on finish().
        let (caps, roots, _) = scan(r#"7 {"usage":12}"#);
        assert_eq!(caps, vec![(0, "12".to_string())]);
        assert_eq!(roots, 2);
    }

    #[test]
    fn escaped_keys_and_strings_with_quotes() {
        let doc = r#"{"us\u0061ge":{"k":"a \"quoted\" \\ value"},"model":"m\"x"}"#;
        let (caps, _, broken) = scan(doc);
        assert!(!broken);
        assert_eq!(caps[0], (0, r#"{"k":"a \"quoted\" \\ value"}"#.to_string()));
        assert_eq!(caps[1], (2, r#""m\"x""#.to_string()));
    }

    #[test]
    fn top_level_arrays_and_ndjson_make_roots() {
        let doc = "[{\"usage\":1},\n{\"usage\":2}\n,{\"model\":\"g\"}]";
        let (caps, roots, broken) = scan(doc);
        assert_eq!(
            caps,
            vec![(0, "1".into()), (0, "2".into()), (2, "\"g\"".into())]
        );
        assert_eq!((roots, broken), (3, false));
        let (caps, roots, _) = scan("{\"usage\":1}\n{\"usage\":{\"t\":2}}\n");
        assert_eq!(caps.len(), 2);
        assert_eq!(roots, 2);
        // Nested arrays below the top level are not roots.
        let (caps, _, _) = scan(r#"[[{"usage":1}]]"#);
        assert!(caps.is_empty());
    }

    #[test]
    fn any_split_gives_the_same_captures() {
        let doc = r#"{"a":"é\"{[","usage":{"x":[true,false,null,-1.5e3]},"model":"m"}"#.as_bytes();
        let whole = scan_in(&[doc]);
        for cut in 0..doc.len() {
            assert_eq!(scan_in(&[&doc[..cut], &doc[cut..]]), whole, "cut {cut}");
        }
        let pieces: Vec<&[u8]> = doc.chunks(1).collect();
        assert_eq!(scan_in(&pieces), whole);
    }

    #[test]
    fn garbage_and_limits() {
        assert!(scan("[DONE]").2);
        assert!(scan("}").2);
        let deep = "[".repeat(MAX_DEPTH + 2);
        assert!(scan(&deep).2);
        // An oversized capture is dropped, and scanning goes on.
        let big = format!(
            r#"{{"usage":"{}","model":"m"}}"#,
            "a".repeat(MAX_CAPTURE_BYTES + 10)
        );
        let (caps, roots, broken) = scan(&big);
        assert_eq!(caps, vec![(2, "\"m\"".to_string())]);
        assert_eq!((roots, broken), (1, false));
        // A long key never matches but does not break the scan.
        let long_key = format!(r#"{{"{}":1,"usage":2}}"#, "k".repeat(1000));
        assert_eq!(scan(&long_key).0, vec![(0, "2".to_string())]);
    }
}

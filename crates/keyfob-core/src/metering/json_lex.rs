//! A validating JSON lexer (RFC 8259) that reads a document fed in pieces and reports
//! its structure as events, holding nothing but the nesting and the current token.
//!
//! It accepts exactly what `serde_json` accepts when it skips a value: the JSON
//! grammar, JSON whitespace only (no form feed, no byte-order mark), no control
//! characters inside strings, valid escapes. Like serde when skipping, it does not
//! check that the bytes of a string are UTF-8 or that `\u` escapes pair up; whoever
//! decodes a string (the [`Sink`]) checks that for the strings it reads.
//!
//! Memory is constant: nesting deeper than [`MAX_DEPTH`] is refused rather than
//! followed, so the container stack is a fixed bit set.

/// Deepest nesting accepted. Real request bodies stay far below it.
pub(crate) const MAX_DEPTH: usize = 512;

/// What kind of thing begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Array,
    /// A string in key position.
    Key,
    String,
    Number,
    True,
    False,
    Null,
}

/// One step of the document. Every `Begin` is matched by one `End` at the same depth.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    Begin(Kind),
    /// Raw bytes of the open key, string (between the quotes, escapes as written) or
    /// number, in order, in as many pieces as the input came in.
    Piece(&'a [u8]),
    End,
}

/// Receives the events; returns `false` to stop the lexer (its outcome is decided).
pub(crate) trait Sink {
    /// `depth` is how many containers enclose the item: 0 for the document itself, 1
    /// for the members of a top-level object.
    fn event(&mut self, depth: usize, event: Event<'_>) -> bool;
}

/// Why a document was not read to a good end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Not JSON (including a document that ends too early).
    Syntax,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The sink stopped it.
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Escape {
    None,
    Backslash,
    /// Hex digits of a `\u` escape still to come.
    Hex(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Number {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    Exp,
    ExpSign,
    ExpDigits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// A value must come next.
    Value,
    /// Just after `[`: a value or `]`.
    ValueOrClose,
    /// Just after `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object.
    Key,
    Colon,
    /// A value ended: `,`, the container's close, or (at the top) nothing more.
    After,
    Str {
        key: bool,
        escape: Escape,
    },
    Num(Number),
    Literal {
        word: &'static [u8],
        at: usize,
    },
    Failed(Failure),
}

/// The lexer. Drive it with [`JsonLexer::feed`], then [`JsonLexer::finish`].
#[derive(Debug)]
pub(crate) struct JsonLexer {
    state: State,
    /// One bit per open container: set for an object, clear for an array.
    objects: [u64; MAX_DEPTH / 64],
    depth: usize,
}

impl JsonLexer {
    pub(crate) fn new() -> Self {
        Self {
            state: State::Value,
            objects: [0; MAX_DEPTH / 64],
            depth: 0,
        }
    }

    /// Whether the lexer has failed or been stopped (more input changes nothing).
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, State::Failed(_))
    }

    /// Reads the next piece of the document.
    pub(crate) fn feed(&mut self, bytes: &[u8], sink: &mut impl Sink) {
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Failed(_) => return,
                // Fast path: a run of plain string bytes goes out as one piece.
                State::Str {
                    escape: Escape::None,
                    ..
                } => {
                    let run = bytes[i..]
                        .iter()
                        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                        .unwrap_or(bytes.len() - i);
                    if run > 0 {
                        self.emit(sink, Event::Piece(&bytes[i..i + run]));
                        i += run;
                        continue;
                    }
                }
                _ => {}
            }
            self.byte(bytes[i], sink);
            i += 1;
        }
    }

    /// Ends the input: `Ok` if exactly one complete value was read.
    pub(crate) fn finish(&mut self, sink: &mut impl Sink) -> Result<(), Failure> {
        if let State::Num(n) = self.state {
            if number_may_end(n) {
                self.end_scalar(sink);
            }
        }
        match self.state {
            State::After if self.depth == 0 => Ok(()),
            State::Failed(failure) => Err(failure),
            _ => Err(Failure::Syntax),
        }
    }

    fn fail(&mut self, failure: Failure) {
        self.state = State::Failed(failure);
    }

    fn emit(&mut self, sink: &mut impl Sink, event: Event<'_>) {
        if !sink.event(self.depth, event) {
            self.fail(Failure::Stopped);
        }
    }

    fn byte(&mut self, b: u8, sink: &mut impl Sink) {
        let ws = matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        match self.state {
            State::Failed(_) => {}
            State::Value | State::ValueOrClose | State::KeyOrClose | State::Key | State::Colon
                if ws => {}
            State::Value => self.begin_value(b, sink),
            State::ValueOrClose if b == b']' => self.close(false, sink),
            State::ValueOrClose => self.begin_value(b, sink),
            State::KeyOrClose if b == b'}' => self.close(true, sink),
            State::KeyOrClose | State::Key if b == b'"' => {
                self.state = State::Str {
                    key: true,
                    escape: Escape::None,
                };
                self.emit(sink, Event::Begin(Kind::Key));
            }
            State::KeyOrClose | State::Key => self.fail(Failure::Syntax),
            State::Colon if b == b':' => self.state = State::Value,
            State::Colon => self.fail(Failure::Syntax),
            State::After => self.after_value(b, ws, sink),
            State::Str { key, escape } => self.string_byte(key, escape, b, sink),
            State::Num(n) => match number_step(n, b) {
                Some(next) => {
                    self.state = State::Num(next);
                    self.emit(sink, Event::Piece(std::slice::from_ref(&b)));
                }
                None if number_may_end(n) => {
                    self.end_scalar(sink);
                    self.byte(b, sink);
                }
                None => self.fail(Failure::Syntax),
            },
            State::Literal { word, at } => {
                if word.get(at) != Some(&b) {
                    self.fail(Failure::Syntax);
                } else if at + 1 == word.len() {
                    self.end_scalar(sink);
                } else {
                    self.state = State::Literal { word, at: at + 1 };
                }
            }
        }
    }

    fn after_value(&mut self, b: u8, ws: bool, sink: &mut impl Sink) {
        if ws {
            return;
        }
        if self.depth == 0 {
            return self.fail(Failure::Syntax); // something after the document
        }
        let in_object = self.in_object();
        match b {
            b',' if in_object => self.state = State::Key,
            b',' => self.state = State::Value,
            b'}' if in_object => self.close(true, sink),
            b']' if !in_object => self.close(false, sink),
            _ => self.fail(Failure::Syntax),
        }
    }

    fn string_byte(&mut self, key: bool, escape: Escape, b: u8, sink: &mut impl Sink) {
        let next = match escape {
            Escape::None => match b {
                b'"' => {
                    self.state = if key { State::Colon } else { State::After };
                    return self.emit(sink, Event::End);
                }
                b'\\' => Escape::Backslash,
                0..=0x1F => return self.fail(Failure::Syntax),
                _ => Escape::None,
            },
            Escape::Backslash => match b {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Escape::None,
                b'u' => Escape::Hex(4),
                _ => return self.fail(Failure::Syntax),
            },
            Escape::Hex(left) if b.is_ascii_hexdigit() => match left {
                1 => Escape::None,
                _ => Escape::Hex(left - 1),
            },
            Escape::Hex(_) => return self.fail(Failure::Syntax),
        };
        self.state = State::Str { key, escape: next };
        self.emit(sink, Event::Piece(std::slice::from_ref(&b)));
    }

    fn begin_value(&mut self, b: u8, sink: &mut impl Sink) {
        let (kind, state) = match b {
            b'{' | b'[' => {
                if self.depth >= MAX_DEPTH {
                    return self.fail(Failure::TooDeep);
                }
                let object = b == b'{';
                self.emit(
                    sink,
                    Event::Begin(if object { Kind::Object } else { Kind::Array }),
                );
                self.push(object);
                if !self.is_done() {
                    self.state = if object {
                        State::KeyOrClose
                    } else {
                        State::ValueOrClose
                    };
                }
                return;
            }
            b'"' => (
                Kind::String,
                State::Str {
                    key: false,
                    escape: Escape::None,
                },
            ),
            b'-' => (Kind::Number, State::Num(Number::Minus)),
            b'0' => (Kind::Number, State::Num(Number::Zero)),
            b'1'..=b'9' => (Kind::Number, State::Num(Number::Int)),
            b't' => (Kind::True, literal(b"true")),
            b'f' => (Kind::False, literal(b"false")),
            b'n' => (Kind::Null, literal(b"null")),
            _ => return self.fail(Failure::Syntax),
        };
        self.state = state;
        self.emit(sink, Event::Begin(kind));
        if kind == Kind::Number {
            self.emit(sink, Event::Piece(std::slice::from_ref(&b)));
        }
    }

    fn end_scalar(&mut self, sink: &mut impl Sink) {
        self.state = State::After;
        self.emit(sink, Event::End);
    }

    fn close(&mut self, object: bool, sink: &mut impl Sink) {
        // The callers checked that the innermost container is of this kind.
        debug_assert!(self.depth > 0 && self.in_object() == object);
        self.depth -= 1;
        self.state = State::After;
        self.emit(sink, Event::End);
    }

    fn push(&mut self, object: bool) {
        let (word, bit) = (self.depth / 64, self.depth % 64);
        if object {
            self.objects[word] |= 1 << bit;
        } else {
            self.objects[word] &= !(1 << bit);
        }
        self.depth += 1;
    }

    fn in_object(&self) -> bool {
        let top = self.depth.saturating_sub(1);
        self.depth > 0 && self.objects[top / 64] & (1 << (top % 64)) != 0
    }
}

fn literal(word: &'static [u8]) -> State {
    State::Literal { word, at: 1 }
}

/// The number state after `b`, or `None` if `b` cannot continue the number.
fn number_step(n: Number, b: u8) -> Option<Number> {
    use Number::*;
    let digit = b.is_ascii_digit();
    Some(match (n, b) {
        (Minus, b'0') => Zero,
        (Minus, _) if digit => Int,
        (Int, _) if digit => Int,
        (Zero | Int, b'.') => Dot,
        (Dot | Frac, _) if digit => Frac,
        (Zero | Int | Frac, b'e' | b'E') => Exp,
        (Exp, b'+' | b'-') => ExpSign,
        (Exp | ExpSign | ExpDigits, _) if digit => ExpDigits,
        _ => return None,
    })
}

fn number_may_end(n: Number) -> bool {
    matches!(
        n,
        Number::Zero | Number::Int | Number::Frac | Number::ExpDigits
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records events as text, for comparing.
    #[derive(Default)]
    struct Log(Vec<Vec<u8>>);

    impl Sink for Log {
        fn event(&mut self, depth: usize, event: Event<'_>) -> bool {
            match (event, self.0.last_mut()) {
                // Pieces are joined, so any split of the input logs the same.
                (Event::Piece(p), Some(last)) if last.starts_with(b"+") => {
                    last.extend_from_slice(p)
                }
                (Event::Piece(p), _) => self.0.push([format!("+{depth}:").as_bytes(), p].concat()),
                (e, _) => self.0.push(format!("{depth}:{e:?}").into_bytes()),
            }
            true
        }
    }

    fn lex_in(pieces: &[&[u8]]) -> (Vec<String>, Result<(), Failure>) {
        let (mut lexer, mut log) = (JsonLexer::new(), Log::default());
        for p in pieces {
            lexer.feed(p, &mut log);
        }
        let end = lexer.finish(&mut log);
        let text = log
            .0
            .iter()
            .map(|e| String::from_utf8_lossy(e).into_owned());
        (text.collect(), end)
    }

    fn accepts(doc: &str) -> bool {
        lex_in(&[doc.as_bytes()]).1.is_ok()
    }

    #[test]
    fn reports_structure_with_depths() {
        let (log, end) = lex_in(&[br#" {"a\"b" : [1, -2.5e+3, "x"], "t":true, "n":null} "#]);
        assert_eq!(end, Ok(()));
        let want = [
            "0:Begin(Object)",
            "1:Begin(Key)",
            r#"+1:a\"b"#,
            "1:End",
            "1:Begin(Array)",
            "2:Begin(Number)",
            "+2:1",
            "2:End",
            "2:Begin(Number)",
            "+2:-2.5e+3",
            "2:End",
            "2:Begin(String)",
            "+2:x",
            "2:End",
            "1:End",
            "1:Begin(Key)",
            "+1:t",
            "1:End",
            "1:Begin(True)",
            "1:End",
            "1:Begin(Key)",
            "+1:n",
            "1:End",
            "1:Begin(Null)",
            "1:End",
            "0:End",
        ];
        assert_eq!(log, want);
    }

    #[test]
    fn accepts_what_serde_accepts() {
        let docs = [
            "0",
            "-0",
            "1.5E-7",
            "\"\\u00e9\\/\"",
            "[]",
            "{}",
            "[[],{}]",
            "\"\\ud800\"", // serde skips lone surrogates too; decoders check them
            "\t\r\n null \n",
        ];
        for doc in docs {
            assert!(accepts(doc), "{doc:?}");
            serde_json::from_str::<serde::de::IgnoredAny>(doc).expect(doc);
        }
    }

    #[test]
    fn fail_bodies_that_are_not_json() {
        let docs = [
            "",
            " ",
            "01",
            "1.",
            "-",
            "1e",
            "+1",
            ".5",
            "tru",
            "nul",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "{1:2}",
            "[1 2]",
            "[}",
            "{]",
            "\"a",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"tab\there\"",
            "{} {}",
            "1 x",
            "\u{feff}{}",
            "\x0c{}",
        ];
        for doc in docs {
            assert!(!accepts(doc), "{doc:?}");
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(doc).is_err(),
                "{doc:?}"
            );
        }
    }

    #[test]
    fn any_split_gives_the_same_events() {
        let doc = r#"{"k":"é\"\u0041{[","v":[true,false,null,-1.5e3,0],"w":{"x":10}}"#.as_bytes();
        let whole = lex_in(&[doc]);
        assert_eq!(whole.1, Ok(()));
        for cut in 0..doc.len() {
            assert_eq!(lex_in(&[&doc[..cut], &doc[cut..]]), whole, "cut {cut}");
        }
        let bytes: Vec<&[u8]> = doc.chunks(1).collect();
        assert_eq!(lex_in(&bytes), whole);
    }

    #[test]
    fn fail_nesting_past_the_cap() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(accepts(&ok));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(lex_in(&[deep.as_bytes()]).1, Err(Failure::TooDeep));
    }

    #[test]
    fn a_sink_can_stop_the_lexer() {
        struct StopAtKey;
        impl Sink for StopAtKey {
            fn event(&mut self, _: usize, event: Event<'_>) -> bool {
                event != Event::Begin(Kind::Key)
            }
        }
        let mut lexer = JsonLexer::new();
        lexer.feed(br#"{"a":1}"#, &mut StopAtKey);
        assert!(lexer.is_done());
        assert_eq!(lexer.finish(&mut StopAtKey), Err(Failure::Stopped));
    }
}

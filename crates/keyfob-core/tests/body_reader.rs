//! The incremental body reader against the whole-body rule (`read_request`), over a
//! table of bodies written for this test: where the facts sit, escapes, duplicates,
//! byte-order marks, arrays, bad endings, float counts, multipart edge cases. Then a
//! property: any split of a body into chunks reads the same as the whole body.

use keyfob_core::metering::body_scan::BodyReader;
use keyfob_core::metering::request_body::{self, RequestFacts};
use keyfob_core::CoreError;
use proptest::prelude::*;

const JSON: Option<&str> = Some("application/json");
const PATH: &str = "/v1/chat/completions";

/// (model, stream, cap, choices) or the refusal's message.
type Outcome = Result<(Option<String>, bool, Option<u64>, u64), String>;

fn outcome(read: Result<RequestFacts, CoreError>) -> Outcome {
    match read {
        Ok(f) => Ok((f.model, f.stream, f.max_output_tokens, f.choices)),
        Err(CoreError::BadRequest(message)) => Err(message),
        Err(other) => panic!("not a BadRequest: {other:?}"),
    }
}

/// Feeds `body` in chunks of `size` (while the reader wants more) and reads the facts.
fn chunked(content_type: Option<&str>, body: &[u8], size: usize) -> Outcome {
    cut(
        content_type,
        body,
        &body.chunks(size.max(1)).collect::<Vec<_>>(),
    )
}

fn cut(content_type: Option<&str>, body: &[u8], pieces: &[&[u8]]) -> Outcome {
    let mut reader = BodyReader::new(content_type);
    for piece in pieces {
        if !reader.wants_more() {
            break;
        }
        reader.feed(piece);
    }
    let read = reader.finish(body.len() as u64);
    outcome(read.and_then(|b| request_body::facts("openai", "POST", PATH, b)))
}

fn whole(content_type: Option<&str>, body: &[u8]) -> Outcome {
    outcome(request_body::read_request(
        "openai",
        PATH,
        content_type,
        body,
    ))
}

fn ok(model: Option<&str>, stream: bool, cap: Option<u64>, choices: u64) -> Outcome {
    Ok((model.map(str::to_string), stream, cap, choices))
}

fn err(message: &str) -> Outcome {
    Err(message.to_string())
}

const NOT_JSON: &str = "the request body is not valid JSON";
const REPEATS: &str = "the request body repeats a key";
const MALFORMED: &str = "the multipart body is malformed";

/// A multipart form with these (name, value) parts.
fn form(boundary: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in parts {
        out.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                .as_bytes(),
        );
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// A message body of about `size` bytes of text with quotes, escapes and braces in it.
fn filler(size: usize) -> String {
    let unit = r#"lorem \"ipsum\" {\"model\":\"x\"} [\u00e9] \\ "#;
    unit.repeat(size / unit.len() + 1)
}

struct Case {
    name: &'static str,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    want: Outcome,
}

fn case(
    name: &'static str,
    ct: Option<&'static str>,
    body: impl Into<Vec<u8>>,
    want: Outcome,
) -> Case {
    Case {
        name,
        content_type: ct,
        body: body.into(),
        want,
    }
}

fn table() -> Vec<Case> {
    let big = filler(5 << 20);
    let file = vec![b'\r'; 1 << 20]
        .into_iter()
        .chain(std::iter::repeat_n(b'-', 1 << 20))
        .collect::<Vec<u8>>();
    let form_ct = Some("multipart/form-data; boundary=----x42");
    let long_model = "m".repeat(5000);
    vec![
        case(
            "model first",
            JSON,
            r#"{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":100,"max_completion_tokens":300,"n":2,"stream":true}"#,
            ok(Some("gpt-4o"), true, Some(300), 2),
        ),
        case(
            "model last after 5 MiB",
            JSON,
            format!(r#"{{"messages":[{{"role":"user","content":"{big}"}}],"n":3,"max_output_tokens":7,"model":"gpt-4o-mini"}}"#),
            ok(Some("gpt-4o-mini"), false, Some(7), 3),
        ),
        case(
            "nested model keys are ignored",
            JSON,
            r#"{"messages":[{"model":"evil","stream":true}],"metadata":{"model":"x","n":9},"model":"real"}"#,
            ok(Some("real"), false, None, 1),
        ),
        case("only nested models", JSON, r#"{"tools":[{"model":"x"}]}"#, ok(None, false, None, 1)),
        case(
            "escaped keys and values",
            JSON,
            r#"{"mo\u0064el":"gpt\u002d4o","\u006e":4,"str\u0065am":true}"#,
            ok(Some("gpt-4o"), true, None, 4),
        ),
        case("duplicate keys", JSON, r#"{"model":"a","model":"b"}"#, err(REPEATS)),
        case("duplicate escaped key", JSON, r#"{"model":"a","mo\u0064el":"b"}"#, err(REPEATS)),
        case(
            "duplicate unread key",
            JSON,
            r#"{"model":"m","stream_options":{"include_usage":true},"stream_options":{}}"#,
            err(REPEATS),
        ),
        case("duplicate key as text/plain", Some("text/plain"), r#"{"model":"a","model":"b"}"#, err(REPEATS)),
        case("byte-order mark", None, "\u{feff}{\"model\":\"a\"}", err(NOT_JSON)),
        case("byte-order mark, JSON type", JSON, "\u{feff}{\"model\":\"a\"}", err(NOT_JSON)),
        case("array", JSON, r#"[{"model":"gpt-4o"}]"#, ok(None, false, None, 1)),
        case("array by its first byte", None, r#" [{"model":"gpt-4o"}]"#, ok(None, false, None, 1)),
        case("string document", JSON, r#""model""#, ok(None, false, None, 1)),
        case("garbage at the end", JSON, r#"{"model":"gpt-4o","messages":[]} x"#, err(NOT_JSON)),
        case("two documents", JSON, r#"{"model":"gpt-4o"}{}"#, err(NOT_JSON)),
        case("cut short", JSON, r#"{"model":"gpt-4o","messages":["#, err(NOT_JSON)),
        case("trailing comma", Some("text/plain"), r#" {"model":"a",}"#, err(NOT_JSON)),
        case(
            "bad JSON after 5 MiB",
            JSON,
            format!(r#"{{"model":"gpt-4o","messages":[{{"content":"{big}"}}],}}"#),
            err(NOT_JSON),
        ),
        case("not json", JSON, "not json", err(NOT_JSON)),
        case(
            "numbers as floats",
            JSON,
            r#"{"model":"m","max_tokens":100.0,"max_completion_tokens":1e3,"n":2E0}"#,
            ok(Some("m"), false, None, 1),
        ),
        case("negative numbers", JSON, r#"{"model":"m","max_tokens":-5,"n":-0}"#, ok(Some("m"), false, None, 1)),
        case("huge n", JSON, r#"{"model":"m","n":1000000}"#, ok(Some("m"), false, None, 128)),
        case("n zero", JSON, r#"{"model":"m","n":0}"#, ok(Some("m"), false, None, 1)),
        case(
            "numbers past u64",
            JSON,
            r#"{"model":"m","n":99999999999999999999999,"max_tokens":18446744073709551616}"#,
            ok(Some("m"), false, None, 1),
        ),
        case(
            "u64 max",
            JSON,
            r#"{"model":"m","max_tokens":18446744073709551615}"#,
            ok(Some("m"), false, Some(u64::MAX), 1),
        ),
        case("counts as strings", JSON, r#"{"model":"m","max_tokens":"100","n":"2"}"#, ok(Some("m"), false, None, 1)),
        case("stream as a string", JSON, r#"{"model":"m","stream":"true"}"#, ok(Some("m"), false, None, 1)),
        case(
            "generation config",
            JSON,
            r#"{"contents":[],"generationConfig":{"maxOutputTokens":512,"candidateCount":3,"responseSchema":{"maxOutputTokens":99999,"candidateCount":100}}}"#,
            ok(None, false, Some(512), 3),
        ),
        case(
            "both config spellings",
            JSON,
            r#"{"generation_config":{"max_output_tokens":900,"candidate_count":2},"generationConfig":{"maxOutputTokens":512},"n":1}"#,
            ok(None, false, Some(900), 2),
        ),
        case(
            "config not an object",
            JSON,
            r#"{"generationConfig":[{"maxOutputTokens":512}],"generation_config":null}"#,
            ok(None, false, None, 1),
        ),
        case(
            "escaped config key",
            JSON,
            r#"{"generationConfig":{"max\u004futputTokens":77}}"#,
            ok(None, false, Some(77), 1),
        ),
        case("model null", JSON, r#"{"model":null,"max_tokens":5}"#, ok(None, false, Some(5), 1)),
        case("model a number", JSON, r#"{"model":5}"#, err("model must be a string")),
        case("model an array", JSON, r#"{"model":["gpt-4o"]}"#, err("model must be a string")),
        case("model empty", JSON, r#"{"model":""}"#, err("model '' is not a valid model id")),
        case("model with a control", JSON, r#"{"model":"a\u0000"}"#, err("model 'a' is not a valid model id")),
        case(
            "model too long",
            JSON,
            format!(r#"{{"model":"{long_model}"}}"#),
            Err(format!("model '{}' is not a valid model id", &long_model[..64])),
        ),
        case("model a lone surrogate", JSON, r#"{"model":"\ud800"}"#, err(NOT_JSON)),
        case("lone surrogate in content", JSON, r#"{"messages":["\ud800"],"model":"m"}"#, ok(Some("m"), false, None, 1)),
        case("empty", JSON, "", ok(None, false, None, 1)),
        case("whitespace", JSON, " \n\t\r ", ok(None, false, None, 1)),
        case("form feed only", JSON, "\x0c", ok(None, false, None, 1)),
        case("form feed before JSON", None, "\x0c{\"model\":\"a\"}", err(NOT_JSON)),
        case("text", Some("text/plain"), "hello", ok(None, false, None, 1)),
        case("JSON behind text/plain", Some("text/plain"), r#"{"model":"a"}"#, ok(Some("a"), false, None, 1)),
        case("JSON behind a form type", form_ct, r#"{"model":"a"}"#, ok(Some("a"), false, None, 1)),
        case(
            "form: 2 MiB file before the model",
            form_ct,
            form("----x42", &[("file", &file), ("model", b"gpt-4o-transcribe"), ("stream", b" true\t")]),
            ok(Some("gpt-4o-transcribe"), true, None, 1),
        ),
        case(
            "form: quoted boundary",
            Some("multipart/form-data; charset=utf-8; boundary=\"b b\""),
            form("b b", &[("purpose", b"batch"), ("model", b"whisper-1")]),
            ok(Some("whisper-1"), false, None, 1),
        ),
        case(
            "form: near-delimiters in content",
            form_ct,
            form(
                "----x42",
                &[
                    ("file", b"\r\n--not\r\r\n------x4\r\n-\r\n------x4\r\n------x41"),
                    ("model", b"m"),
                ],
            ),
            ok(Some("m"), false, None, 1),
        ),
        case(
            "form: content ends in CR",
            Some("multipart/form-data; boundary=aab"),
            form("aab", &[("file", b"\r\n--aa\r\n--a\r"), ("model", b"x")]),
            ok(Some("x"), false, None, 1),
        ),
        case(
            "form: empty values",
            form_ct,
            form("----x42", &[("stream", b""), ("model", b"")]),
            err("model '' is not a valid model id"),
        ),
        case(
            "form: stream not true",
            form_ct,
            form("----x42", &[("stream", b"truex"), ("model", b"m")]),
            ok(Some("m"), false, None, 1),
        ),
        case(
            "form: two models",
            form_ct,
            form("----x42", &[("model", b"whisper-1"), ("model", b"gpt-4o-transcribe")]),
            err("the form names more than one model"),
        ),
        case(
            "form: two models, then cut short",
            form_ct,
            {
                let two = form("----x42", &[("model", b"a"), ("model", b"b")]);
                two[..two.len() - 5].to_vec()
            },
            err(MALFORMED),
        ),
        case(
            "form: model not text",
            form_ct,
            form("----x42", &[("model", b"\xff")]),
            err("model must be text"),
        ),
        case(
            "form: cut short",
            form_ct,
            &form("----x42", &[("model", b"m")])[..50],
            err(MALFORMED),
        ),
        case("form: no boundary", Some("multipart/form-data"), "--x\r\n", err("multipart body without a boundary")),
        case("form: leading CRLF", form_ct, [b"\r\n".as_slice(), &form("----x42", &[("a", b"b")])].concat(), err(MALFORMED)),
        case("form: no parts", form_ct, "------x42--", ok(None, false, None, 1)),
        case("form: epilogue ignored", form_ct, "------x42--garbage\r\n--", ok(None, false, None, 1)),
        case("form: padding after a boundary", form_ct, "------x42 \r\n", err(MALFORMED)),
        case(
            "form: headers without a blank line",
            form_ct,
            "------x42\r\nContent-Disposition: form-data; name=\"model\"\r\n------x42--",
            err(MALFORMED),
        ),
        case(
            "form: two dispositions",
            form_ct,
            "------x42\r\nContent-Disposition: form-data; name=\"a\"\r\ncontent-disposition: form-data; name=model\r\n\r\nm\r\n------x42--",
            err(MALFORMED),
        ),
        case(
            "form: unquoted name and other headers",
            form_ct,
            "------x42\r\nContent-Type: text/plain\r\nCONTENT-DISPOSITION: Form-Data; name = model \r\n\r\nm1\r\n------x42--",
            ok(Some("m1"), false, None, 1),
        ),
    ]
}

#[test]
fn the_reader_agrees_with_the_whole_body_rule() {
    for c in table() {
        let got = chunked(c.content_type, &c.body, c.body.len());
        assert_eq!(got, c.want, "{}", c.name);
        assert_eq!(whole(c.content_type, &c.body), c.want, "{} (whole)", c.name);
    }
}

#[test]
fn chunk_sizes_do_not_matter() {
    for c in table() {
        let sizes: &[usize] = if c.body.len() > 4096 {
            &[4093, 65536]
        } else {
            &[1, 2, 3, 7, 64]
        };
        for &size in sizes {
            assert_eq!(
                chunked(c.content_type, &c.body, size),
                c.want,
                "{} in {size}",
                c.name
            );
        }
    }
}

#[test]
fn fail_bodies_the_old_rule_read_one_way() {
    // Deliberately stricter than the old whole-body rule (which read the first as naming
    // nothing and took the last of a repeated config count): each of these could be
    // read two ways by a provider, or is beyond what the reader holds.
    let long_key = format!(r#"{{"{}":1,"model":"m"}}"#, "k".repeat(300));
    let many_keys = format!(
        "{{{}\"model\":\"m\"}}",
        (0..300).map(|i| format!("\"k{i}\":0,")).collect::<String>()
    );
    let refused = [
        (r#"{"\ud800":1,"model":"gpt-4o"}"#.to_string(), NOT_JSON),
        (
            r#"{"generationConfig":{"maxOutputTokens":1,"maxOutputTokens":2}}"#.to_string(),
            REPEATS,
        ),
        (long_key, "a top-level key of the request body is too long"),
        (many_keys, "the request body has too many top-level keys"),
        (
            format!("{{\"a\":{}{}}}", "[".repeat(600), "]".repeat(600)),
            "the request body nests too deeply",
        ),
    ];
    for (body, message) in refused {
        assert_eq!(
            chunked(JSON, body.as_bytes(), 5),
            err(message),
            "{body:.80}"
        );
        // `read_request` reads through the same reader.
        assert_eq!(whole(JSON, body.as_bytes()), err(message), "{body:.80}");
    }
    // Both spellings of a config field: the larger counts, whichever the provider reads.
    let both = br#"{"generationConfig":{"maxOutputTokens":10,"max_output_tokens":100000}}"#;
    assert_eq!(chunked(JSON, both, 3), ok(None, false, Some(100_000), 1));
}

#[test]
fn a_refused_body_stops_the_reader_early() {
    let mut reader = BodyReader::new(JSON);
    reader.feed(br#"{"model":"a","model":"b""#);
    assert!(!reader.wants_more());
    let mut reader = BodyReader::new(JSON);
    reader.feed(br#"{"model":"a"} "#);
    assert!(reader.wants_more(), "a valid body is read to its end");
    let mut reader = BodyReader::new(Some("text/plain"));
    reader.feed(b"  hello");
    assert!(
        !reader.wants_more(),
        "a body that names nothing is not read"
    );
    let mut reader = BodyReader::new(Some("multipart/form-data; boundary=b"));
    reader.feed(b"--b--");
    assert!(!reader.wants_more(), "a closed form is not read further");
}

/// Small bodies for the split property: the table's, and JSON-ish noise.
fn small_bodies() -> Vec<(Option<&'static str>, Vec<u8>)> {
    table()
        .into_iter()
        .filter(|c| c.body.len() < 4096)
        .map(|c| (c.content_type, c.body))
        .collect()
}

fn noise() -> impl Strategy<Value = Vec<u8>> {
    let alphabet = b"{}[]\":, \\u0e1-.tnrfalsmodelstream\r\n\xef".to_vec();
    proptest::collection::vec(proptest::sample::select(alphabet), 0..48)
}

proptest! {
    #[test]
    fn any_split_reads_like_the_whole_body(
        pick in 0usize..1000,
        junk in noise(),
        use_junk in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..10),
    ) {
        let bodies = small_bodies();
        let (ct, body) = if use_junk {
            (JSON, junk)
        } else {
            bodies[pick % bodies.len()].clone()
        };
        let mut at: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for to in at {
            pieces.push(&body[from..to]);
            from = to;
        }
        pieces.push(&body[from..]);
        prop_assert_eq!(cut(ct, &body, &pieces), whole(ct, &body));
        prop_assert_eq!(chunked(ct, &body, 1), whole(ct, &body));
    }

    #[test]
    fn a_form_model_is_found_past_any_content(
        content in proptest::collection::vec(proptest::sample::select(b"\r\n-ab".to_vec()), 0..64),
        size in 1usize..9,
    ) {
        let boundary = "-ab";
        let delimiter = b"\r\n---ab";
        prop_assume!(!content.windows(delimiter.len()).any(|w| w == delimiter));
        // Content ending in a prefix of the delimiter would run into the real one.
        prop_assume!(!(1..delimiter.len()).any(|n| content.ends_with(&delimiter[..n])));
        let body = form(boundary, &[("file", &content), ("model", b"m")]);
        let ct = Some("multipart/form-data; boundary=-ab");
        prop_assert_eq!(chunked(ct, &body, size), ok(Some("m"), false, None, 1));
    }
}

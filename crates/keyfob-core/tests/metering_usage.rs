//! Usage parsing against the transcripts in `tests/data/metering/` (see its README for
//! what each file follows). Whatever the chunking — whole, split at any one point, in
//! random pieces, byte by byte — and whatever the line endings, the meter must report
//! exactly the usage in `expected.json`.

use keyfob_core::metering::sse::SseSplitter;
use keyfob_core::metering::{Dialect, Metered, ResponseMeter, Usage};
use proptest::prelude::*;
use serde::Deserialize;

macro_rules! transcripts {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("data/metering/", $name)).as_slice())),*]
    };
}

/// Every transcript, embedded so the tests also build for wasm32.
const TRANSCRIPTS: &[(&str, &[u8])] = transcripts![
    "anthropic_stream.sse",
    "anthropic_stream_tools.sse",
    "anthropic_message.json",
    "openai_chat_stream.sse",
    "openai_chat.json",
    "openai_responses_stream.sse",
    "openai_embeddings.json",
    "gemini_stream.sse",
    "gemini_stream_array.json",
    "gemini_generate.json",
    "cohere_v2_stream.sse",
    "cohere_v1_stream.ndjson",
    "groq_stream.sse",
    "openrouter_stream.sse",
    "fail_anthropic_cut.sse",
    "fail_openai_no_include_usage.sse",
    "fail_gemini_array_cut.json",
];

const EXPECTED: &str = include_str!("data/metering/expected.json");

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Expected {
    dialect: String,
    content_type: String,
    complete: bool,
    model: Option<String>,
    usage: Option<Usage>,
}

fn expected() -> std::collections::BTreeMap<String, Expected> {
    serde_json::from_str(EXPECTED).expect("expected.json parses")
}

fn dialect(name: &str) -> Dialect {
    match name {
        "anthropic" => Dialect::Anthropic,
        "openai" => Dialect::OpenAi,
        "gemini" => Dialect::Gemini,
        "cohere" => Dialect::Cohere,
        other => panic!("unknown dialect {other}"),
    }
}

fn meter<'a>(exp: &Expected, pieces: impl IntoIterator<Item = &'a [u8]>) -> Metered {
    let mut m = ResponseMeter::new(dialect(&exp.dialect), Some(&exp.content_type));
    for piece in pieces {
        m.feed(piece);
    }
    m.finish()
}

fn want(exp: &Expected) -> Metered {
    Metered {
        usage: exp.usage,
        model: exp.model.clone(),
        complete: exp.complete,
    }
}

fn transcript(name: &str) -> (&'static [u8], Expected) {
    let bytes = TRANSCRIPTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .expect("listed");
    let exp = expected().remove(name).expect("in expected.json");
    (bytes, exp)
}

#[test]
fn every_file_is_listed_and_expected() {
    let exp = expected();
    let listed: Vec<&str> = TRANSCRIPTS.iter().map(|(n, _)| *n).collect();
    for name in exp.keys() {
        assert!(listed.contains(&name.as_str()), "{name} not in TRANSCRIPTS");
    }
    assert_eq!(
        listed.len(),
        exp.len(),
        "TRANSCRIPTS and expected.json differ"
    );
    #[cfg(not(target_arch = "wasm32"))]
    {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/metering");
        for entry in std::fs::read_dir(dir).expect("data dir") {
            let name = entry
                .expect("entry")
                .file_name()
                .into_string()
                .expect("utf-8");
            if name != "expected.json" && name != "README.md" {
                assert!(
                    listed.contains(&name.as_str()),
                    "{name} on disk but not tested"
                );
            }
        }
    }
}

#[test]
fn whole_transcripts_give_the_expected_usage() {
    for (name, bytes) in TRANSCRIPTS {
        let (_, exp) = transcript(name);
        assert_eq!(meter(&exp, [*bytes]), want(&exp), "{name}");
        assert_eq!(
            name.starts_with("fail_"),
            !exp.complete,
            "{name}: fail_ means incomplete"
        );
    }
}

#[test]
fn every_single_split_point_and_byte_by_byte_agree() {
    for (name, bytes) in TRANSCRIPTS {
        let (_, exp) = transcript(name);
        let whole = want(&exp);
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(meter(&exp, [a, b]), whole, "{name} cut at {cut}");
        }
        assert_eq!(meter(&exp, bytes.chunks(1)), whole, "{name} byte by byte");
    }
}

/// The same SSE transcript with every line ending as LF, CRLF or CR.
fn with_line_endings(bytes: &[u8], ending: &[u8]) -> Vec<u8> {
    let mut lf = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'\r', Some(b'\n')) => {
                lf.push(b'\n');
                i += 2;
            }
            (b'\r', _) => {
                lf.push(b'\n');
                i += 1;
            }
            (b, _) => {
                lf.push(b);
                i += 1;
            }
        }
    }
    let mut out = Vec::with_capacity(lf.len() * 2);
    for b in lf {
        if b == b'\n' {
            out.extend_from_slice(ending);
        } else {
            out.push(b);
        }
    }
    out
}

#[test]
fn sse_line_endings_do_not_matter() {
    for (name, bytes) in TRANSCRIPTS.iter().filter(|(n, _)| n.ends_with(".sse")) {
        let (_, exp) = transcript(name);
        for ending in [&b"\n"[..], b"\r\n", b"\r"] {
            let rewritten = with_line_endings(bytes, ending);
            assert_eq!(
                meter(&exp, [rewritten.as_slice()]),
                want(&exp),
                "{name} {ending:?}"
            );
            // A CRLF split between its CR and LF, everywhere at once.
            let pieces: Vec<&[u8]> = rewritten.split_inclusive(|&b| b == b'\r').collect();
            assert_eq!(meter(&exp, pieces), want(&exp), "{name} split after CR");
        }
    }
}

#[test]
fn sse_events_are_identical_however_the_stream_is_cut() {
    for (name, bytes) in TRANSCRIPTS.iter().filter(|(n, _)| n.ends_with(".sse")) {
        let events = |pieces: &mut dyn Iterator<Item = &[u8]>| {
            let mut s = SseSplitter::new();
            let mut out = Vec::new();
            for p in pieces {
                out.extend(s.feed(p));
            }
            out.extend(s.finish());
            out
        };
        let whole = events(&mut std::iter::once(*bytes));
        assert!(!whole.is_empty(), "{name}");
        assert_eq!(events(&mut bytes.chunks(1)), whole, "{name}");
        assert_eq!(events(&mut bytes.chunks(7)), whole, "{name}");
        for ending in [&b"\n"[..], b"\r\n", b"\r"] {
            let rewritten = with_line_endings(bytes, ending);
            assert_eq!(events(&mut rewritten.chunks(3)), whole, "{name} {ending:?}");
        }
    }
}

#[test]
fn the_real_answer_is_not_spoofed_by_content() {
    // The transcripts put `"usage"` inside model text and tool input; the numbers there
    // (999999, 123456, 1) must never show up.
    for name in [
        "anthropic_stream.sse",
        "anthropic_message.json",
        "anthropic_stream_tools.sse",
    ] {
        let (bytes, exp) = transcript(name);
        let got = meter(&exp, [bytes]).usage.expect("usage");
        assert!(
            got.output_tokens < 1000 && got.input_tokens < 10_000,
            "{name}: {got:?}"
        );
    }
}

/// Random cut points: a sorted list of offsets into the transcript.
fn pieces_of(bytes: &[u8], mut cuts: Vec<usize>) -> Vec<&[u8]> {
    cuts.iter_mut().for_each(|c| *c %= bytes.len() + 1);
    cuts.sort_unstable();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.push(&bytes[at..c]);
        at = c;
    }
    out.push(&bytes[at..]);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_pieces_give_identical_usage(
        index in 0..TRANSCRIPTS.len(),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let (name, bytes) = TRANSCRIPTS[index];
        let (_, exp) = transcript(name);
        prop_assert_eq!(meter(&exp, pieces_of(bytes, cuts)), want(&exp), "{}", name);
    }

    #[test]
    fn random_pieces_of_rewritten_line_endings_agree(
        index in 0..TRANSCRIPTS.len(),
        crlf in any::<bool>(),
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let (name, bytes) = TRANSCRIPTS[index];
        prop_assume!(name.ends_with(".sse"));
        let (_, exp) = transcript(name);
        let rewritten = with_line_endings(bytes, if crlf { b"\r\n" } else { b"\r" });
        prop_assert_eq!(meter(&exp, pieces_of(&rewritten, cuts)), want(&exp), "{}", name);
    }
}

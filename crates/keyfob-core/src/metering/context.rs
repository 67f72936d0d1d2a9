//! The app's own note on a request: `x-keyfob-reason` and `x-keyfob-context`.
//!
//! Both are optional and go into the audit log only; the request allow-list in
//! [`crate::request`] never forwards `x-keyfob-*` headers upstream. They come from the
//! page, so they are validated strictly and an invalid one refuses the request with
//! `INVALID_CONTEXT` (400) instead of being dropped silently:
//! - `x-keyfob-reason`: 1 to 512 characters, no control characters;
//! - `x-keyfob-context`: a flat JSON object of at most 20 keys; keys 1 to 64 characters,
//!   values strings of at most 512 characters or numbers, booleans or null (at most 512
//!   characters of JSON); the whole header at most 4 KB; no repeated keys, no control
//!   characters in keys or strings;
//! - either header appearing twice is refused.
//!
//! Lengths are counted in Unicode scalar values. Header values are byte strings in
//! `fetch`, so non-ASCII text should be sent as `\u` escapes inside the JSON.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::CoreError;

pub const REASON_HEADER: &str = "x-keyfob-reason";
pub const CONTEXT_HEADER: &str = "x-keyfob-context";

pub const MAX_CONTEXT_KEYS: usize = 20;
pub const MAX_KEY_CHARS: usize = 64;
pub const MAX_VALUE_CHARS: usize = 512;
pub const MAX_CONTEXT_BYTES: usize = 4096;

/// The validated note an app attached to a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppNote {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<BTreeMap<String, Value>>,
}

/// Reads and validates both headers from a page's header list (names compared
/// ASCII-case-insensitively).
pub fn read_note(headers: &[(String, String)]) -> Result<AppNote, CoreError> {
    let one = |name: &str| -> Result<Option<&str>, CoreError> {
        let mut found = headers
            .iter()
            .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str());
        match (found.next(), found.next()) {
            (_, Some(_)) => Err(invalid(format!("{name} appears more than once"))),
            (value, None) => Ok(value),
        }
    };
    Ok(AppNote {
        reason: one(REASON_HEADER)?.map(validate_reason).transpose()?,
        context: one(CONTEXT_HEADER)?.map(validate_context).transpose()?,
    })
}

/// Whether a header name is one of Keyfob's own (never sent upstream).
pub fn is_keyfob_header(name: &str) -> bool {
    name.get(..9)
        .is_some_and(|p| p.eq_ignore_ascii_case("x-keyfob-"))
}

fn invalid(message: String) -> CoreError {
    CoreError::InvalidContext(message)
}

/// Validates an `x-keyfob-reason` value.
pub fn validate_reason(value: &str) -> Result<String, CoreError> {
    let reason = value.trim();
    if reason.is_empty() {
        return Err(invalid("the reason is empty".into()));
    }
    if reason.chars().count() > MAX_VALUE_CHARS {
        return Err(invalid(format!(
            "the reason is longer than {MAX_VALUE_CHARS} characters"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(invalid("the reason contains control characters".into()));
    }
    Ok(reason.to_string())
}

/// Validates an `x-keyfob-context` value.
pub fn validate_context(value: &str) -> Result<BTreeMap<String, Value>, CoreError> {
    if value.len() > MAX_CONTEXT_BYTES {
        return Err(invalid(format!(
            "the context is larger than {MAX_CONTEXT_BYTES} bytes"
        )));
    }
    let Flat(entries) = serde_json::from_str::<Flat>(value)
        .map_err(|e| invalid(format!("the context must be a flat JSON object ({e})")))?;
    if entries.len() > MAX_CONTEXT_KEYS {
        return Err(invalid(format!(
            "the context has more than {MAX_CONTEXT_KEYS} keys"
        )));
    }
    let mut map = BTreeMap::new();
    for (key, value) in entries {
        let chars = key.chars().count();
        if chars == 0 || chars > MAX_KEY_CHARS || key.chars().any(char::is_control) {
            return Err(invalid(format!(
                "context keys must be 1 to {MAX_KEY_CHARS} printable characters"
            )));
        }
        let length = match &value {
            Value::String(s) if s.chars().any(char::is_control) => {
                return Err(invalid(format!(
                    "the value of '{key}' contains control characters"
                )))
            }
            Value::String(s) => s.chars().count(),
            Value::Number(_) | Value::Bool(_) | Value::Null => value.to_string().chars().count(),
            Value::Array(_) | Value::Object(_) => {
                return Err(invalid(format!(
                    "the value of '{key}' must be a string, number, boolean or null"
                )))
            }
        };
        if length > MAX_VALUE_CHARS {
            return Err(invalid(format!(
                "the value of '{key}' is longer than {MAX_VALUE_CHARS} characters"
            )));
        }
        if map.insert(key.clone(), value).is_some() {
            return Err(invalid(format!("the key '{key}' appears more than once")));
        }
    }
    Ok(map)
}

/// A JSON object read as its entries in order, duplicates kept (serde_json's own map
/// would silently keep the last).
struct Flat(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Flat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FlatVisitor;
        impl<'de> Visitor<'de> for FlatVisitor {
            type Value = Flat;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Flat, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    if entries.len() == MAX_CONTEXT_KEYS + 1 {
                        break; // enough to refuse; the size cap bounds the rest
                    }
                    entries.push(entry);
                }
                while map.next_entry::<String, serde::de::IgnoredAny>()?.is_some() {}
                Ok(Flat(entries))
            }
        }
        d.deserialize_map(FlatVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ctx(value: &str) -> Result<BTreeMap<String, Value>, CoreError> {
        validate_context(value)
    }

    #[test]
    fn reads_both_headers_case_insensitively() {
        let note = read_note(&headers(&[
            ("content-type", "application/json"),
            ("X-Keyfob-Reason", "  summarise ticket #42 "),
            (
                "x-keyfob-context",
                r#"{"ticket":"42","user":7,"draft":false,"tag":null}"#,
            ),
        ]))
        .expect("valid");
        assert_eq!(note.reason.as_deref(), Some("summarise ticket #42"));
        let context = note.context.expect("context");
        assert_eq!(context["user"], Value::from(7));
        assert_eq!(context.len(), 4);
        assert_eq!(read_note(&[]), Ok(AppNote::default()));
        let twice = read_note(&headers(&[
            ("x-keyfob-reason", "a"),
            ("X-KEYFOB-REASON", "b"),
        ]));
        assert!(matches!(twice, Err(CoreError::InvalidContext(_))));
        assert_eq!(
            twice.map_err(|e| (e.code(), e.http_status())),
            Err(("INVALID_CONTEXT", 400))
        );
    }

    #[test]
    fn limits_are_inclusive_at_the_edge() {
        let key = |n: usize| "k".repeat(n);
        assert!(ctx(&format!(r#"{{"{}":1}}"#, key(64))).is_ok());
        assert!(ctx(&format!(r#"{{"{}":1}}"#, key(65))).is_err());
        // Characters, not bytes: 64 × "é" (128 bytes) is a valid key.
        assert!(ctx(&format!(r#"{{"{}":1}}"#, "é".repeat(64))).is_ok());
        let v = |n: usize| format!(r#"{{"k":"{}"}}"#, "v".repeat(n));
        assert!(ctx(&v(512)).is_ok());
        assert!(ctx(&v(513)).is_err());
        let keys = |n: usize| {
            let body: Vec<String> = (0..n).map(|i| format!(r#""k{i}":{i}"#)).collect();
            format!("{{{}}}", body.join(","))
        };
        assert!(ctx(&keys(20)).is_ok());
        assert!(ctx(&keys(21)).is_err());
        assert!(ctx(&keys(5000)).is_err());
        // 4096 bytes is allowed, 4097 is not: 7 keys of 60 characters with 500-character
        // values, then an eighth value that pads the header to exactly 4096 bytes.
        let mut exact = String::from("{");
        for i in 0..7 {
            exact.push_str(&format!(r#""{i:k>60}":"{}","#, "x".repeat(500)));
        }
        exact.push_str(&format!(r#""{:k>60}":""#, 7));
        let room = MAX_CONTEXT_BYTES - exact.len() - 2;
        assert!(room <= MAX_VALUE_CHARS);
        exact.push_str(&"y".repeat(room));
        exact.push_str("\"}");
        assert_eq!(exact.len(), MAX_CONTEXT_BYTES);
        assert_eq!(ctx(&exact).map(|m| m.len()), Ok(8));
        let over = format!("{}y\"}}", &exact[..exact.len() - 2]);
        assert_eq!(over.len(), MAX_CONTEXT_BYTES + 1);
        assert!(ctx(&over).is_err());
        assert!(is_keyfob_header("x-keyfob-é") && !is_keyfob_header("x-kéyfob-ab"));
    }

    #[test]
    fn shapes_and_characters_are_refused() {
        for bad in [
            "",
            "[]",
            "\"text\"",
            "{",
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"":1}"#,
            r#"{"a\u0007":1}"#,
            r#"{"a":"line\nbreak"}"#,
            r#"{"a":1} trailing"#,
        ] {
            assert!(
                matches!(ctx(bad), Err(CoreError::InvalidContext(_))),
                "{bad:?}"
            );
        }
        for bad in ["", "   ", "tab\there", &"r".repeat(513)] {
            assert!(validate_reason(bad).is_err(), "{bad:?}");
        }
        assert_eq!(validate_reason(&"r".repeat(512)).map(|r| r.len()), Ok(512));
        assert!(is_keyfob_header("X-Keyfob-Context") && !is_keyfob_header("x-keyfo"));
    }
}

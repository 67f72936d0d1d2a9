//! Path allow-list rules and their matcher.
//!
//! A rule is a pattern over `/`-separated segments:
//! - a literal segment matches itself exactly (case-sensitive);
//! - `*` matches one identifier segment (model, file, batch or deployment id);
//! - `*:verb` matches one segment `<id>:verb` (Gemini's `models/gemini-2.5-flash:generateContent`);
//! - `**`, only as the last segment, matches zero or more identifier segments.
//!
//! Identifier segments are restricted to a conservative character set and can never be
//! `.` or `..`. Independently of any rule, a path with an administrative segment
//! (`organization`, `admin`, `api_keys`, …) is refused: a backstop in case a wildcard
//! rule is ever written too broadly.
//!
//! A path may match more than one rule (`/v1/responses/input_tokens` and
//! `/v1/responses/**`; Gemini's `models/*` also matches `models/x:generateContent`):
//! the first rule in table order that admits the path (and method) decides how the call
//! is metered, so specific rules come before general ones.

use super::descriptor::{Dialect, MeterClass};

/// The HTTP methods a rule admits (a small bit set over GET, POST, DELETE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Methods(u8);

impl Methods {
    pub const GET: Methods = Methods(1);
    pub const POST: Methods = Methods(2);
    pub const DELETE: Methods = Methods(4);
    pub const GET_POST: Methods = Methods(1 | 2);
    pub const ALL: Methods = Methods(1 | 2 | 4);

    /// Whether `method` (upper case) is in the set.
    pub fn allows(self, method: &str) -> bool {
        let bit = match method {
            "GET" => 1,
            "POST" => 2,
            "DELETE" => 4,
            _ => return false,
        };
        self.0 & bit != 0
    }
}

/// One allow-list entry: a path pattern, the methods it admits, and how the calls it
/// admits are metered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PathRule {
    pub pattern: &'static str,
    pub methods: Methods,
    /// What a call through this rule bills.
    pub meter: MeterClass,
    /// The usage dialect of this rule's answers when it is not the provider's own
    /// (Cohere's OpenAI-compatibility endpoints).
    pub dialect: Option<Dialect>,
}

/// Shorthand for registry tables.
pub(crate) const fn rule(methods: Methods, pattern: &'static str, meter: MeterClass) -> PathRule {
    PathRule {
        pattern,
        methods,
        meter,
        dialect: None,
    }
}

impl PathRule {
    /// The same rule, answering in `dialect` rather than the provider's own.
    pub(crate) const fn answers_in(self, dialect: Dialect) -> PathRule {
        PathRule {
            dialect: Some(dialect),
            ..self
        }
    }
}

/// Segments that are never reachable on any provider (compared ASCII case-insensitively).
const DENIED_SEGMENTS: &[&str] = &[
    "admin",
    "admin_api_keys",
    "api-key",
    "api-keys",
    "api_keys",
    "apikeys",
    "audit_logs",
    "auth",
    "billing",
    "costs",
    "credits",
    "dashboard",
    "invites",
    "key",
    "keys",
    "members",
    "organization",
    "organizations",
    "projects",
    "service_accounts",
    "usage",
    "users",
    "workspaces",
];

/// The first administrative segment of `path`, if any.
pub(crate) fn denied_segment(path: &str) -> Option<&str> {
    path.split('/')
        .find(|seg| DENIED_SEGMENTS.iter().any(|d| d.eq_ignore_ascii_case(seg)))
}

impl PathRule {
    /// Whether `path` (canonical, starting with `/`) matches this rule's pattern.
    pub fn matches_path(&self, path: &str) -> bool {
        let (Some(pat), Some(path)) = (self.pattern.strip_prefix('/'), path.strip_prefix('/'))
        else {
            return false;
        };
        let mut want = pat.split('/').peekable();
        let mut have = path.split('/');
        while let Some(p) = want.next() {
            if p == "**" && want.peek().is_none() {
                return have.all(is_identifier);
            }
            let Some(seg) = have.next() else {
                return false;
            };
            if !segment_matches(p, seg) {
                return false;
            }
        }
        have.next().is_none()
    }
}

fn segment_matches(pattern: &str, seg: &str) -> bool {
    if pattern == "*" {
        return is_identifier(seg);
    }
    if let Some(verb) = pattern.strip_prefix("*:") {
        return match seg.rsplit_once(':') {
            Some((id, v)) => v == verb && !id.contains(':') && is_identifier(id),
            None => false,
        };
    }
    pattern == seg
}

/// An id segment: non-empty, not a dot segment, conservative characters only.
/// (Percent escapes were already limited by `url_safety`.)
fn is_identifier(seg: &str) -> bool {
    !seg.is_empty()
        && seg != "."
        && seg != ".."
        && seg.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'-' | b'_' | b'.' | b'~' | b':' | b'@' | b'+' | b'=' | b',' | b'%'
                )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(p: &'static str) -> PathRule {
        rule(Methods::ALL, p, MeterClass::Generate)
    }

    #[test]
    fn literal_rules_match_exactly() {
        assert!(r("/v1/messages").matches_path("/v1/messages"));
        assert!(!r("/v1/messages").matches_path("/v1/messages/"));
        assert!(!r("/v1/messages").matches_path("/v1/Messages"));
        assert!(!r("/v1/messages").matches_path("/v1/messages/x"));
        assert!(!r("/v1/messages").matches_path("v1/messages"));
    }

    #[test]
    fn star_matches_one_identifier() {
        let rule = r("/v1/models/*");
        assert!(rule.matches_path("/v1/models/gpt-4o"));
        assert!(rule.matches_path("/v1/models/ft:gpt-4o-mini:acme::abc123"));
        assert!(!rule.matches_path("/v1/models/"));
        assert!(!rule.matches_path("/v1/models/a/b"));
        assert!(!rule.matches_path("/v1/models/.."));
        assert!(!rule.matches_path("/v1/models/a;b"));
    }

    #[test]
    fn double_star_matches_zero_or_more_identifiers() {
        let rule = r("/v1/files/**");
        assert!(rule.matches_path("/v1/files"));
        assert!(rule.matches_path("/v1/files/file-abc"));
        assert!(rule.matches_path("/v1/files/file-abc/content"));
        assert!(!rule.matches_path("/v1/files/"));
        assert!(!rule.matches_path("/v1/files//x"));
        assert!(!rule.matches_path("/v1/filesx"));
    }

    #[test]
    fn verb_segments_need_the_exact_verb() {
        let rule = r("/v1beta/models/*:generateContent");
        assert!(rule.matches_path("/v1beta/models/gemini-2.5-flash:generateContent"));
        assert!(!rule.matches_path("/v1beta/models/gemini-2.5-flash:streamGenerateContent"));
        assert!(!rule.matches_path("/v1beta/models/:generateContent"));
        assert!(!rule.matches_path("/v1beta/models/a:b:generateContent"));
        assert!(!rule.matches_path("/v1beta/models/gemini-2.5-flash"));
    }

    #[test]
    fn methods_are_a_closed_set() {
        assert!(Methods::ALL.allows("DELETE"));
        assert!(!Methods::GET.allows("POST"));
        assert!(!Methods::ALL.allows("PUT"));
        assert!(!Methods::ALL.allows("get"));
    }

    #[test]
    fn administrative_segments_are_found_anywhere() {
        assert_eq!(
            denied_segment("/v1/organization/api_keys"),
            Some("organization")
        );
        assert_eq!(denied_segment("/v1/files/ADMIN"), Some("ADMIN"));
        assert_eq!(denied_segment("/api/v1/keys"), Some("keys"));
        assert_eq!(denied_segment("/v1/chat/completions"), None);
        assert_eq!(
            denied_segment("/v1beta/models/usage-x:generateContent"),
            None
        );
    }
}

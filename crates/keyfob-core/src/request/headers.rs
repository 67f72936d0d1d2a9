//! Which page headers reach the provider.
//!
//! Threat model: the page sets any header it likes. Only an allow-list is forwarded;
//! everything else is dropped silently (SDKs add telemetry headers that are harmless
//! to drop). Credential headers are never forwarded — the page's value is only its
//! session key — and the real key is appended by the plan, last. A header name or
//! value with a control character refuses the whole request: no browser produces one,
//! so it can only be an injection attempt.
//!
//! Deliberately not forwarded (those marked * are refused by name in [`NEVER_FORWARDED`],
//! whatever a provider's allow-list says):
//! - `openai-organization`*, `openai-project`*, `anthropic-workspace-id`*,
//!   `x-goog-user-project`*: they choose which organisation, project or workspace a key
//!   bills; a page must not switch the user's billing to another account the key can
//!   reach. `x-goog-quota-user`* charges another user's quota;
//! - `x-http-method-override`*, `x-http-method`*, `x-method-override`*: Google (and other
//!   frameworks) run the method they name instead of the one sent, so a POST checked
//!   against the path allow-list could run as a DELETE;
//! - `x-goog-fieldmask`* filters the answer (it can drop the usage report the meter
//!   reads); `x-goog-api-version`* switches the API version the rules were written for;
//! - `x-stainless-*`, `x-goog-api-client`, `user-agent`: SDK telemetry, never needed;
//! - `anthropic-dangerous-direct-browser-access`: Keyfob sets it itself for Anthropic.
//!
//! The other way, the provider's response headers reach the page except the ones in
//! [`HIDDEN_RESPONSE_HEADERS`]: the wire form, hop-by-hop headers, `set-cookie`, and the
//! headers that name the user's account (`openai-organization`, `openai-project`,
//! `anthropic-organization-id`, `anthropic-workspace-id`).

use crate::providers::{truncate_for_message, AuthStyle, Provider};
use crate::CoreError;

/// Forwarded for every provider.
pub(crate) const COMMON_HEADERS: &[&str] = &[
    "content-type",
    "accept",
    "accept-language",
    "idempotency-key",
];

/// Never forwarded, whatever a provider's allow-list says.
pub(crate) const NEVER_FORWARDED: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "cookie",
    "host",
    "origin",
    "referer",
    "anthropic-dangerous-direct-browser-access",
    "openai-organization",
    "openai-project",
    "anthropic-workspace-id",
    "x-goog-user-project",
    "x-goog-quota-user",
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
    "x-goog-fieldmask",
    "x-goog-api-version",
];
const NEVER_FORWARDED_PREFIXES: &[&str] = &["proxy-", "sec-", "x-keyfob-"];

/// Sent to Anthropic when the page sends no well-formed `anthropic-version`.
pub const ANTHROPIC_DEFAULT_VERSION: &str = "2023-06-01";

const MAX_HEADERS: usize = 100;
const MAX_VALUE_LEN: usize = 4096;

/// Filters the page's headers for `provider`. Output names are lower case; for a name
/// sent twice the first value wins. For Anthropic the version headers are added.
pub(crate) fn forwarded_headers(
    provider: &Provider,
    page: &[(String, String)],
) -> Result<Vec<(String, String)>, CoreError> {
    if page.len() > MAX_HEADERS {
        return Err(CoreError::BadRequest("too many request headers".into()));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    let mut anthropic_version = None;
    for (name, value) in page {
        check_header(name, value)?;
        let name = name.to_ascii_lowercase();
        let value = value.trim_matches([' ', '\t']);
        if name == "anthropic-version" {
            anthropic_version = anthropic_version.or(Some(value));
            continue;
        }
        if !is_forwarded(provider, &name) || out.iter().any(|(n, _)| *n == name) {
            continue;
        }
        if !value.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
            return Err(CoreError::BadRequest(format!(
                "header {name} has an invalid value"
            )));
        }
        out.push((name, value.to_string()));
    }
    if provider.auth == AuthStyle::Anthropic {
        let version = anthropic_version
            .filter(|v| is_date(v))
            .unwrap_or(ANTHROPIC_DEFAULT_VERSION);
        out.push(("anthropic-version".into(), version.into()));
        out.push((
            "anthropic-dangerous-direct-browser-access".into(),
            "true".into(),
        ));
    }
    Ok(out)
}

/// Whether a lower-case header name is forwarded to `provider`.
pub(crate) fn is_forwarded(provider: &Provider, name: &str) -> bool {
    !is_never_forwarded(name)
        && (COMMON_HEADERS.contains(&name) || provider.extra_headers.contains(&name))
}

fn is_never_forwarded(name: &str) -> bool {
    NEVER_FORWARDED.contains(&name) || NEVER_FORWARDED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Names must be RFC 9110 tokens; values must hold no control character but tab.
fn check_header(name: &str, value: &str) -> Result<(), CoreError> {
    let tchar = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || name.len() > 256 || !name.bytes().all(tchar) {
        return Err(CoreError::BadRequest(
            "a request header name is invalid".into(),
        ));
    }
    let control = |c: char| (c.is_ascii_control() && c != '\t') || c == '\u{7f}';
    if value.len() > MAX_VALUE_LEN || value.chars().any(control) {
        return Err(CoreError::BadRequest(format!(
            "header {} has an invalid value",
            truncate_for_message(name)
        )));
    }
    Ok(())
}

/// `YYYY-MM-DD` with a plausible month and day.
fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    // Indexing below is in bounds: the length is checked to be 10 before any index.
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    if b.len() != 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !digits(0..4)
        || !digits(5..7)
        || !digits(8..10)
    {
        return false;
    }
    let two = |i: usize| (b[i] - b'0') * 10 + (b[i + 1] - b'0');
    (1..=12).contains(&two(5)) && (1..=31).contains(&two(8))
}

/// Response headers the page never gets, by why:
/// - `content-encoding`/`content-length` describe the wire form the browser already
///   decoded (they would lie about the body passed on);
/// - `connection`, `keep-alive`, `transfer-encoding` are hop-by-hop: they belong to the
///   worker's connection;
/// - `set-cookie` is the provider's cookie, never the page's;
/// - `openai-organization`, `openai-project` (OpenAI's API reference, "Debugging
///   requests"), `anthropic-organization-id` (Anthropic's API overview, "Response
///   headers") and `anthropic-workspace-id` name the user's account, organisation,
///   project or workspace the key belongs to. A page is told it may call a provider,
///   never whose account pays for it: with these it could link the user across sites
///   or learn their employer.
///
/// Everything else passes, in particular what SDKs read: `retry-after`,
/// `retry-after-ms`, `x-should-retry`, `x-request-id`, `request-id`,
/// `openai-processing-ms`, `openai-version` and the rate-limit headers
/// (`x-ratelimit-*`, `anthropic-ratelimit-*`).
const HIDDEN_RESPONSE_HEADERS: &[&str] = &[
    "content-encoding",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "set-cookie",
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
    "anthropic-workspace-id",
];

/// Whether the page may see the provider's response header `name` (any case): every
/// header but [`HIDDEN_RESPONSE_HEADERS`].
pub fn is_page_visible_response_header(name: &str) -> bool {
    !HIDDEN_RESPONSE_HEADERS
        .iter()
        .any(|hidden| hidden.eq_ignore_ascii_case(name.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{all, find};

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn forwarded(id: &str, pairs: &[(&str, &str)]) -> Result<Vec<(String, String)>, CoreError> {
        forwarded_headers(find(id).expect("registered"), &h(pairs))
    }

    #[test]
    fn no_provider_allow_list_names_a_forbidden_header() {
        for p in all() {
            for name in COMMON_HEADERS.iter().chain(p.extra_headers) {
                assert!(!is_never_forwarded(name), "{} forwards {name}", p.id);
                assert_eq!(*name, name.to_ascii_lowercase());
            }
        }
    }

    #[test]
    fn credentials_cookies_and_telemetry_are_dropped() {
        let out = forwarded(
            "openai",
            &[
                ("Authorization", "Bearer kfs_session"),
                ("X-Api-Key", "kfs_session"),
                ("Cookie", "a=b"),
                ("Origin", "https://evil.test"),
                ("Sec-Fetch-Site", "cross-site"),
                ("X-Keyfob-Provider", "anthropic"),
                ("Proxy-Authorization", "x"),
                ("X-Stainless-Retry-Count", "0"),
                ("OpenAI-Organization", "org-other"),
                ("OpenAI-Project", "proj_other"),
                ("Content-Type", "application/json"),
                ("OpenAI-Beta", "assistants=v2"),
            ],
        )
        .expect("valid headers");
        assert_eq!(
            out,
            h(&[
                ("content-type", "application/json"),
                ("openai-beta", "assistants=v2")
            ])
        );
    }

    #[test]
    fn provider_specific_headers_stay_with_their_provider() {
        let out = forwarded("openai", &[("anthropic-beta", "files-api-2025-04-14")])
            .expect("valid headers");
        assert!(out.is_empty(), "{out:?}");
        let out = forwarded(
            "gemini",
            &[
                ("X-Goog-Upload-Protocol", "resumable"),
                ("x-goog-api-client", "genai-js"),
            ],
        )
        .expect("valid headers");
        assert_eq!(out, h(&[("x-goog-upload-protocol", "resumable")]));
    }

    #[test]
    fn method_overrides_and_account_switches_reach_no_provider() {
        let page = [
            ("X-HTTP-Method-Override", "DELETE"),
            ("X-HTTP-Method", "DELETE"),
            ("X-Method-Override", "DELETE"),
            ("X-Goog-User-Project", "someone-elses"),
            ("X-Goog-Quota-User", "u"),
            ("X-Goog-FieldMask", "candidates"),
            ("X-Goog-Api-Version", "v9"),
            ("OpenAI-Organization", "org-other"),
            ("OpenAI-Project", "proj_other"),
            ("Anthropic-Workspace-Id", "wrkspc_other"),
        ];
        for p in all() {
            let out = forwarded_headers(p, &h(&page)).expect("valid headers");
            let names: Vec<&str> = out.iter().map(|(n, _)| n.as_str()).collect();
            assert!(
                names
                    .iter()
                    .all(|n| n.starts_with("anthropic-") && *n != "anthropic-workspace-id"),
                "{}: {names:?}",
                p.id
            );
        }
        for (name, _) in page {
            assert!(is_never_forwarded(&name.to_ascii_lowercase()), "{name}");
        }
    }

    #[test]
    fn anthropic_gets_a_version_and_the_browser_access_header() {
        let out = forwarded(
            "anthropic",
            &[
                ("anthropic-version", "2026-10-21"),
                ("anthropic-dangerous-direct-browser-access", "false"),
            ],
        )
        .expect("valid headers");
        assert_eq!(
            out,
            h(&[
                ("anthropic-version", "2026-10-21"),
                ("anthropic-dangerous-direct-browser-access", "true")
            ])
        );
        for bad in [
            "2023-6-01",
            "2023-13-01",
            "2023-06-00",
            "latest",
            "2023-06-01, 2024-01-01",
        ] {
            let out = forwarded("anthropic", &[("anthropic-version", bad)]).expect("valid headers");
            assert_eq!(
                out[0],
                ("anthropic-version".into(), ANTHROPIC_DEFAULT_VERSION.into()),
                "{bad}"
            );
        }
        let out = forwarded("anthropic", &[]).expect("valid headers");
        assert_eq!(out[0].1, ANTHROPIC_DEFAULT_VERSION);
    }

    #[test]
    fn control_characters_refuse_the_request() {
        for (n, v) in [
            ("content-type", "application/json\r\nx-api-key: sk-evil"),
            ("x-dropped-anyway", "a\nb"),
            ("accept", "a\0b"),
            ("content-type\r\nx-api-key", "x"),
            ("bad name", "x"),
            ("", "x"),
        ] {
            let res = forwarded("openai", &[(n, v)]);
            assert!(matches!(res, Err(CoreError::BadRequest(_))), "{n:?}: {v:?}");
        }
    }

    #[test]
    fn first_value_wins_and_whitespace_is_trimmed() {
        let out = forwarded(
            "openai",
            &[
                ("Accept", " text/event-stream "),
                ("accept", "application/json"),
            ],
        )
        .expect("valid headers");
        assert_eq!(out, h(&[("accept", "text/event-stream")]));
    }

    #[test]
    fn too_many_headers_are_refused() {
        let many: Vec<(String, String)> = (0..=MAX_HEADERS)
            .map(|i| (format!("x-h{i}"), "v".into()))
            .collect();
        let res = forwarded_headers(find("openai").expect("registered"), &many);
        assert!(matches!(res, Err(CoreError::BadRequest(_))));
    }

    #[test]
    fn the_page_sees_the_providers_headers_but_not_the_wire_or_cookies() {
        for visible in [
            "content-type",
            "x-request-id",
            "retry-after",
            "retry-after-ms",
            "request-id",
            "x-should-retry",
            "openai-processing-ms",
            "openai-version",
            "x-ratelimit-remaining-requests",
            "anthropic-ratelimit-requests-remaining",
        ] {
            assert!(is_page_visible_response_header(visible), "{visible}");
        }
        for hidden in [
            "content-length",
            "Content-Encoding",
            "set-cookie",
            "Transfer-Encoding",
        ] {
            assert!(!is_page_visible_response_header(hidden), "{hidden}");
        }
    }

    #[test]
    fn headers_that_name_the_users_account_never_reach_the_page() {
        for hidden in [
            "openai-organization",
            "OpenAI-Organization",
            "openai-project",
            "OPENAI-PROJECT",
            "anthropic-organization-id",
            "Anthropic-Organization-Id",
            "anthropic-workspace-id",
            " openai-organization",
        ] {
            assert!(!is_page_visible_response_header(hidden), "{hidden:?}");
        }
    }
}

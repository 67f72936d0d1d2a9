//! Checks on the *raw* URL text, before and after parsing.
//!
//! Threat model: the page chooses the URL string. Parsers disagree about odd input
//! (backslashes, tabs inside the URL, `%2e%2e`, `..;/`, overlong UTF-8 escapes,
//! empty userinfo), so the raw text is held to a strict, boring shape first, and after
//! parsing the normalised path must equal the raw path byte for byte. Anything a
//! parser would have rewritten is refused instead of being silently "fixed".
//!
//! Every function returns a human reason; callers wrap it in the right error variant.
//!
//! The query is the page's too, and some providers read more in it than the endpoint's
//! own parameters. Google's API platform reads *system parameters* in every request,
//! under a plain name or a `$` name (`key`, `$key`, `%24key`); some of them change who
//! pays, who is authenticated, which method runs or how the body and the answer are
//! read. [`check_query`] refuses those, for every provider (see [`SYSTEM_PARAMS`]).

use url::{Host, Url};

/// URLs longer than this are refused outright.
pub(crate) const MAX_URL_LEN: usize = 8192;

/// Query parameter names that carry credentials (compared without a leading `$`). Keys
/// travel only in headers, and a page's query must never smuggle its session key, a key
/// of its own or an OAuth token upstream: Google reads `key`/`$key` as the API key and
/// `access_token`/`oauth_token` as OAuth credentials; `passwd`/`password` are reserved
/// by Google so that no password is ever put in a URL.
const CREDENTIAL_PARAMS: &[&str] = &[
    "key",
    "api_key",
    "api-key",
    "apikey",
    "access_token",
    "oauth_token",
    "passwd",
    "password",
];

/// Google system parameters refused under their plain and their `$` name, and why
/// (Google Cloud, "System parameters"):
/// - `userProject` names the Cloud project billed and charged quota for the call: a
///   page could bill any project the user's key may use;
/// - `quotaUser` charges the call to another per-user quota;
/// - `httpMethod` (like the `X-HTTP-Method-Override` header, which is never forwarded)
///   makes Google run another method than the one sent: a POST Keyfob checked could
///   run as a DELETE;
/// - `ct` (`$ct`) overrides the content type Google parses the body as, so the body
///   Keyfob read (its model, its size) would not be the one Google reads;
/// - `callback` wraps the answer in a JSONP script, and `fields` filters the answer
///   (`fields=candidates` drops `usageMetadata`): either hides the usage report the
///   meter counts.
///
/// Kept: `alt` / `$alt` with `json`, `sse` (needed to stream) or `media`, `prettyPrint`
/// and `$.xgafv`: they shape the answer without hiding its usage. Any other `$` name is
/// a system parameter too (the `$` marks them: `$apiVersion`, `$unique`, …) and is
/// refused, so one Google adds later is refused until it is judged.
const SYSTEM_PARAMS: &[(&str, &str)] = &[
    (
        "userproject",
        "it bills the call to another Google Cloud project",
    ),
    ("quotauser", "it charges the call to another user's quota"),
    (
        "httpmethod",
        "it changes the HTTP method the provider runs (a POST could run as a DELETE)",
    ),
    (
        "ct",
        "it changes the content type the provider reads the body as",
    ),
    (
        "callback",
        "it wraps the answer in a script (JSONP) whose usage cannot be read",
    ),
    ("fields", "it can remove the usage report from the answer"),
];

/// `$` names that only shape the answer (compared without the `$`, lower case).
const SHAPING_PARAMS: &[&str] = &["alt", "prettyprint", ".xgafv"];

/// The answer formats `alt` may ask for: ones the meter reads, and raw file media.
const ALT_VALUES: &[&str] = &["json", "sse", "media"];

/// Parses `raw` after checking its text: one of `schemes` followed by `://`, printable
/// ASCII only, no backslash, no userinfo (not even an empty `@`), and a canonical path.
/// The fragment, if any, is removed from the returned URL.
pub(crate) fn parse_strict(raw: &str, schemes: &[&str]) -> Result<Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err("the URL is too long".into());
    }
    if let Some(bad) = raw.bytes().find(|b| !b.is_ascii_graphic()) {
        return Err(if bad.is_ascii() {
            "the URL contains a space or control character".into()
        } else {
            "the URL contains non-ASCII characters (use the encoded form)".into()
        });
    }
    if raw.contains('\\') {
        return Err("the URL contains a backslash".into());
    }
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| "the URL must be absolute (scheme://host/…)".to_string())?;
    if !schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(format!("only {} URLs are allowed", schemes.join(" or ")));
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, after) = rest.split_at(authority_end);
    if authority.contains('@') {
        return Err("a user name or password in the URL is not allowed".into());
    }
    check_authority_chars(authority)?;
    let raw_path = &after[..after.find(['?', '#']).unwrap_or(after.len())];
    check_raw_path(raw_path)?;
    let mut url = Url::parse(raw).map_err(|e| format!("the URL is not valid ({e})"))?;
    let expected = if raw_path.is_empty() { "/" } else { raw_path };
    if url.path() != expected || url.cannot_be_a_base() {
        return Err("the URL path is not in canonical form".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a user name or password in the URL is not allowed".into());
    }
    url.set_fragment(None);
    Ok(url)
}

/// Refuses an empty authority, and any character a host name, IP literal or port never
/// needs. Percent-escapes in the host are refused before the parser sees them: they
/// decode to non-ASCII text that IDNA would map (and that trips a debug assertion in
/// idna_adapter 1.0 for a mixed-case host).
pub(crate) fn check_authority_chars(authority: &str) -> Result<(), String> {
    if authority.is_empty() {
        return Err("the URL has no host".into());
    }
    let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | ':' | '[' | ']');
    if let Some(bad) = authority.chars().find(|c| !host_char(*c)) {
        return Err(format!("the character '{bad}' is not allowed in the host"));
    }
    Ok(())
}

/// The raw authority text of an absolute URL (between `://` and the path, query or
/// fragment), exactly as the page wrote it.
pub(crate) fn raw_authority(raw: &str) -> &str {
    let rest = raw.split_once("://").map_or("", |(_, rest)| rest);
    &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())]
}

/// Refuses traversal and encoding tricks in the raw path text.
pub(crate) fn check_raw_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Ok(());
    }
    if !path.starts_with('/') {
        return Err("the path must start with /".into());
    }
    if path.contains("//") {
        return Err("double slashes in the path are not allowed".into());
    }
    if path.contains("..") {
        return Err("'..' in the path is not allowed".into());
    }
    if path.contains(';') {
        return Err("';' in the path is not allowed".into());
    }
    if path.split('/').any(|seg| seg == ".") {
        return Err("'.' segments in the path are not allowed".into());
    }
    let bytes = path.as_bytes();
    for (i, _) in path.match_indices('%') {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok());
        let decoded = hex.and_then(|h| u8::from_str_radix(h, 16).ok());
        let Some(b) = decoded else {
            return Err("a malformed %-escape in the path is not allowed".into());
        };
        let dangerous = !(0x20..0x7f).contains(&b)
            || matches!(b, b'.' | b'/' | b'\\' | b'%' | b';' | b'?' | b'#');
        if dangerous {
            return Err(format!(
                "the encoded character %{b:02X} is not allowed in the path"
            ));
        }
    }
    Ok(())
}

/// Refuses credential-carrying query parameters and the Google system parameters that
/// change billing, credentials, the method or how the body and answer are read
/// ([`SYSTEM_PARAMS`]). Names are compared after form decoding (`%24key` is `$key`),
/// trimmed, in any case. A name that still holds a `%` or a control character after
/// decoding is refused, and so is a `;` anywhere in the query (some servers split
/// parameters on it, so `alt=sse;$key=…` could be two).
pub(crate) fn check_query(url: &Url) -> Result<(), String> {
    if url.query().is_some_and(|q| q.contains(';')) {
        return Err("';' in the query is not allowed".into());
    }
    for (name, value) in url.query_pairs() {
        check_query_param(name.trim(), value.trim())?;
    }
    Ok(())
}

fn check_query_param(name: &str, value: &str) -> Result<(), String> {
    let shown = super::truncate_for_message(name);
    if name.contains('%') || name.chars().any(char::is_control) {
        return Err(format!(
            "the query parameter name '{shown}' is encoded twice or malformed"
        ));
    }
    let lower = name.to_ascii_lowercase();
    let (dollar, bare) = match lower.strip_prefix('$') {
        Some(bare) => (true, bare),
        None => (false, lower.as_str()),
    };
    if CREDENTIAL_PARAMS.contains(&bare) {
        return Err(format!(
            "credentials in the query ('{shown}=') are not allowed; the key is sent as a header"
        ));
    }
    if let Some((_, why)) = SYSTEM_PARAMS.iter().find(|(n, _)| *n == bare) {
        return Err(format!(
            "the query parameter '{shown}' is not allowed: {why}"
        ));
    }
    if bare == "alt" && !ALT_VALUES.contains(&value.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "'{shown}={}' is not allowed: only json, sse or media answers can be metered",
            super::truncate_for_message(value)
        ));
    }
    if dollar && !SHAPING_PARAMS.contains(&bare) {
        return Err(format!(
            "the system parameter '{shown}' is not allowed (only $alt, $prettyPrint and $.xgafv are)"
        ));
    }
    Ok(())
}

/// Loopback hosts: `localhost`, 127.0.0.0/8 and `[::1]`.
pub(crate) fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(a) => a.is_loopback(),
        Host::Ipv6(a) => *a == std::net::Ipv6Addr::LOCALHOST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn https(raw: &str) -> Result<String, String> {
        parse_strict(raw, &["https"]).map(|u| u.to_string())
    }

    #[test]
    fn plain_urls_parse_and_lose_their_fragment() {
        assert_eq!(
            https("https://api.openai.com/v1/models?limit=2#frag").as_deref(),
            Ok("https://api.openai.com/v1/models?limit=2")
        );
        assert_eq!(
            https("HTTPS://API.OPENAI.COM/v1").as_deref(),
            Ok("https://api.openai.com/v1")
        );
    }

    #[test]
    fn raw_text_tricks_are_refused() {
        for raw in [
            "https://api.openai.com/v1/mo\tdels",
            "https://api.openai.com/v1/models\n",
            " https://api.openai.com/v1/models",
            "https://api.openai.com\\@evil.test/",
            "https:\\\\evil.test/",
            "https:api.openai.com/v1/models",
            "https://@api.openai.com/v1/models",
            "https://u:p@api.openai.com/v1/models",
            "https://аpi.openai.com/v1/models",
            "http://api.openai.com/v1/models",
            "//api.openai.com/v1/models",
            "https:///v1/models",
        ] {
            assert!(https(raw).is_err(), "{raw:?} must be refused");
        }
    }

    #[test]
    fn path_tricks_are_refused() {
        for path in [
            "/v1/../v1/organization",
            "/v1/%2e%2e/organization",
            "/v1/%2E/x",
            "/v1/.%2e/x",
            "/v1/a%2fb",
            "/v1/a%5cb",
            "/v1/%252e%252e/x",
            "/v1/%c0%ae%c0%ae/x",
            "/v1/a%00",
            "/v1/a%zz",
            "/v1/a%2",
            "/v1/a%+f",
            "/v1//x",
            "/v1/./x",
            "/v1/..;/x",
            "/v1/x;y",
        ] {
            assert!(check_raw_path(path).is_err(), "{path} must be refused");
            assert!(
                https(&format!("https://api.openai.com{path}")).is_err(),
                "{path}"
            );
        }
        assert!(check_raw_path("/v1/models/ft%3Agpt-4o").is_ok());
    }

    #[test]
    fn paths_a_parser_would_rewrite_are_refused() {
        assert!(https("https://api.openai.com/v1/{x}").is_err());
        assert!(https("https://api.openai.com/v1/\"x\"").is_err());
        assert!(https("https://api.openai.com/v1/a|b").is_ok());
    }

    #[test]
    fn credential_query_parameters_are_refused_in_any_spelling() {
        for q in [
            "key=abc",
            "alt=sse&KEY=abc",
            "k%65y=abc",
            "api_key=x",
            "access_token=x",
            "key",
            "$key=abc",
            "%24key=abc",
            "%24KEY=abc",
            "+%24key+=abc",
            "%20key%09=abc",
            "oauth_token=x",
            "$oauth_token=x",
            "$access_token=x",
            "password=x",
            "passwd=x",
        ] {
            let url = Url::parse(&format!("https://h.test/?{q}")).expect("valid");
            let err = check_query(&url).expect_err(q);
            assert!(err.starts_with("credentials in the query"), "{q}: {err}");
        }
        let url = Url::parse("https://h.test/?alt=sse&upload_id=1&keys_only=1").expect("valid");
        assert!(check_query(&url).is_ok());
    }

    #[test]
    fn google_system_parameters_that_change_billing_method_or_parsing_are_refused() {
        for (q, says) in [
            ("$userProject=p", "another Google Cloud project"),
            ("userProject=p", "another Google Cloud project"),
            ("%24USERPROJECT=p", "another Google Cloud project"),
            ("quotaUser=u", "quota"),
            ("$quotaUser=u", "quota"),
            ("$httpMethod=DELETE", "a POST could run as a DELETE"),
            ("%24httpmethod=DELETE", "a POST could run as a DELETE"),
            ("$ct=text/plain", "content type"),
            ("$callback=f", "JSONP"),
            ("callback=f", "JSONP"),
            ("$fields=candidates", "usage report"),
            ("fields=candidates", "usage report"),
            ("alt=proto", "only json, sse or media"),
            ("$alt=proto", "only json, sse or media"),
            ("$apiVersion=v9", "system parameter"),
            ("$unique=1", "system parameter"),
            ("%2524key=abc", "encoded twice"),
            ("k%00ey=abc", "malformed"),
            ("alt=sse;$key=abc", "';'"),
        ] {
            let url = Url::parse(&format!("https://h.test/v1beta/x?{q}")).expect("valid");
            let err = check_query(&url).expect_err(q);
            assert!(err.contains(says), "{q}: {err}");
        }
    }

    #[test]
    fn response_shaping_parameters_pass() {
        for q in [
            "alt=sse",
            "alt=SSE",
            "$alt=sse",
            "%24alt=json",
            "alt=media",
            "prettyPrint=false",
            "$prettyPrint=false",
            "$.xgafv=2",
            "api-version=2024-10-21",
            "upload_id=abc&upload_protocol=resumable",
            "limit=20&after=file-1&order=desc",
            "pageSize=50&pageToken=t",
        ] {
            let url = Url::parse(&format!("https://h.test/v1beta/x?{q}")).expect("valid");
            assert_eq!(check_query(&url), Ok(()), "{q}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for (raw, want) in [
            ("http://localhost/", true),
            ("http://127.0.0.1/", true),
            ("http://127.9.9.9/", true),
            ("http://[::1]/", true),
            ("http://[::ffff:127.0.0.1]/", false),
            ("http://localhost.evil.test/", false),
            ("http://10.0.0.1/", false),
        ] {
            let url = Url::parse(raw).expect("valid");
            assert_eq!(url.host().map(|h| is_loopback(&h)), Some(want), "{raw}");
        }
    }
}

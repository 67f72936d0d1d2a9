//! Transport hygiene, decided before anything reaches the extension.
//!
//! Threat model: the listener is on 127.0.0.1, but a web page in any browser on this
//! machine can still aim requests at it. A page's request always carries `Origin`
//! (refused outright), and a DNS-rebinding page reaches us under its own host name
//! (refused unless `Host` is a loopback literal or `localhost`). The host checks only that
//! a token is *present*: whether it is valid is the extension's decision.

use crate::error::KeyfobError;

/// Where a request goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    /// `/_keyfob/{cmd}`: a CLI command.
    Command(String),
    /// `/{provider}/{rest}`: `path` is `/{rest}` with its query.
    Provider { provider: String, path: String },
}

/// Refuses browser pages (`Origin`) and foreign host names (`Host`).
pub fn check_caller(headers: &[(String, String)]) -> Result<(), KeyfobError> {
    if header(headers, "origin").is_some() {
        return Err(KeyfobError::http(
            403,
            "BRIDGE_ORIGIN_REFUSED",
            "requests from web pages are refused: the bridge serves local programs only",
        ));
    }
    let mut hosts = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("host"));
    match (hosts.next(), hosts.next()) {
        (Some((_, host)), None) if host_allowed(host) => Ok(()),
        _ => Err(KeyfobError::http(
            403,
            "BRIDGE_HOST_REFUSED",
            "the Host header must be 127.0.0.1, localhost or [::1]",
        )),
    }
}

/// `127.0.0.1`, `localhost` or `[::1]`, each with or without `:port`.
pub fn host_allowed(host: &str) -> bool {
    let host = host.trim();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if is_port(port) => name,
        _ => host,
    };
    name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost") || name == "[::1]"
}

fn is_port(text: &str) -> bool {
    (1..=5).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u16>().is_ok()
}

/// Parses an origin-form request target.
pub fn route(target: &str) -> Result<Route, KeyfobError> {
    let unknown = || {
        KeyfobError::http(
            404,
            "BRIDGE_UNKNOWN_PATH",
            "use /{provider}/… for provider calls or /_keyfob/{command}",
        )
    };
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let rest = path.strip_prefix('/').ok_or_else(unknown)?;
    let (first, tail) = rest.split_once('/').ok_or_else(unknown)?;
    if first == "_keyfob" {
        return if is_id(tail) {
            Ok(Route::Command(tail.to_string()))
        } else {
            Err(unknown())
        };
    }
    if !is_id(first) {
        return Err(unknown());
    }
    let mut path = format!("/{tail}");
    if let Some(query) = query {
        path.push('?');
        path.push_str(query);
    }
    Ok(Route::Provider {
        provider: first.to_string(),
        path,
    })
}

/// `[a-z0-9_]{1,32}`: provider ids and command names.
pub fn is_id(text: &str) -> bool {
    (1..=32).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Whether the client presented a token in any of the usual places.
pub fn has_token(headers: &[(String, String)], target: &str) -> bool {
    let in_header = bearer(headers).is_some()
        || ["x-api-key", "x-goog-api-key", "api-key"]
            .iter()
            .any(|name| header(headers, name).is_some_and(|v| !v.trim().is_empty()));
    let in_query = target.split_once('?').is_some_and(|(_, query)| {
        query
            .split('&')
            .any(|pair| pair.strip_prefix("key=").is_some_and(|v| !v.is_empty()))
    });
    in_header || in_query
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &[(String, String)]) -> Option<String> {
    let value = header(headers, "authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_string())
}

/// The first header with this name (names compare case-insensitively).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn loopback_hosts_pass_with_or_without_a_port() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:8790",
            "localhost",
            "LocalHost:1",
            "[::1]",
            "[::1]:8790",
        ] {
            assert!(host_allowed(host), "{host}");
            assert!(check_caller(&headers(&[("Host", host)])).is_ok(), "{host}");
        }
    }

    #[test]
    fn fail_foreign_hosts_are_refused() {
        for host in [
            "evil.test",
            "evil.test:8790",
            "localhost.evil.test",
            "127.0.0.1.nip.io",
            "127.0.0.2",
            "::1",
            "[::2]",
            "127.0.0.1:99999",
            "127.0.0.1:",
            "127.0.0.1:80x",
            "",
        ] {
            assert!(!host_allowed(host), "{host}");
        }
        let e = check_caller(&headers(&[("host", "evil.test")])).unwrap_err();
        assert_eq!(e.code(), "BRIDGE_HOST_REFUSED");
        let missing = check_caller(&[]).unwrap_err();
        assert_eq!(missing.code(), "BRIDGE_HOST_REFUSED");
        let twice = headers(&[("host", "127.0.0.1"), ("host", "evil.test")]);
        assert_eq!(
            check_caller(&twice).unwrap_err().code(),
            "BRIDGE_HOST_REFUSED"
        );
    }

    #[test]
    fn fail_any_origin_is_refused_even_null_or_loopback() {
        for origin in ["https://evil.test", "null", "http://127.0.0.1:8790"] {
            let e =
                check_caller(&headers(&[("host", "127.0.0.1"), ("Origin", origin)])).unwrap_err();
            assert_eq!(e.code(), "BRIDGE_ORIGIN_REFUSED");
            assert!(matches!(e, KeyfobError::Http { status: 403, .. }));
        }
    }

    #[test]
    fn provider_paths_keep_their_rest_and_query() {
        assert_eq!(
            route("/gemini/v1beta/models/x:streamGenerateContent?alt=sse").unwrap(),
            Route::Provider {
                provider: "gemini".into(),
                path: "/v1beta/models/x:streamGenerateContent?alt=sse".into()
            }
        );
        assert_eq!(
            route("/openai/").unwrap(),
            Route::Provider {
                provider: "openai".into(),
                path: "/".into()
            }
        );
        assert_eq!(
            route("/_keyfob/status?verbose=1").unwrap(),
            Route::Command("status".into())
        );
    }

    #[test]
    fn fail_unknown_paths_are_404() {
        let long = format!("/{}/v1", "a".repeat(33));
        for target in [
            "/",
            "/openai",
            "/OpenAI/v1/models",
            "/open-ai/v1",
            "/_keyfob/",
            "/_keyfob/a/b",
            "/_keyfob/Status",
            "http://127.0.0.1/openai/v1",
            "*",
            &long,
        ] {
            let e = route(target).unwrap_err();
            assert_eq!(e.code(), "BRIDGE_UNKNOWN_PATH", "{target}");
        }
        assert!(route(&format!("/{}/v1", "a".repeat(32))).is_ok());
    }

    #[test]
    fn a_token_is_found_in_every_usual_place() {
        let cases = [
            ("authorization", "Bearer kf-agent-x"),
            ("Authorization", "bearer kf-agent-x"),
            ("x-api-key", "kf-agent-x"),
            ("X-Goog-Api-Key", "kf-agent-x"),
            ("api-key", "kf-agent-x"),
        ];
        for (name, value) in cases {
            assert!(
                has_token(&headers(&[(name, value)]), "/v1/models"),
                "{name}"
            );
        }
        assert!(has_token(&[], "/v1beta/models?alt=sse&key=kf-agent-x"));
        assert!(has_token(&[], "/v1beta/models?key=kf"));
    }

    #[test]
    fn fail_no_token_or_an_empty_one_is_missing() {
        assert!(!has_token(&[], "/v1/models"));
        assert!(!has_token(&headers(&[("authorization", "Bearer ")]), "/"));
        assert!(!has_token(&headers(&[("authorization", "Basic abc")]), "/"));
        assert!(!has_token(&headers(&[("x-api-key", "  ")]), "/"));
        assert!(!has_token(&[], "/v1?key="));
        assert!(!has_token(&[], "/v1?apikey=x&monkey=y"));
    }

    #[test]
    fn the_bearer_token_is_extracted_for_commands() {
        let h = headers(&[("Authorization", "Bearer  kf-agent-1-abc ")]);
        assert_eq!(bearer(&h).as_deref(), Some("kf-agent-1-abc"));
        assert_eq!(bearer(&headers(&[("x-api-key", "kf")])), None);
    }
}

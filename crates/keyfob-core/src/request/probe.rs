//! The "test key" action: one cheap, read-only, authenticated call per provider (list
//! the models: the row's [`KeyTest`]), planned through the same [`plan`] as every page request, so the key
//! goes only where that provider's rules allow; and the verdict read from the answer.
//!
//! Providers with no free authenticated read (Perplexity has no model list; OpenRouter's
//! is public and would say nothing about the key) have no test: spending the user's
//! credit to test a key is not "cheap".

use serde::Serialize;

use super::{plan, PageRequest, UpstreamPlan};
use crate::providers::{Endpoint, KeyTest, Provider};
use crate::CoreError;

/// Largest answer body the verdict reads to count models; bigger ones are not counted.
pub const MAX_PROBE_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The read-only path each provider's test calls, if it has one (its row's
/// [`KeyTest`]).
pub fn key_test_path(provider: &Provider) -> Option<&'static str> {
    match provider.key_test {
        KeyTest::ListModels(path) => Some(path),
        KeyTest::None { .. } => None,
    }
}

/// Plans the test call for a credential of `provider` (with its stored base URL).
/// `Unavailable` when the provider has no free test.
pub fn plan_key_test(
    provider: &Provider,
    base_url: Option<&str>,
) -> Result<UpstreamPlan, CoreError> {
    let path = key_test_path(provider)
        .ok_or_else(|| CoreError::Unavailable(format!("a free key test for {}", provider.name)))?;
    // For per-credential providers the page host is ignored (the stored base URL wins);
    // any well-formed https URL carries the path.
    let url = match provider.endpoint {
        Endpoint::Fixed { origin } => format!("{origin}{path}"),
        Endpoint::CredentialBaseUrl { .. } => format!("https://keyfob.invalid{path}"),
    };
    let headers = [("accept".to_string(), "application/json".to_string())];
    plan(
        provider,
        base_url,
        &PageRequest {
            method: "GET",
            url: &url,
            headers: &headers,
        },
    )
}

/// How a key test went, in words for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyTestVerdict {
    /// 2xx: the provider accepted the key.
    Works,
    /// 401 or 403: the key is wrong, revoked or lacks permission.
    Refused,
    /// 429: the key was recognised but is rate-limited or out of quota.
    Limited,
    /// Anything else: the provider or the base URL has a problem.
    Problem,
    /// No answer: offline, a wrong base URL, a refused redirect, or a timeout.
    Unreachable,
}

/// The verdict and a sentence to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyTestReport {
    pub verdict: KeyTestVerdict,
    pub status: u16,
    pub message: String,
    /// How many models the key can see, when the answer lists them.
    pub models: Option<usize>,
}

/// Reads the provider's answer to the test call (`body` may be cut short or empty).
pub fn judge_key_test(provider: &Provider, status: u16, body: &str) -> KeyTestReport {
    let name = provider.name;
    let (verdict, message) = match status {
        200..=299 => (KeyTestVerdict::Works, format!("{name} accepted the key.")),
        401 | 403 => (
            KeyTestVerdict::Refused,
            format!("{name} refused this key (HTTP {status}). Check that it is complete and has not been revoked."),
        ),
        429 => (
            KeyTestVerdict::Limited,
            format!("{name} knows this key but is limiting it right now (HTTP 429): rate limit or no credit left."),
        ),
        404 if provider.needs_base_url() => (
            KeyTestVerdict::Problem,
            "Nothing answered at this base URL (HTTP 404). Check the address.".to_string(),
        ),
        500..=599 => (
            KeyTestVerdict::Problem,
            format!("{name} had a problem (HTTP {status}). Try again later."),
        ),
        _ => (
            KeyTestVerdict::Problem,
            format!("{name} answered HTTP {status}."),
        ),
    };
    let models = (verdict == KeyTestVerdict::Works)
        .then(|| count_models(body))
        .flatten();
    let message = match models {
        Some(1) => format!("{name} accepted the key: 1 model available."),
        Some(n) => format!("{name} accepted the key: {n} models available."),
        None => message,
    };
    KeyTestReport {
        verdict,
        status,
        message,
        models,
    }
}

/// The report when the test call got no answer at all.
pub fn key_test_unreachable(provider: &Provider, timed_out: bool) -> KeyTestReport {
    let name = provider.name;
    let message = match (timed_out, provider.needs_base_url()) {
        (true, _) => format!("{name} did not answer in time. Try again later."),
        (false, true) => "Could not reach the server at this base URL. Check the address and that the server is running.".to_string(),
        (false, false) => format!("Could not reach {name}. Check your connection."),
    };
    KeyTestReport {
        verdict: KeyTestVerdict::Unreachable,
        status: 0,
        message,
        models: None,
    }
}

/// Counts the models in a model-list answer: `{"data": [...]}` (OpenAI style and
/// Anthropic), `{"models": [...]}` (Gemini, Cohere) or a bare array (Together).
fn count_models(body: &str) -> Option<usize> {
    if body.is_empty() || body.len() > MAX_PROBE_BODY_BYTES {
        return None;
    }
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    let list = match &value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(map) => {
            map.get("data").or_else(|| map.get("models"))?.as_array()?
        }
        _ => return None,
    };
    Some(list.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{all, find};
    use crate::secret::secret_string;

    fn provider(id: &str) -> &'static Provider {
        find(id).expect("registered")
    }

    #[test]
    fn every_test_path_is_on_its_providers_allow_list_as_a_get() {
        for p in all() {
            let Some(path) = key_test_path(p) else {
                continue;
            };
            assert!(p.check_path("GET", path).is_ok(), "{}: {path}", p.id);
        }
        assert_eq!(key_test_path(provider("perplexity")), None);
        assert_eq!(key_test_path(provider("openrouter")), None);
    }

    #[test]
    fn fixed_providers_are_tested_at_their_own_origin_with_the_key_last() {
        for (id, url, header) in [
            (
                "openai",
                "https://api.openai.com/v1/models",
                "authorization",
            ),
            (
                "anthropic",
                "https://api.anthropic.com/v1/models",
                "x-api-key",
            ),
            (
                "gemini",
                "https://generativelanguage.googleapis.com/v1beta/models",
                "x-goog-api-key",
            ),
            (
                "groq",
                "https://api.groq.com/openai/v1/models",
                "authorization",
            ),
        ] {
            let p = plan_key_test(provider(id), None).expect(id);
            assert_eq!((p.url.as_str(), p.method.as_str()), (url, "GET"), "{id}");
            let headers = p.into_headers_with_key(&secret_string("k-test-1234".into()));
            assert_eq!(
                headers.last().map(|(n, _)| n.as_str()),
                Some(header),
                "{id}"
            );
        }
        let anthropic = plan_key_test(provider("anthropic"), None).expect("plan");
        assert!(anthropic
            .headers()
            .iter()
            .any(|(n, v)| n == "anthropic-dangerous-direct-browser-access" && v == "true"));
    }

    #[test]
    fn per_credential_providers_are_tested_at_the_stored_base_url_only() {
        let local = plan_key_test(
            provider("openai_compatible"),
            Some("http://127.0.0.1:11434/v1"),
        )
        .expect("plan");
        assert_eq!(local.url, "http://127.0.0.1:11434/v1/models");
        let azure = plan_key_test(
            provider("azure_openai"),
            Some("https://res.openai.azure.com"),
        )
        .expect("plan");
        assert_eq!(azure.url, "https://res.openai.azure.com/openai/v1/models");
        assert!(matches!(
            plan_key_test(provider("openai_compatible"), None),
            Err(CoreError::InvalidInput(_))
        ));
        assert!(matches!(
            plan_key_test(provider("openai"), Some("https://evil.example")),
            Err(CoreError::InvalidInput(_))
        ));
        assert!(matches!(
            plan_key_test(provider("perplexity"), None),
            Err(CoreError::Unavailable(_))
        ));
    }

    #[test]
    fn verdicts_follow_the_status() {
        let openai = provider("openai");
        let ok = judge_key_test(
            openai,
            200,
            r#"{"object":"list","data":[{"id":"a"},{"id":"b"}]}"#,
        );
        assert_eq!((ok.verdict, ok.models), (KeyTestVerdict::Works, Some(2)));
        assert_eq!(ok.message, "OpenAI accepted the key: 2 models available.");
        let gemini = judge_key_test(provider("gemini"), 200, r#"{"models":[{"name":"m"}]}"#);
        assert_eq!(gemini.models, Some(1));
        let bare = judge_key_test(
            provider("together"),
            200,
            r#"[{"id":"x"},{"id":"y"},{"id":"z"}]"#,
        );
        assert_eq!(bare.models, Some(3));
        let no_list = judge_key_test(openai, 204, "");
        assert_eq!(
            (no_list.verdict, no_list.models),
            (KeyTestVerdict::Works, None)
        );
        assert_eq!(no_list.message, "OpenAI accepted the key.");

        for (status, verdict) in [
            (401, KeyTestVerdict::Refused),
            (403, KeyTestVerdict::Refused),
            (429, KeyTestVerdict::Limited),
            (500, KeyTestVerdict::Problem),
            (404, KeyTestVerdict::Problem),
        ] {
            let r = judge_key_test(openai, status, r#"{"data":[{"id":"a"}]}"#);
            assert_eq!((r.verdict, r.models), (verdict, None), "{status}");
            assert!(r.message.contains(&status.to_string()), "{}", r.message);
        }
        let local = judge_key_test(provider("openai_compatible"), 404, "");
        assert!(local.message.contains("base URL"), "{}", local.message);
    }

    #[test]
    fn unreachable_reports_name_the_likely_cause() {
        let r = key_test_unreachable(provider("openai"), false);
        assert_eq!((r.verdict, r.status), (KeyTestVerdict::Unreachable, 0));
        assert!(r.message.contains("connection"), "{}", r.message);
        let local = key_test_unreachable(provider("openai_compatible"), false);
        assert!(local.message.contains("base URL"), "{}", local.message);
        let slow = key_test_unreachable(provider("gemini"), true);
        assert!(slow.message.contains("in time"), "{}", slow.message);
        let json = serde_json::to_string(&r).unwrap_or_default();
        assert!(json.contains("\"verdict\":\"unreachable\""), "{json}");
    }

    #[test]
    fn malformed_or_huge_bodies_are_not_counted() {
        let openai = provider("openai");
        for body in ["not json", "{\"data\":5}", "\"x\"", "{}"] {
            assert_eq!(judge_key_test(openai, 200, body).models, None, "{body}");
        }
        let huge = format!("[{}0]", "0,".repeat(MAX_PROBE_BODY_BYTES / 2));
        assert_eq!(judge_key_test(openai, 200, &huge).models, None);
    }
}

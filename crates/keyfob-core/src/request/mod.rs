//! Turning a page's `fetch` into the request Keyfob sends upstream.
//!
//! Invariant: [`plan`] either refuses or returns a plan whose URL is on the provider's
//! origin (or the credential's own base URL) and allow-list, whose method is GET, POST
//! or DELETE, and whose headers came from an allow-list with every page-sent credential
//! removed. The real key is added only by [`UpstreamPlan::into_headers_with_key`], as the
//! last header, so nothing the page sent can shadow or precede it.
//!
//! The caller has already checked the session key and the grant; this module knows
//! nothing about origins.

mod headers;
pub mod limits;
mod probe;
mod target;

pub(crate) use headers::COMMON_HEADERS;
pub use headers::{is_page_visible_response_header, ANTHROPIC_DEFAULT_VERSION};
pub use probe::{
    judge_key_test, key_test_path, key_test_unreachable, plan_key_test, KeyTestReport,
    KeyTestVerdict, MAX_PROBE_BODY_BYTES,
};

use crate::providers::{truncate_for_message, AuthStyle, Provider};
use crate::secret::{ExposeSecret, SecretString};
use crate::CoreError;

/// A page's request as the content script relayed it (untrusted in every field).
#[derive(Debug, Clone, Copy)]
pub struct PageRequest<'a> {
    /// The `fetch` method; an empty string means GET, as in `fetch`.
    pub method: &'a str,
    /// The absolute URL the page's SDK asked for.
    pub url: &'a str,
    /// The headers the page set, in order.
    pub headers: &'a [(String, String)],
}

/// A checked upstream request, still without the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamPlan {
    /// The full upstream URL.
    pub url: String,
    /// `GET`, `POST` or `DELETE`.
    pub method: String,
    headers: Vec<(String, String)>,
    auth: AuthStyle,
}

/// Checks a page request against `provider`'s rules and plans the upstream request.
///
/// `base_url` is the base URL stored with the credential: required for per-credential
/// providers, refused for fixed ones. Errors: `BadRequest` (method, malformed headers),
/// `UrlNotAllowed` (URL, path, method on that path), `InvalidInput` (base URL).
pub fn plan(
    provider: &Provider,
    base_url: Option<&str>,
    page: &PageRequest<'_>,
) -> Result<UpstreamPlan, CoreError> {
    let method = normalise_method(page.method)?;
    let url = target::upstream_url(provider, base_url, method, page.url)?;
    let headers = headers::forwarded_headers(provider, page.headers)?;
    Ok(UpstreamPlan {
        url,
        method: method.to_string(),
        headers,
        auth: provider.auth,
    })
}

fn normalise_method(method: &str) -> Result<&'static str, CoreError> {
    const METHODS: [&str; 3] = ["GET", "POST", "DELETE"];
    if method.is_empty() {
        return Ok("GET");
    }
    METHODS
        .into_iter()
        .find(|m| m.eq_ignore_ascii_case(method))
        .ok_or_else(|| {
            CoreError::BadRequest(format!(
                "method {} is not supported",
                truncate_for_message(method)
            ))
        })
}

impl UpstreamPlan {
    /// The forwarded non-credential headers (lower-case names).
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// How the key will be attached.
    pub fn auth(&self) -> AuthStyle {
        self.auth
    }

    /// The final header list: the forwarded headers, then the credential header last.
    pub fn into_headers_with_key(self, key: &SecretString) -> Vec<(String, String)> {
        let mut headers = self.headers;
        // EXPOSE: the key goes into its provider's auth header, for the upstream fetch only.
        let key = key.expose_secret();
        headers.push(match self.auth {
            AuthStyle::Bearer => ("authorization".into(), format!("Bearer {key}")),
            AuthStyle::Anthropic => ("x-api-key".into(), key.to_string()),
            AuthStyle::GoogApiKey => ("x-goog-api-key".into(), key.to_string()),
            AuthStyle::AzureApiKey => ("api-key".into(), key.to_string()),
        });
        headers
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::find;
    use crate::secret::secret_string;

    fn page<'a>(method: &'a str, url: &'a str, headers: &'a [(String, String)]) -> PageRequest<'a> {
        PageRequest {
            method,
            url,
            headers,
        }
    }

    fn plan_for(id: &str, req: &PageRequest<'_>) -> Result<UpstreamPlan, CoreError> {
        plan(find(id).expect("registered"), None, req)
    }

    #[test]
    fn anthropic_plan_puts_the_real_key_last() {
        let hs = vec![
            (
                "authorization".to_string(),
                "Bearer kfs_session".to_string(),
            ),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        let p = plan_for(
            "anthropic",
            &page("post", "https://api.anthropic.com/v1/messages", &hs),
        )
        .expect("allowed");
        assert_eq!(p.method, "POST");
        assert_eq!(p.url, "https://api.anthropic.com/v1/messages");
        let out = p.into_headers_with_key(&secret_string("sk-ant-real".into()));
        assert_eq!(
            out.last(),
            Some(&("x-api-key".to_string(), "sk-ant-real".to_string()))
        );
        assert!(
            out.iter().all(|(_, v)| !v.contains("kfs_session")),
            "{out:?}"
        );
        assert!(out.iter().all(|(n, _)| n != "authorization"), "{out:?}");
    }

    #[test]
    fn each_auth_style_uses_its_own_header() {
        let key = secret_string("k-123".into());
        for (id, url, header, value) in [
            (
                "openai",
                "https://api.openai.com/v1/models",
                "authorization",
                "Bearer k-123",
            ),
            (
                "gemini",
                "https://generativelanguage.googleapis.com/v1beta/models",
                "x-goog-api-key",
                "k-123",
            ),
        ] {
            let p = plan_for(id, &page("GET", url, &[])).expect("allowed");
            let out = p.into_headers_with_key(&key);
            assert_eq!(
                out.last(),
                Some(&(header.to_string(), value.to_string())),
                "{id}"
            );
            assert_eq!(out.iter().filter(|(n, _)| n == header).count(), 1, "{id}");
        }
        let azure = find("azure_openai").expect("registered");
        let req = page("POST", "https://x/openai/v1/chat/completions", &[]);
        let p = plan(azure, Some("https://res.openai.azure.com"), &req).expect("allowed");
        assert_eq!(p.auth(), AuthStyle::AzureApiKey);
        let out = p.into_headers_with_key(&key);
        assert_eq!(
            out.last(),
            Some(&("api-key".to_string(), "k-123".to_string()))
        );
    }

    #[test]
    fn methods_are_limited() {
        let url = "https://api.openai.com/v1/models";
        assert_eq!(
            plan_for("openai", &page("", url, &[])).map(|p| p.method),
            Ok("GET".into())
        );
        for m in [
            "PUT", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT", "GET ",
        ] {
            assert!(
                matches!(
                    plan_for("openai", &page(m, url, &[])),
                    Err(CoreError::BadRequest(_))
                ),
                "{m}"
            );
        }
        assert!(matches!(
            plan_for("openai", &page("DELETE", url, &[])),
            Err(CoreError::UrlNotAllowed(_))
        ));
    }

    #[test]
    fn a_plan_debug_string_holds_no_page_credential() {
        let hs = vec![("x-api-key".to_string(), "kfs_secret_session".to_string())];
        let p = plan_for(
            "anthropic",
            &page("POST", "https://api.anthropic.com/v1/messages", &hs),
        )
        .expect("allowed");
        assert!(!format!("{p:?}").contains("kfs_secret_session"));
    }
}

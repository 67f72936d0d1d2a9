//! Where a page's request may go: the page URL is checked and turned into the upstream URL.
//!
//! Threat model: the page picks the URL. For a fixed provider the URL must name exactly
//! that provider's https origin on the default port, with a canonical, allow-listed path.
//! For a per-credential provider the page's scheme and host are ignored altogether: the
//! key goes only to the base URL the user stored with it, and the page contributes only
//! an allow-listed path and a query.

use url::{Host, Url};

use crate::providers::url_safety::{check_query, parse_strict, raw_authority};
use crate::providers::{truncate_for_message, validate_base_url, Endpoint, Provider, Rebase};
use crate::CoreError;

/// Checks `page_url` for `provider` and `method` (upper case) and returns the upstream URL.
pub(crate) fn upstream_url(
    provider: &Provider,
    base_url: Option<&str>,
    method: &str,
    page_url: &str,
) -> Result<String, CoreError> {
    let not_allowed = CoreError::UrlNotAllowed;
    match provider.endpoint {
        Endpoint::Fixed { origin } => {
            if base_url.is_some() {
                return Err(CoreError::InvalidInput(format!(
                    "{} has a fixed address and takes no base URL",
                    provider.name
                )));
            }
            let url = parse_strict(page_url, &["https"]).map_err(not_allowed)?;
            check_fixed_host(provider, &url, raw_authority(page_url))?;
            check_query(&url).map_err(not_allowed)?;
            provider.check_path(method, url.path())?;
            Ok(format!("{origin}{}{}", url.path(), query_suffix(&url)))
        }
        Endpoint::CredentialBaseUrl { .. } => {
            let raw_base = base_url.ok_or_else(|| {
                CoreError::InvalidInput(format!(
                    "the {} key has no base URL; add one in Keyfob",
                    provider.name
                ))
            })?;
            // The stored value was validated on the way in; check again on the way out.
            let base = validate_base_url(provider, raw_base)?;
            let url = parse_strict(page_url, &["https", "http"]).map_err(not_allowed)?;
            check_query(&url).map_err(not_allowed)?;
            provider.check_path(method, url.path())?;
            let path = match provider.rebase {
                Rebase::ReplacePrefix(prefix) => url
                    .path()
                    .strip_prefix(prefix)
                    .filter(|rest| rest.starts_with('/'))
                    .ok_or_else(|| not_allowed(format!("the path must start with {prefix}/")))?,
                Rebase::OntoOrigin | Rebase::None => url.path(),
            };
            Ok(format!("{base}{path}{}", query_suffix(&url)))
        }
    }
}

/// The host must be exactly the provider's (the parser has already lower-cased it and
/// turned IDN into punycode); IP literals, trailing dots and other ports are refused.
/// The raw authority must also read `host` or `host:443` (any case): no spelling the
/// parser would quietly normalise (percent-escapes, empty port, leading zeros).
fn check_fixed_host(provider: &Provider, url: &Url, raw_authority: &str) -> Result<(), CoreError> {
    let want = provider.fixed_host().unwrap_or_default();
    match url.host() {
        Some(Host::Domain(host)) if !want.is_empty() && host == want => {}
        Some(Host::Domain(host)) => {
            return Err(CoreError::UrlNotAllowed(format!(
                "host {} is not {want}",
                truncate_for_message(host)
            )))
        }
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => {
            return Err(CoreError::UrlNotAllowed(format!(
                "IP addresses are not allowed; use {want}"
            )))
        }
        None => return Err(CoreError::UrlNotAllowed("the URL has no host".into())),
    }
    if url.port().is_some() {
        return Err(CoreError::UrlNotAllowed(
            "only the default https port is allowed".into(),
        ));
    }
    let spelled_plainly = raw_authority.eq_ignore_ascii_case(want)
        || raw_authority.eq_ignore_ascii_case(&format!("{want}:443"));
    if !spelled_plainly {
        return Err(CoreError::UrlNotAllowed(format!(
            "the host must be written plainly as {want}"
        )));
    }
    Ok(())
}

/// `?query` as the parser serialised it, or nothing for an absent or empty query.
fn query_suffix(url: &Url) -> String {
    match url.query() {
        Some(q) if !q.is_empty() => format!("?{q}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::find;

    fn fixed(id: &str, method: &str, url: &str) -> Result<String, CoreError> {
        upstream_url(find(id).expect("registered"), None, method, url)
    }

    #[test]
    fn fixed_urls_keep_path_and_query() {
        assert_eq!(
            fixed("gemini", "POST", "https://generativelanguage.googleapis.com:443/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse#x").as_deref(),
            Ok("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
        );
        assert_eq!(
            fixed("openai", "GET", "https://API.OpenAI.com/v1/models?").as_deref(),
            Ok("https://api.openai.com/v1/models")
        );
    }

    #[test]
    fn fixed_hosts_must_match_exactly() {
        for url in [
            "https://api.openai.com.evil.test/v1/models",
            "https://api.openai.com./v1/models",
            "https://evil.test/api.openai.com/v1/models",
            "https://xn--pi-7ld.openai.com/v1/models",
            "https://104.18.6.192/v1/models",
            "https://[2606:4700::6812:6c0]/v1/models",
            "https://api.openai.com:8443/v1/models",
            "https://openai.com/v1/models",
            "https://api.openai.com:/v1/models",
            "https://api.openai.com:0443/v1/models",
            "https://api%2eopenai.com/v1/models",
        ] {
            let res = fixed("openai", "GET", url);
            assert!(
                matches!(res, Err(CoreError::UrlNotAllowed(_))),
                "{url} gave {res:?}"
            );
        }
    }

    #[test]
    fn fixed_providers_refuse_a_base_url() {
        let res = upstream_url(
            find("openai").expect("registered"),
            Some("https://evil.test"),
            "GET",
            "https://api.openai.com/v1/models",
        );
        assert!(matches!(res, Err(CoreError::InvalidInput(_))), "{res:?}");
    }

    #[test]
    fn per_credential_requests_ignore_the_page_host() {
        let compat = find("openai_compatible").expect("registered");
        assert_eq!(
            upstream_url(
                compat,
                Some("http://127.0.0.1:11434/v1/"),
                "POST",
                "https://evil.test/v1/chat/completions"
            )
            .as_deref(),
            Ok("http://127.0.0.1:11434/v1/chat/completions")
        );
        let azure = find("azure_openai").expect("registered");
        assert_eq!(
            upstream_url(
                azure,
                Some("https://res.openai.azure.com"),
                "POST",
                "https://x.invalid/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21"
            )
            .as_deref(),
            Ok("https://res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21")
        );
    }

    #[test]
    fn per_credential_requests_need_a_valid_stored_base_url() {
        let azure = find("azure_openai").expect("registered");
        let page = "https://x.invalid/openai/v1/chat/completions";
        assert!(matches!(
            upstream_url(azure, None, "POST", page),
            Err(CoreError::InvalidInput(_))
        ));
        assert!(matches!(
            upstream_url(azure, Some("http://127.0.0.1:8080"), "POST", page),
            Err(CoreError::InvalidInput(_))
        ));
    }
}

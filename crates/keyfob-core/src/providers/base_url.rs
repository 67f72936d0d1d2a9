//! Validation of the base URL a user stores with a per-credential provider's key.
//!
//! The base URL decides where that key is sent, so it is held to the same strict shape
//! as page URLs: https only (plain http only to this machine, and only where the
//! provider allows it), no userinfo, query or fragment, a canonical path, and for
//! Azure a host under one of Microsoft's documented suffixes on the default port.
//! The stored form is normalised so that the request path can be appended directly.

use url::Host;

use super::url_safety::{is_loopback, parse_strict};
use super::{Endpoint, Provider, Rebase};
use crate::CoreError;

/// Checks and normalises a credential's base URL for `provider`.
///
/// Returns `scheme://host[:port]` plus the path without a trailing slash (Azure keeps
/// the origin only, since pages send the full `/openai/...` path). Errors are
/// `InvalidInput` with a reason fit to show the user.
pub fn validate_base_url(provider: &Provider, raw: &str) -> Result<String, CoreError> {
    let invalid = |why: String| CoreError::InvalidInput(format!("base URL: {why}"));
    let Endpoint::CredentialBaseUrl {
        loopback_http,
        https_host_suffixes,
    } = provider.endpoint
    else {
        return Err(invalid(format!(
            "{} has a fixed address and takes none",
            provider.name
        )));
    };
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(invalid("enter the server's URL".into()));
    }
    if raw.contains('?') {
        return Err(invalid("must not contain a query (?…)".into()));
    }
    if raw.contains('#') {
        return Err(invalid("must not contain a fragment (#…)".into()));
    }
    let schemes: &[&str] = if loopback_http {
        &["https", "http"]
    } else {
        &["https"]
    };
    let url = parse_strict(raw, schemes).map_err(invalid)?;
    let Some(host) = url.host() else {
        return Err(invalid("has no host".into()));
    };
    if url.scheme() == "http" && !is_loopback(&host) {
        return Err(invalid(
            "plain http is only allowed to this machine (localhost, 127.0.0.1, [::1]); use https"
                .into(),
        ));
    }
    if !https_host_suffixes.is_empty() {
        if !host_has_suffix(&host, https_host_suffixes) {
            return Err(invalid(format!(
                "must be an endpoint like https://NAME{}",
                https_host_suffixes.first().copied().unwrap_or_default()
            )));
        }
        if url.port().is_some() {
            return Err(invalid("must use the default https port".into()));
        }
    }
    let origin = url.origin().ascii_serialization();
    Ok(match provider.rebase {
        Rebase::ReplacePrefix(_) => format!("{origin}{}", url.path().trim_end_matches('/')),
        Rebase::OntoOrigin | Rebase::None => origin,
    })
}

/// `host` is one DNS label followed by one of `suffixes` (no trailing dot, no IP).
fn host_has_suffix(host: &Host<&str>, suffixes: &[&str]) -> bool {
    let Host::Domain(domain) = host else {
        return false;
    };
    suffixes.iter().any(|suffix| {
        domain.strip_suffix(suffix).is_some_and(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::find;

    fn check(id: &str, raw: &str) -> Result<String, CoreError> {
        validate_base_url(find(id).expect("registered"), raw)
    }

    #[test]
    fn openai_compatible_accepts_https_and_loopback_http() {
        for (raw, want) in [
            ("http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1"),
            ("http://127.0.0.1:11434/v1/", "http://127.0.0.1:11434/v1"),
            ("  http://localhost:1234/v1  ", "http://localhost:1234/v1"),
            ("http://[::1]:8080/v1", "http://[::1]:8080/v1"),
            ("https://llm.example.com", "https://llm.example.com"),
            (
                "https://LLM.example.com:8443/api/v1/",
                "https://llm.example.com:8443/api/v1",
            ),
            (
                "https://llm.example.com:443/v1",
                "https://llm.example.com/v1",
            ),
        ] {
            assert_eq!(
                check("openai_compatible", raw).as_deref(),
                Ok(want),
                "{raw}"
            );
        }
    }

    #[test]
    fn openai_compatible_refuses_remote_http_and_tricks() {
        for raw in [
            "",
            "http://192.168.1.10:8000/v1",
            "http://localhost.evil.test/v1",
            "http://[::ffff:127.0.0.1]/v1",
            "ftp://127.0.0.1/v1",
            "https://user:pw@llm.example.com/v1",
            "https://llm.example.com/v1?x=1",
            "https://llm.example.com/v1#x",
            "https://llm.example.com/v1/../admin",
            "https://llm.example.com/v1/%2e%2e/admin",
            "https://llm.example.com//v1",
            "127.0.0.1:11434/v1",
        ] {
            let res = check("openai_compatible", raw);
            assert!(
                matches!(res, Err(CoreError::InvalidInput(_))),
                "{raw:?} gave {res:?}"
            );
        }
    }

    #[test]
    fn azure_needs_an_azure_host_over_https() {
        for (raw, want) in [
            (
                "https://myres.openai.azure.com",
                "https://myres.openai.azure.com",
            ),
            (
                "https://myres.openai.azure.com/",
                "https://myres.openai.azure.com",
            ),
            (
                "https://MyRes.openai.azure.com/openai/v1/",
                "https://myres.openai.azure.com",
            ),
            (
                "https://a-b.cognitiveservices.azure.com",
                "https://a-b.cognitiveservices.azure.com",
            ),
            (
                "https://x1.services.ai.azure.com",
                "https://x1.services.ai.azure.com",
            ),
        ] {
            assert_eq!(check("azure_openai", raw).as_deref(), Ok(want), "{raw}");
        }
        for raw in [
            "http://myres.openai.azure.com",
            "http://127.0.0.1:8080",
            "http://localhost",
            "https://openai.azure.com",
            "https://.openai.azure.com",
            "https://a.b.openai.azure.com",
            "https://myres.openai.azure.com.evil.test",
            "https://myres.openai.azure.com.",
            "https://evil-openai.azure.com",
            "https://myres.openai.azure.com:8443",
            "https://20.1.2.3",
        ] {
            let res = check("azure_openai", raw);
            assert!(
                matches!(res, Err(CoreError::InvalidInput(_))),
                "{raw:?} gave {res:?}"
            );
        }
    }

    #[test]
    fn fixed_providers_take_no_base_url() {
        assert!(matches!(
            check("openai", "https://api.openai.com"),
            Err(CoreError::InvalidInput(_))
        ));
    }
}

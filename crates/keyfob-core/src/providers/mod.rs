//! The provider registry: where each provider's key may go, and how it is sent.
//!
//! Invariant: a key goes only to its provider. A provider with a `Fixed` endpoint is
//! reachable at exactly one https origin; a provider with a `CredentialBaseUrl` is
//! reachable only at the base URL the *user* stored with the key (never one a page
//! names). Either way only paths on the provider's allow-list are reachable, and the
//! allow-lists never include administrative, billing or key-management endpoints.
//!
//! Everything here is static data plus pure checks; [`crate::request`] applies them to
//! a page's request. Every other fact about a provider (metering, usage dialect, key
//! test, key prefixes, prices) is a typed field of its one [`Provider`] row, so code
//! elsewhere reads the row and never matches on a provider id.

mod base_url;
mod descriptor;
mod key_hints;
mod paths;
mod registry;
pub(crate) mod url_safety;

pub use base_url::validate_base_url;
pub use descriptor::{Dialect, KeyTest, MeterClass, ModelIn, PriceList, Pricing, Speaks};
pub use key_hints::{guess_provider, key_prefixes};
pub use paths::{Methods, PathRule};

use serde::Serialize;

use crate::CoreError;

/// How the real key is attached to the upstream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    /// `authorization: Bearer <key>`.
    Bearer,
    /// `x-api-key: <key>`, plus `anthropic-version` (the page's if well-formed
    /// `YYYY-MM-DD`, else `2023-06-01`) and `anthropic-dangerous-direct-browser-access: true`.
    Anthropic,
    /// `x-goog-api-key: <key>` (never the `key=` query parameter).
    GoogApiKey,
    /// `api-key: <key>` (Azure OpenAI).
    AzureApiKey,
}

/// Where a provider's requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// One fixed https origin, e.g. `https://api.openai.com` (no path, no trailing slash).
    Fixed { origin: &'static str },
    /// The base URL stored with the credential (checked by [`validate_base_url`]).
    CredentialBaseUrl {
        /// Whether plain http is allowed for loopback hosts (127.0.0.0/8, `[::1]`, `localhost`).
        loopback_http: bool,
        /// If non-empty, an https host must be `<one label>` + one of these suffixes.
        /// Empty means any https host.
        https_host_suffixes: &'static [&'static str],
    },
}

/// How a page path maps onto a per-credential base URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rebase {
    /// Fixed providers: the page path is sent unchanged to the fixed origin.
    None,
    /// The base URL is reduced to its origin and the page path is appended unchanged
    /// (Azure: the page sends `/openai/...`).
    OntoOrigin,
    /// The page path must start with this prefix, which is replaced by the base URL
    /// (OpenAI-compatible: page `/v1/chat/completions` + base `http://127.0.0.1:11434/v1`
    /// → `http://127.0.0.1:11434/v1/chat/completions`).
    ReplacePrefix(&'static str),
}

/// One provider: everything Keyfob knows about it, in one row of the registry.
#[derive(Debug)]
pub struct Provider {
    /// Stable id used in grants, the vault and `createFetch(id)`.
    pub id: &'static str,
    /// Human name for the UI.
    pub name: &'static str,
    pub endpoint: Endpoint,
    pub auth: AuthStyle,
    /// How page paths are rebased onto a credential's base URL.
    pub rebase: Rebase,
    /// The path allow-list; a request must match one rule (path and method).
    pub paths: &'static [PathRule],
    /// Page headers forwarded for this provider in addition to the common allow-list
    /// in [`crate::request`] (lower-case names).
    pub extra_headers: &'static [&'static str],
    /// Prefixes this provider prints on its keys (case-sensitive), for suggesting the
    /// provider after a paste ([`guess_provider`]); empty if its keys have none of
    /// their own. No prefix is shared by two providers.
    pub key_prefixes: &'static [&'static str],
    /// The "test key" call.
    pub key_test: KeyTest,
    /// Where a request names its model.
    pub model_in: ModelIn,
    /// How responses report usage, unless the rule that allowed the path says
    /// otherwise ([`PathRule::dialect`]).
    pub dialect: Dialect,
    /// Whether streaming [`MeterClass::Completion`] calls accept
    /// `stream_options.include_usage` (and so may be asked for usage).
    pub include_usage: bool,
    /// How calls are priced.
    pub pricing: Pricing,
    /// The generation APIs it serves in routing dialects (empty: never routed).
    pub speaks: &'static [Speaks],
}

/// What the UI needs to list providers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInfo {
    pub id: &'static str,
    pub name: &'static str,
    pub needs_base_url: bool,
    /// Whether calls can be routed to or from it.
    pub routable: bool,
    /// Model ids to suggest when a route is served by it (its priced chat models).
    pub models: Vec<&'static str>,
    /// The APIs it serves routed calls through, its default first.
    pub apis: Vec<ApiInfo>,
}

/// One API a provider serves routed calls through (a route's `via`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiInfo {
    pub dialect: crate::route::Dialect,
    pub label: &'static str,
}

impl Provider {
    /// The fixed host (`api.openai.com`), or `None` for per-credential providers.
    pub fn fixed_host(&self) -> Option<&'static str> {
        match self.endpoint {
            Endpoint::Fixed { origin } => origin.strip_prefix("https://"),
            Endpoint::CredentialBaseUrl { .. } => None,
        }
    }

    /// Whether a credential for this provider must carry a base URL.
    pub fn needs_base_url(&self) -> bool {
        matches!(self.endpoint, Endpoint::CredentialBaseUrl { .. })
    }

    /// The UI view of this provider.
    pub fn info(&self) -> ProviderInfo {
        ProviderInfo {
            id: self.id,
            name: self.name,
            needs_base_url: self.needs_base_url(),
            routable: !self.speaks.is_empty(),
            models: crate::metering::prices::chat_models(self.id),
            apis: self
                .speaks
                .iter()
                .map(|s| ApiInfo {
                    dialect: s.dialect,
                    label: s.dialect.label(),
                })
                .collect(),
        }
    }

    /// Checks `path` (already canonical: raw-text checks passed) and `method` (upper case)
    /// against the allow-list. The error names the path or method, never a header.
    pub fn check_path(&self, method: &str, path: &str) -> Result<(), CoreError> {
        if let Some(segment) = paths::denied_segment(path) {
            return Err(CoreError::UrlNotAllowed(format!(
                "administrative path segment '{segment}' is never reachable"
            )));
        }
        let mut path_matched = false;
        for rule in self.paths {
            if rule.matches_path(path) {
                path_matched = true;
                if rule.methods.allows(method) {
                    return Ok(());
                }
            }
        }
        let path = truncate_for_message(path);
        Err(CoreError::UrlNotAllowed(if path_matched {
            format!("method {method} is not allowed on {path} for {}", self.name)
        } else {
            format!("path {path} is not on the allow-list for {}", self.name)
        }))
    }

    /// The rule that admits a request to `path` (and `method`, when known): the first
    /// in table order. `path` is the *upstream* path. For a provider whose page paths
    /// are rebased by replacing a prefix, the base URL's own path is unknown here, so
    /// each tail of `path` is tried with the prefix put back, longest first. The
    /// page's own path is one of them; a longer one wins only if it too is on the
    /// allow-list (and it ends with the page's path).
    pub fn rule_for(&self, method: Option<&str>, path: &str) -> Option<&'static PathRule> {
        let admits = |candidate: &str| {
            self.paths.iter().find(|rule| {
                rule.matches_path(candidate) && method.is_none_or(|m| rule.methods.allows(m))
            })
        };
        match self.rebase {
            Rebase::ReplacePrefix(prefix) => path
                .match_indices('/')
                .map(|(at, _)| format!("{prefix}{}", &path[at..]))
                .find_map(|candidate| admits(&candidate)),
            Rebase::None | Rebase::OntoOrigin => admits(path),
        }
    }

    /// The usage dialect of the answer to a request to `path`.
    pub fn dialect_for(&self, path: &str) -> Dialect {
        self.rule_for(None, path)
            .and_then(|rule| rule.dialect)
            .unwrap_or(self.dialect)
    }

    /// Where this provider serves `dialect`, if it does.
    pub fn speaks(&self, dialect: crate::route::Dialect) -> Option<&'static Speaks> {
        self.speaks.iter().find(|s| s.dialect == dialect)
    }

    /// The generation call a page's request to `path` (and `query`, without its `?`)
    /// makes, if it is one: the dialect and the endpoint below the root, query
    /// included, as [`crate::route::decode_request`] reads it.
    pub fn generation_endpoint(
        &self,
        path: &str,
        query: Option<&str>,
    ) -> Option<(crate::route::Dialect, String)> {
        self.speaks.iter().find_map(|speaks| {
            let rest = speaks.roots().find_map(|root| path.strip_prefix(root))?;
            speaks.dialect.is_generation(rest).then(|| {
                let endpoint = match query {
                    Some(q) => format!("{rest}?{q}"),
                    None => rest.to_string(),
                };
                (speaks.dialect, endpoint)
            })
        })
    }

    /// The dialect whose model list `GET path` asks for (`/v1/models`,
    /// `/v1beta/models`), if it is one.
    pub fn model_list_dialect(&self, method: &str, path: &str) -> Option<crate::route::Dialect> {
        if method != "GET" {
            return None;
        }
        self.speaks.iter().find_map(|speaks| {
            let rest = speaks.roots().find_map(|root| path.strip_prefix(root))?;
            (rest == "models").then_some(speaks.dialect)
        })
    }

    /// The model a request to `path` names in its path, where this provider takes it
    /// from there.
    pub fn model_in_path(&self, path: &str) -> Option<String> {
        let ModelIn::PathAfter { after, cut_at } = self.model_in else {
            return None;
        };
        let segment = path
            .split('/')
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| w[0] == after)
            .map(|w| w[1])?;
        match cut_at {
            Some(c) => segment.split_once(c).map(|(model, _)| model.to_string()),
            None => Some(segment.to_string()),
        }
    }
}

/// Looks a provider up by id.
pub fn find(id: &str) -> Result<&'static Provider, CoreError> {
    registry::PROVIDERS
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| CoreError::UnknownProvider(truncate_for_message(id)))
}

/// Every known provider, in display order.
pub fn all() -> &'static [Provider] {
    registry::PROVIDERS
}

/// The UI view of every provider, in display order.
pub fn infos() -> Vec<ProviderInfo> {
    all().iter().map(Provider::info).collect()
}

/// Page-supplied text shown in an error message is cut short and stripped of controls.
pub(crate) fn truncate_for_message(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_findable() {
        for (i, p) in all().iter().enumerate() {
            assert_eq!(find(p.id).map(|f| f.id), Ok(p.id));
            assert!(all()[i + 1..].iter().all(|q| q.id != p.id), "{}", p.id);
        }
    }

    #[test]
    fn unknown_provider_is_an_error_with_a_clean_message() {
        assert_eq!(
            find("nope\r\nx").map(|p| p.id),
            Err(CoreError::UnknownProvider("nopex".into()))
        );
    }

    #[test]
    fn fixed_origins_are_bare_https_origins() {
        for p in all() {
            if let Endpoint::Fixed { origin } = p.endpoint {
                let host = p.fixed_host().unwrap_or_default();
                assert!(
                    !host.is_empty() && !host.contains(['/', ':', '@']),
                    "{origin}"
                );
                let parsed = url::Url::parse(origin).map(|u| u.origin().ascii_serialization());
                assert_eq!(parsed.as_deref(), Ok(origin));
                assert_eq!(p.rebase, Rebase::None);
            } else {
                assert_ne!(p.rebase, Rebase::None, "{}", p.id);
            }
        }
    }

    #[test]
    fn infos_mark_per_credential_providers() {
        let infos = infos();
        let need: Vec<_> = infos
            .iter()
            .filter(|i| i.needs_base_url)
            .map(|i| i.id)
            .collect();
        assert_eq!(need, ["azure_openai", "openai_compatible"]);
        let json = serde_json::to_string(&infos[0]).unwrap_or_default();
        assert!(json.contains("\"needsBaseUrl\":false"), "{json}");
    }

    #[test]
    fn check_path_distinguishes_path_and_method() {
        let openai = find("openai").expect("registered");
        assert!(openai.check_path("POST", "/v1/chat/completions").is_ok());
        let Err(CoreError::UrlNotAllowed(m)) = openai.check_path("DELETE", "/v1/models/gpt-4o")
        else {
            panic!("DELETE on a model must be refused");
        };
        assert!(m.contains("method DELETE"), "{m}");
        let Err(CoreError::UrlNotAllowed(m)) = openai.check_path("GET", "/v1/organization/users")
        else {
            panic!("admin path must be refused");
        };
        assert!(m.contains("organization"), "{m}");
    }
}

//! What a vault holds: credentials (each with its secret) and settings.
//!
//! - [`Credential`] keeps its fields private; the secret is reachable only through
//!   [`Credential::secret`], and `Debug` never prints it.
//! - [`CredentialInfo`] is what leaves the core for the UI: the key masked to its last
//!   four characters.
//! - Neither type is `Serialize` with its secret: the only serialisation of a secret is
//!   the sealed plaintext in `plaintext.rs`.

use std::fmt;

use serde::Serialize;

use crate::secret::{mask_key, SecretString};

pub(super) use crate::autolock::DEFAULT_AUTO_LOCK_MINUTES;
pub(super) const AUTO_LOCK_RANGE: std::ops::RangeInclusive<u32> = 1..=1440;

/// One stored API key. Fields are private; the secret is reachable only through
/// [`Credential::secret`], and `Debug` never shows it.
pub struct Credential {
    pub(super) id: String,
    pub(super) provider: String,
    pub(super) label: String,
    pub(super) secret: SecretString,
    pub(super) base_url: Option<String>,
    pub(super) created_at_ms: u64,
    pub(super) updated_at_ms: u64,
    pub(super) last_used_ms: Option<u64>,
}

impl Credential {
    /// Stable random id, e.g. `cred_3f9a0c1d2e4b5a69`.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Provider id, e.g. `openai`.
    pub fn provider(&self) -> &str {
        &self.provider
    }
    /// The user's name for this key.
    pub fn label(&self) -> &str {
        &self.label
    }
    /// Base URL for providers that take one (Azure, OpenAI-compatible, loopback).
    pub fn base_url(&self) -> Option<&str> {
        self.base_url.as_deref()
    }
    /// The API key itself. Callers mark their `expose_secret()` with `// EXPOSE: why`.
    pub fn secret(&self) -> &SecretString {
        &self.secret
    }
    /// When it was added (ms since the Unix epoch).
    pub fn created_at_ms(&self) -> u64 {
        self.created_at_ms
    }
    /// When its label, secret or base URL last changed.
    pub fn updated_at_ms(&self) -> u64 {
        self.updated_at_ms
    }
    /// When a request last used it.
    pub fn last_used_ms(&self) -> Option<u64> {
        self.last_used_ms
    }

    /// The public description shown in the popup (the key masked to its last four).
    pub fn info(&self) -> CredentialInfo {
        CredentialInfo {
            id: self.id.clone(),
            provider: self.provider.clone(),
            label: self.label.clone(),
            masked_key: mask_key(&self.secret),
            base_url: self.base_url.clone(),
            created_at_ms: self.created_at_ms,
            updated_at_ms: self.updated_at_ms,
            last_used_ms: self.last_used_ms,
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("id", &self.id)
            .field("provider", &self.provider)
            .field("label", &self.label)
            .field("secret", &"[REDACTED]")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A credential as the UI sees it: no secret, only its masked tail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialInfo {
    pub id: String,
    pub provider: String,
    pub label: String,
    pub masked_key: String,
    pub base_url: Option<String>,
    pub created_at_ms: u64,
    pub updated_at_ms: u64,
    pub last_used_ms: Option<u64>,
}

/// Input to [`super::Vault::add_credential`].
#[derive(Debug)]
pub struct NewCredential {
    pub provider: String,
    pub label: String,
    pub secret: SecretString,
    pub base_url: Option<String>,
}

/// Everything inside the sealed plaintext.
pub(super) struct Contents {
    pub(super) credentials: Vec<Credential>,
    pub(super) auto_lock_minutes: u32,
}

impl Default for Contents {
    fn default() -> Self {
        Self {
            credentials: Vec::new(),
            auto_lock_minutes: DEFAULT_AUTO_LOCK_MINUTES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::secret_string;

    fn cred(secret: &str) -> Credential {
        Credential {
            id: "cred_a".into(),
            provider: "openai".into(),
            label: "Work".into(),
            secret: secret_string(secret.into()),
            base_url: Some("https://example.test".into()),
            created_at_ms: 1,
            updated_at_ms: 2,
            last_used_ms: Some(3),
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = cred("sk-ant-SUPERSECRET-0000");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("SUPERSECRET") && shown.contains("REDACTED"),
            "{shown}"
        );
        let new = NewCredential {
            provider: "openai".into(),
            label: "l".into(),
            secret: secret_string("sk-ant-SUPERSECRET-1111".into()),
            base_url: None,
        };
        assert!(!format!("{new:?}").contains("SUPERSECRET"));
    }

    #[test]
    fn info_masks_the_key_and_serialises_in_camel_case() {
        let info = cred("sk-ant-SUPERSECRET-0000").info();
        assert_eq!(info.masked_key, "…0000");
        let json = serde_json::to_string(&info).expect("json");
        assert_eq!(
            json,
            r#"{"id":"cred_a","provider":"openai","label":"Work","maskedKey":"…0000","baseUrl":"https://example.test","createdAtMs":1,"updatedAtMs":2,"lastUsedMs":3}"#
        );
    }

    #[test]
    fn empty_contents_use_the_default_auto_lock() {
        let c = Contents::default();
        assert!(c.credentials.is_empty());
        assert_eq!(c.auto_lock_minutes, DEFAULT_AUTO_LOCK_MINUTES);
        assert!(AUTO_LOCK_RANGE.contains(&DEFAULT_AUTO_LOCK_MINUTES));
    }
}

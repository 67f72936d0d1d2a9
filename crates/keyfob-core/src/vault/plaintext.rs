//! The vault's JSON plaintext — the only place a secret is ever serialised, always
//! straight into a `Zeroizing` buffer that is sealed at once.
//!
//! Plaintext schema, contents version 1 (frozen by `tests/data/vault_v1.kfob`):
//! ```json
//! {"v":1,"settings":{"autoLockMinutes":15},
//!  "credentials":[{"id":"cred_…","provider":"openai","label":"Work","secret":"sk-…",
//!                  "baseUrl":null,"createdAtMs":1,"updatedAtMs":1,"lastUsedMs":null}]}
//! ```
//! - A higher `v` is [`CoreError::VaultVersionUnsupported`], so an older build never
//!   rewrites (and silently drops) fields it does not know.
//! - Loading checks structure only (ids present and unique); the input rules in
//!   `credentials.rs` apply when values are written, so a later, stricter rule can never
//!   lock a user out of an existing vault.
//! - Serialising sizes the buffer exactly first, so no reallocation leaves a copy of a
//!   secret in freed memory. Parsing borrows unescaped strings from the zeroized
//!   plaintext; an escaped string passes through serde_json's (unzeroized) scratch buffer.

use std::fmt;
use std::io;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use super::contents::{Contents, Credential, AUTO_LOCK_RANGE, DEFAULT_AUTO_LOCK_MINUTES};
use crate::secret::{ExposeSecret, SecretString};
use crate::CoreError;

/// The contents version this build writes and the highest it reads.
const CONTENTS_VERSION: u32 = 1;

impl Contents {
    /// Serialises into an exactly-sized `Zeroizing` buffer (sized by a first counting
    /// pass, so no reallocation leaves a copy of a secret behind).
    pub(super) fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, CoreError> {
        let out = ContentsOut {
            v: CONTENTS_VERSION,
            settings: SettingsOut {
                auto_lock_minutes: self.auto_lock_minutes,
            },
            credentials: self.credentials.iter().map(CredentialOut::from).collect(),
        };
        let fail = |_| CoreError::Internal("could not serialise the vault".into());
        let mut counter = ByteCounter(0);
        serde_json::to_writer(&mut counter, &out).map_err(fail)?;
        let mut buf = Zeroizing::new(Vec::with_capacity(counter.0));
        serde_json::to_writer(&mut *buf, &out).map_err(fail)?;
        Ok(buf)
    }

    /// Parses decrypted plaintext. Bad JSON or duplicate ids → VaultCorrupted; a newer
    /// contents version → VaultVersionUnsupported.
    pub(super) fn from_json(plaintext: &[u8]) -> Result<Contents, CoreError> {
        let probe: VersionProbe =
            serde_json::from_slice(plaintext).map_err(|_| CoreError::VaultCorrupted)?;
        if probe.v > CONTENTS_VERSION {
            return Err(CoreError::VaultVersionUnsupported);
        }
        if probe.v == 0 {
            return Err(CoreError::VaultCorrupted);
        }
        let parsed: ContentsIn =
            serde_json::from_slice(plaintext).map_err(|_| CoreError::VaultCorrupted)?;
        let mut credentials: Vec<Credential> = Vec::with_capacity(parsed.credentials.len());
        for c in parsed.credentials {
            if c.id.is_empty() || credentials.iter().any(|seen| seen.id == c.id) {
                return Err(CoreError::VaultCorrupted);
            }
            credentials.push(Credential {
                id: c.id,
                provider: c.provider,
                label: c.label,
                secret: c.secret,
                base_url: c.base_url,
                created_at_ms: c.created_at_ms,
                updated_at_ms: c.updated_at_ms,
                last_used_ms: c.last_used_ms,
            });
        }
        let minutes = parsed.settings.auto_lock_minutes;
        let auto_lock_minutes = minutes.clamp(*AUTO_LOCK_RANGE.start(), *AUTO_LOCK_RANGE.end());
        Ok(Contents {
            credentials,
            auto_lock_minutes,
        })
    }
}

struct ByteCounter(usize);

impl io::Write for ByteCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContentsOut<'a> {
    v: u32,
    settings: SettingsOut,
    credentials: Vec<CredentialOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SettingsOut {
    auto_lock_minutes: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialOut<'a> {
    id: &'a str,
    provider: &'a str,
    label: &'a str,
    #[serde(serialize_with = "secret_for_sealing")]
    secret: &'a SecretString,
    base_url: Option<&'a str>,
    created_at_ms: u64,
    updated_at_ms: u64,
    last_used_ms: Option<u64>,
}

impl<'a> From<&'a Credential> for CredentialOut<'a> {
    fn from(c: &'a Credential) -> Self {
        Self {
            id: &c.id,
            provider: &c.provider,
            label: &c.label,
            secret: &c.secret,
            base_url: c.base_url.as_deref(),
            created_at_ms: c.created_at_ms,
            updated_at_ms: c.updated_at_ms,
            last_used_ms: c.last_used_ms,
        }
    }
}

fn secret_for_sealing<S: Serializer>(secret: &&SecretString, s: S) -> Result<S::Ok, S::Error> {
    // EXPOSE: the sealed plaintext is the one place a secret is serialised; it goes into a
    // Zeroizing buffer that is encrypted immediately.
    s.serialize_str(secret.expose_secret())
}

#[derive(Deserialize)]
struct VersionProbe {
    v: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContentsIn {
    #[serde(default)]
    settings: SettingsIn,
    credentials: Vec<CredentialIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsIn {
    #[serde(default = "default_auto_lock")]
    auto_lock_minutes: u32,
}

impl Default for SettingsIn {
    fn default() -> Self {
        Self {
            auto_lock_minutes: DEFAULT_AUTO_LOCK_MINUTES,
        }
    }
}

fn default_auto_lock() -> u32 {
    DEFAULT_AUTO_LOCK_MINUTES
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CredentialIn {
    id: String,
    provider: String,
    label: String,
    #[serde(deserialize_with = "secret_from_plaintext")]
    secret: SecretString,
    #[serde(default)]
    base_url: Option<String>,
    created_at_ms: u64,
    updated_at_ms: u64,
    #[serde(default)]
    last_used_ms: Option<u64>,
}

/// Reads a secret straight into a `SecretString`. An unescaped JSON string is borrowed from
/// the zeroized plaintext buffer; an escaped one passes through serde_json's scratch buffer.
fn secret_from_plaintext<'de, D: Deserializer<'de>>(d: D) -> Result<SecretString, D::Error> {
    struct SecretVisitor;
    impl Visitor<'_> for SecretVisitor {
        type Value = SecretString;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string")
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretString, E> {
            Ok(SecretString::from(v))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<SecretString, E> {
            Ok(SecretString::from(v))
        }
    }
    d.deserialize_str(SecretVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::secret_string;
    use proptest::prelude::*;

    fn cred(id: &str, secret: &str, base_url: Option<&str>) -> Credential {
        Credential {
            id: id.into(),
            provider: "openai".into(),
            label: "Work \"quoted\" ✓".into(),
            secret: secret_string(secret.into()),
            base_url: base_url.map(Into::into),
            created_at_ms: 1,
            updated_at_ms: 2,
            last_used_ms: Some(3),
        }
    }

    fn assert_same(a: &Contents, b: &Contents) {
        assert_eq!(a.auto_lock_minutes, b.auto_lock_minutes);
        assert_eq!(a.credentials.len(), b.credentials.len());
        for (x, y) in a.credentials.iter().zip(&b.credentials) {
            assert_eq!(x.info(), y.info());
            // EXPOSE: the round trip must preserve the secret exactly.
            assert_eq!(x.secret().expose_secret(), y.secret().expose_secret());
        }
    }

    #[test]
    fn json_round_trip_is_exactly_sized() {
        let c = Contents {
            credentials: vec![cred("cred_a", "sk-proj-ABCDEFGH12345678", None)],
            auto_lock_minutes: 30,
        };
        let json = c.to_json().expect("json");
        assert_eq!(json.len(), json.capacity());
        let text = std::str::from_utf8(&json).expect("utf8");
        assert!(
            text.starts_with("{\"v\":1,\"settings\":{\"autoLockMinutes\":30}"),
            "{text}"
        );
        assert_same(&c, &Contents::from_json(&json).expect("parse"));
    }

    #[test]
    fn rejects_duplicates_newer_versions_and_garbage() {
        let dup = br#"{"v":1,"credentials":[
            {"id":"a","provider":"p","label":"l","secret":"s","createdAtMs":1,"updatedAtMs":1},
            {"id":"a","provider":"p","label":"l","secret":"s","createdAtMs":1,"updatedAtMs":1}]}"#;
        assert!(matches!(
            Contents::from_json(dup),
            Err(CoreError::VaultCorrupted)
        ));
        let newer = br#"{"v":2,"whatever":[]}"#;
        assert!(matches!(
            Contents::from_json(newer),
            Err(CoreError::VaultVersionUnsupported)
        ));
        for bad in [
            &b"not json"[..],
            b"{}",
            b"{\"v\":0,\"credentials\":[]}",
            b"[]",
        ] {
            assert!(matches!(
                Contents::from_json(bad),
                Err(CoreError::VaultCorrupted)
            ));
        }
    }

    #[test]
    fn missing_settings_default_and_out_of_range_clamp() {
        let c = Contents::from_json(br#"{"v":1,"credentials":[]}"#).expect("ok");
        assert_eq!(c.auto_lock_minutes, DEFAULT_AUTO_LOCK_MINUTES);
        let c =
            Contents::from_json(br#"{"v":1,"settings":{"autoLockMinutes":0},"credentials":[]}"#)
                .expect("ok");
        assert_eq!(c.auto_lock_minutes, 1);
    }

    proptest! {
        #[test]
        fn contents_round_trip(
            entries in proptest::collection::vec(
                (any::<String>(), any::<String>(), any::<Option<String>>(), any::<u64>()), 0..6),
            minutes in 1u32..=1440,
        ) {
            let credentials = entries
                .iter()
                .enumerate()
                .map(|(i, (label, secret, base_url, t))| Credential {
                    id: format!("cred_{i}"),
                    provider: format!("p{i}"),
                    label: label.clone(),
                    secret: secret_string(secret.clone()),
                    base_url: base_url.clone(),
                    created_at_ms: *t,
                    updated_at_ms: t.wrapping_add(1),
                    last_used_ms: (i % 2 == 0).then_some(*t),
                })
                .collect();
            let c = Contents { credentials, auto_lock_minutes: minutes };
            let back = Contents::from_json(&c.to_json().expect("json")).expect("parse");
            assert_same(&c, &back);
        }
    }
}

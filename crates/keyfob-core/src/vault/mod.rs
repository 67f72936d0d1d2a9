//! The sealed vault: the user's API keys, encrypted at rest under the master password.
//!
//! # Threat model
//! - `chrome.storage.local` holds only the sealed blob below. Anyone who copies it must
//!   guess the master password at Argon2id cost (64 MiB, 3 passes by default) per guess.
//! - While unlocked, only the derived [`VaultKey`] is kept (in `chrome.storage.session`
//!   via [`VaultKey::to_session_bytes`]); the password is never stored.
//! - The blob is hostile input: its header is checked, and its KDF parameters capped by
//!   [`KdfParams::MAX`], before anything is derived or allocated.
//! - Failures are opaque: a wrong password is [`CoreError::WrongPassword`], anything
//!   else [`CoreError::VaultCorrupted`] (or [`CoreError::VaultVersionUnsupported`]).
//!
//! # Format (version 1)
//! `"KFOB" | version 1 | kind (1 vault, 2 backup) | kdf 1 (Argon2id v0x13) | memory_kib,
//! iterations, parallelism (u32 LE) | salt (16) | key check (16) | nonce (12) |
//! AES-256-GCM ciphertext + tag (16)`; the 63 header bytes are the associated data.
//! The key check is `HMAC-SHA-256(key, "keyfob key check v1")[..16]`: it tells a wrong
//! password from a damaged file. Byte offsets are in [`format`]; the plaintext JSON is
//! described in `plaintext.rs`. `tests/data/vault_v1.kfob` must open in every future
//! version.
//!
//! # Writes
//! Every seal draws a fresh random nonce. [`Vault::change_password`] and
//! [`Vault::import_backup`] produce or change nothing until they have fully succeeded, so
//! the caller can write the new blob in one storage write before switching to it.

mod backup;
mod contents;
mod credentials;
pub mod format;
mod kdf;
mod password_policy;
mod password_strength;
mod plaintext;
mod record;
mod seal;
mod throttle;

#[cfg(test)]
pub(crate) mod testutil;

use std::fmt;

pub use contents::{Credential, CredentialInfo, NewCredential};
pub use format::{inspect, sealed_kind, HeaderInfo, SealedKind};
pub use kdf::{derive_vault_key, KdfParams, VaultKey, SALT_LEN};
pub use password_policy::{check_password_policy, MIN_CHARS as MIN_PASSWORD_CHARS};
pub use password_strength::{estimate_password_strength, PasswordStrength};
pub use record::{open_record, seal_record};
pub use throttle::UnlockThrottle;

use crate::random::{make_bytes, RandomSource};
use crate::secret::SecretString;
use crate::CoreError;
use contents::{Contents, AUTO_LOCK_RANGE};
use format::Parsed;

/// The unlocked contents of a vault, in memory. Secrets are zeroized when it drops.
pub struct Vault {
    contents: Contents,
}

impl Vault {
    /// Creates an empty vault under a new password (which must pass
    /// [`check_password_policy`]). Returns the vault, its key, and the sealed bytes to
    /// store.
    pub fn create(
        password: &SecretString,
        params: &KdfParams,
        rng: &mut dyn RandomSource,
    ) -> Result<(Vault, VaultKey, Vec<u8>), CoreError> {
        check_password_policy(password)?;
        let key = derive_new_key(password, params, rng)?;
        let vault = Vault::empty();
        let sealed = vault.seal(&key, rng)?;
        Ok((vault, key, sealed))
    }

    /// Opens a sealed vault with the master password (runs Argon2id with the header's
    /// parameters). The caller applies [`UnlockThrottle`] around this.
    pub fn unlock(sealed: &[u8], password: &SecretString) -> Result<(Vault, VaultKey), CoreError> {
        let parsed = parse_vault(sealed)?;
        let key = derive_vault_key(password, &parsed.header.kdf, &parsed.header.salt)
            .map_err(|_| CoreError::VaultCorrupted)?;
        let vault = Self::open_parsed(&parsed, &key)?;
        Ok((vault, key))
    }

    /// Opens a sealed vault with a key kept from an earlier unlock (after a
    /// service-worker restart). A key for another salt is [`CoreError::WrongPassword`];
    /// check [`VaultKey::opens`] first to treat that as "locked".
    pub fn open(sealed: &[u8], key: &VaultKey) -> Result<Vault, CoreError> {
        Self::open_parsed(&parse_vault(sealed)?, key)
    }

    /// Seals the current contents under `key` with a fresh 96-bit nonce.
    pub fn seal(&self, key: &VaultKey, rng: &mut dyn RandomSource) -> Result<Vec<u8>, CoreError> {
        let plaintext = self.contents.to_json()?;
        seal::seal_blob(SealedKind::Vault, key, &plaintext, rng)
    }

    /// Re-seals these contents under a new password. Verifies `old` against
    /// `old_sealed` first ([`CoreError::WrongPassword`]), checks the policy on `new`, and
    /// returns the new key and a complete new sealed vault (new salt). Nothing is stored
    /// here: the caller writes the result in one write, then switches to it.
    pub fn change_password(
        &self,
        old_sealed: &[u8],
        old: &SecretString,
        new: &SecretString,
        params: &KdfParams,
        rng: &mut dyn RandomSource,
    ) -> Result<(VaultKey, Vec<u8>), CoreError> {
        check_password_policy(new)?;
        Vault::unlock(old_sealed, old)?;
        let key = derive_new_key(new, params, rng)?;
        let sealed = self.seal(&key, rng)?;
        Ok((key, sealed))
    }

    /// Minutes of inactivity before the wallet locks itself (default 15).
    pub fn auto_lock_minutes(&self) -> u32 {
        self.contents.auto_lock_minutes
    }

    /// Sets the auto-lock delay, 1 to 1440 minutes.
    pub fn set_auto_lock_minutes(&mut self, minutes: u32) -> Result<(), CoreError> {
        if !AUTO_LOCK_RANGE.contains(&minutes) {
            return Err(CoreError::InvalidInput(
                "auto-lock must be 1 to 1440 minutes".into(),
            ));
        }
        self.contents.auto_lock_minutes = minutes;
        Ok(())
    }

    pub(crate) fn empty() -> Vault {
        Vault {
            contents: Contents::default(),
        }
    }

    fn open_parsed(parsed: &Parsed<'_>, key: &VaultKey) -> Result<Vault, CoreError> {
        let plaintext = seal::open_blob(parsed, key)?;
        Ok(Vault {
            contents: Contents::from_json(&plaintext)?,
        })
    }
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vault")
            .field("credentials", &self.contents.credentials)
            .field("auto_lock_minutes", &self.contents.auto_lock_minutes)
            .finish()
    }
}

fn parse_vault(sealed: &[u8]) -> Result<Parsed<'_>, CoreError> {
    let parsed = format::parse(sealed)?;
    if parsed.header.kind != SealedKind::Vault {
        return Err(CoreError::VaultCorrupted);
    }
    Ok(parsed)
}

fn derive_new_key(
    password: &SecretString,
    params: &KdfParams,
    rng: &mut dyn RandomSource,
) -> Result<VaultKey, CoreError> {
    let salt = make_bytes::<SALT_LEN>(rng)?;
    derive_vault_key(password, params, &salt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;
    use crate::secret::{secret_string, ExposeSecret};
    use testutil::SMALL;

    const PW: &str = "unit test password 1";

    fn pw(s: &str) -> SecretString {
        secret_string(s.into())
    }

    fn sample() -> (Vault, VaultKey, Vec<u8>) {
        let mut rng = TestRandom(100);
        let (mut v, key, _) = Vault::create(&pw(PW), &SMALL, &mut rng).expect("create");
        let new = NewCredential {
            provider: "openai".into(),
            label: "Work".into(),
            secret: pw("sk-proj-TOPSECRET-abcd"),
            base_url: None,
        };
        v.add_credential(new, 1_000, &mut rng).expect("add");
        v.set_auto_lock_minutes(45).expect("minutes");
        let sealed = v.seal(&key, &mut rng).expect("seal");
        (v, key, sealed)
    }

    #[test]
    fn create_unlock_open_round_trip() {
        let (v, key, sealed) = sample();
        let (u, key2) = Vault::unlock(&sealed, &pw(PW)).expect("unlock");
        assert_eq!(u.credentials(), v.credentials());
        assert_eq!(u.auto_lock_minutes(), 45);
        assert_eq!(key2.aead_key(), key.aead_key());
        let o = Vault::open(&sealed, &key).expect("open");
        assert_eq!(o.credentials(), v.credentials());
        assert!(key.opens(&sealed));
    }

    #[test]
    fn wrong_password_and_policy() {
        let (_, _, sealed) = sample();
        assert_eq!(
            Vault::unlock(&sealed, &pw("not it at all")).err(),
            Some(CoreError::WrongPassword)
        );
        let weak = Vault::create(&pw("password1"), &SMALL, &mut TestRandom(1));
        assert!(matches!(weak, Err(CoreError::WeakPassword(_))));
    }

    #[test]
    fn change_password_switches_keys() {
        let (v, old_key, sealed) = sample();
        let mut rng = TestRandom(900);
        let bad = v.change_password(
            &sealed,
            &pw("wrong password!"),
            &pw("new secret words"),
            &SMALL,
            &mut rng,
        );
        assert_eq!(bad.err(), Some(CoreError::WrongPassword));
        let weak = v.change_password(&sealed, &pw(PW), &pw("qwerty"), &SMALL, &mut rng);
        assert!(matches!(weak, Err(CoreError::WeakPassword(_))));

        let (new_key, new_sealed) = v
            .change_password(&sealed, &pw(PW), &pw("new secret words"), &SMALL, &mut rng)
            .expect("change");
        assert_ne!(new_key.salt(), old_key.salt());
        assert!(
            !old_key.opens(&new_sealed),
            "a stale session key reads as locked"
        );
        assert_eq!(
            Vault::unlock(&new_sealed, &pw(PW)).err(),
            Some(CoreError::WrongPassword)
        );
        let (n, _) = Vault::unlock(&new_sealed, &pw("new secret words")).expect("unlock new");
        assert_eq!(n.credentials(), v.credentials());
    }

    #[test]
    fn auto_lock_bounds() {
        let mut v = Vault::empty();
        assert_eq!(v.auto_lock_minutes(), 15);
        for bad in [0, 1441] {
            assert!(matches!(
                v.set_auto_lock_minutes(bad),
                Err(CoreError::InvalidInput(_))
            ));
        }
        v.set_auto_lock_minutes(1440).expect("max");
        assert_eq!(v.auto_lock_minutes(), 1440);
    }

    #[test]
    fn debug_output_has_no_secrets() {
        let (v, key, _) = sample();
        let id = &v.credentials()[0].id;
        // EXPOSE: the test needs the value to prove it is absent from Debug.
        let secret = v
            .credential(id)
            .expect("c")
            .secret()
            .expose_secret()
            .to_string();
        for shown in [
            format!("{v:?}"),
            format!("{key:?}"),
            format!("{:?}", v.credential(id)),
        ] {
            assert!(
                !shown.contains(&secret) && !shown.contains("TOPSECRET"),
                "{shown}"
            );
        }
    }
}

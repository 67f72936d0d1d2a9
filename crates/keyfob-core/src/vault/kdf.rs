//! Password → vault key: Argon2id (RFC 9106, version 0x13) with the parameters stored in
//! the sealed header.
//!
//! Invariants held here:
//! - Parameters read from a header are bounded by [`KdfParams::MAX`] before anything is
//!   allocated, so a crafted blob cannot make us allocate 4 GiB.
//! - The derived key lives only in a [`KeyBytes`] (`SecretBox`, zeroized on drop, redacted
//!   `Debug`); the password is exposed once, to Argon2.
//! - A [`VaultKey`] remembers the salt and parameters of the vault it opens, so sealing
//!   again writes the same header and a stale key can be told apart from a damaged vault.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use ring::hmac;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::secret::{ExposeSecret, KeyBytes, SecretString};
use crate::CoreError;

/// Length of the per-vault random salt, in bytes.
pub const SALT_LEN: usize = 16;
/// Length of the key check stored in the header, in bytes.
pub const KEY_CHECK_LEN: usize = 16;

const KEY_CHECK_LABEL: &[u8] = b"keyfob key check v1";
const SESSION_VERSION: u8 = 1;
const SESSION_LEN: usize = 1 + 32 + SALT_LEN + 12;

/// Argon2id cost parameters, as stored in a sealed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfParams {
    /// Memory in KiB (Argon2 `m`).
    pub memory_kib: u32,
    /// Passes over memory (Argon2 `t`).
    pub iterations: u32,
    /// Lanes (Argon2 `p`).
    pub parallelism: u32,
}

impl KdfParams {
    /// What new vaults use: 64 MiB, 3 passes, 1 lane (about 150 ms in a service worker).
    pub const DEFAULT: Self = Self {
        memory_kib: 65_536,
        iterations: 3,
        parallelism: 1,
    };

    /// The most a header may ask for; anything above is treated as corruption.
    pub const MAX: Self = Self {
        memory_kib: 262_144,
        iterations: 16,
        parallelism: 4,
    };

    /// Whether these parameters are within [`KdfParams::MAX`] and above Argon2's floor
    /// (at least one pass and lane, at least 8 KiB of memory per lane).
    pub fn is_acceptable(&self) -> bool {
        let max = Self::MAX;
        (1..=max.parallelism).contains(&self.parallelism)
            && (1..=max.iterations).contains(&self.iterations)
            && self.memory_kib <= max.memory_kib
            && self.memory_kib >= 8 * self.parallelism
    }
}

/// The key that opens one vault: 32 secret bytes plus the (public) salt and parameters
/// of the vault it was derived for.
pub struct VaultKey {
    key: KeyBytes,
    salt: [u8; SALT_LEN],
    params: KdfParams,
}

impl VaultKey {
    /// The salt of the vault this key opens.
    pub fn salt(&self) -> &[u8; SALT_LEN] {
        &self.salt
    }

    /// The KDF parameters of the vault this key opens (written again on every seal).
    pub fn params(&self) -> &KdfParams {
        &self.params
    }

    /// Serialises the key for `chrome.storage.session` (a browser restart clears it):
    /// `version 1 | key (32) | salt (16) | memory, iterations, parallelism (u32 LE)`.
    pub fn to_session_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(SESSION_LEN));
        out.push(SESSION_VERSION);
        // EXPOSE: the session copy of the key, kept only in trusted-context session storage
        // so a service-worker restart stays unlocked; the buffer is zeroized on drop.
        out.extend_from_slice(self.key.expose_secret());
        out.extend_from_slice(&self.salt);
        for v in [
            self.params.memory_kib,
            self.params.iterations,
            self.params.parallelism,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out
    }

    /// Reads what [`VaultKey::to_session_bytes`] wrote. Anything else is
    /// [`CoreError::WalletLocked`]: a missing or damaged session key just means "locked".
    pub fn from_session_bytes(b: &[u8]) -> Result<VaultKey, CoreError> {
        if b.len() != SESSION_LEN || b[0] != SESSION_VERSION {
            return Err(CoreError::WalletLocked);
        }
        let word = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let params = KdfParams {
            memory_kib: word(49),
            iterations: word(53),
            parallelism: word(57),
        };
        if !params.is_acceptable() {
            return Err(CoreError::WalletLocked);
        }
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&b[33..49]);
        let key = KeyBytes::init_with_mut(|k| k.copy_from_slice(&b[1..33]));
        Ok(VaultKey { key, salt, params })
    }

    /// Cheap check (no KDF, no decryption): is `sealed` a vault with this key's salt and
    /// key check? `false` after a password change means "locked", not "corrupted".
    pub fn opens(&self, sealed: &[u8]) -> bool {
        match super::format::parse(sealed) {
            Ok(p) => {
                p.header.kind == super::SealedKind::Vault
                    && p.header.salt == self.salt
                    && self.check_matches(&p.header.key_check)
            }
            Err(_) => false,
        }
    }

    /// First 16 bytes of HMAC-SHA-256(key, "keyfob key check v1").
    pub(crate) fn key_check(&self) -> [u8; KEY_CHECK_LEN] {
        // EXPOSE: keys HMAC-SHA-256 for the (public) key check; ring keeps only its HMAC state.
        let mac_key = hmac::Key::new(hmac::HMAC_SHA256, self.key.expose_secret());
        let tag = hmac::sign(&mac_key, KEY_CHECK_LABEL);
        let mut out = [0u8; KEY_CHECK_LEN];
        out.copy_from_slice(&tag.as_ref()[..KEY_CHECK_LEN]);
        out
    }

    /// Constant-time comparison of a stored key check with this key's.
    pub(crate) fn check_matches(&self, stored: &[u8; KEY_CHECK_LEN]) -> bool {
        let mine = self.key_check();
        mine.iter()
            .zip(stored)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }

    /// The raw AES-256 key, for the AEAD in `seal.rs` only.
    pub(crate) fn aead_key(&self) -> &[u8; 32] {
        // EXPOSE: handed straight to ring's AES-256-GCM key schedule.
        self.key.expose_secret()
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VaultKey")
            .field("key", &"[REDACTED]")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

/// Derives the vault key from the master password with Argon2id v0x13.
///
/// `salt` must be [`SALT_LEN`] bytes and `params` within [`KdfParams::MAX`]; otherwise
/// [`CoreError::InvalidInput`].
pub fn derive_vault_key(
    password: &SecretString,
    params: &KdfParams,
    salt: &[u8],
) -> Result<VaultKey, CoreError> {
    let salt: [u8; SALT_LEN] = salt
        .try_into()
        .map_err(|_| CoreError::InvalidInput(format!("the salt must be {SALT_LEN} bytes")))?;
    if !params.is_acceptable() {
        return Err(CoreError::InvalidInput(
            "key derivation parameters out of range".into(),
        ));
    }
    let mut result = Ok(());
    let key = KeyBytes::init_with_mut(|k| {
        // EXPOSE: the password goes to Argon2 and nowhere else.
        result = argon2id_into(password.expose_secret().as_bytes(), &salt, params, k);
    });
    result?;
    Ok(VaultKey {
        key,
        salt,
        params: *params,
    })
}

/// Plain Argon2id v0x13 (no secret, no associated data) into `out`. Shared by
/// [`derive_vault_key`] and the known-answer tests, which use 8-byte salts.
pub(crate) fn argon2id_into(
    password: &[u8],
    salt: &[u8],
    params: &KdfParams,
    out: &mut [u8],
) -> Result<(), CoreError> {
    let p = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(out.len()),
    )
    .map_err(|_| CoreError::InvalidInput("key derivation parameters out of range".into()))?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, p)
        .hash_password_into(password, salt, out)
        .map_err(|_| CoreError::Internal("key derivation failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::secret_string;
    use crate::vault::testutil::{hex, kat_blocks, SMALL};

    const ARGON2_KAT: &str = include_str!("../../tests/data/argon2id_kat.txt");

    #[test]
    fn reference_vectors_through_our_wrapper() {
        let mut ran = 0;
        for v in kat_blocks(ARGON2_KAT) {
            if v.has("secret_hex") || v.has("ad_hex") {
                continue; // RFC 9106 §5.3 needs a secret and AD: tests/kat.rs covers it.
            }
            let params = KdfParams {
                memory_kib: v.num("memory_kib"),
                iterations: v.num("iterations"),
                parallelism: v.num("parallelism"),
            };
            let want = v.bytes("tag_hex");
            let mut out = vec![0u8; want.len()];
            argon2id_into(&v.bytes("password"), &v.bytes("salt"), &params, &mut out)
                .expect("derive");
            assert_eq!(hex(&out), hex(&want), "{}", v.name());
            ran += 1;
        }
        assert!(
            ran >= 3,
            "expected the phc-winner-argon2 vectors, ran {ran}"
        );
    }

    #[test]
    fn caps_and_floors() {
        assert!(KdfParams::DEFAULT.is_acceptable());
        assert!(KdfParams::MAX.is_acceptable());
        let bad = [
            KdfParams {
                memory_kib: 262_145,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                memory_kib: 4 * 1024 * 1024,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                iterations: 17,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                iterations: 0,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                parallelism: 5,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                parallelism: 0,
                ..KdfParams::DEFAULT
            },
            KdfParams {
                memory_kib: 31,
                iterations: 1,
                parallelism: 4,
            },
        ];
        for p in bad {
            assert!(!p.is_acceptable(), "{p:?}");
            let err = derive_vault_key(&secret_string("x".into()), &p, &[0; 16]);
            assert!(matches!(err, Err(CoreError::InvalidInput(_))), "{p:?}");
        }
    }

    #[test]
    fn salt_must_be_sixteen_bytes() {
        let err =
            derive_vault_key(&secret_string("pw".into()), &SMALL, &[0; 8]).expect_err("must fail");
        assert!(matches!(err, CoreError::InvalidInput(_)));
    }

    #[test]
    fn session_bytes_round_trip_and_reject_garbage() {
        let key = derive_vault_key(&secret_string("pw".into()), &SMALL, &[7; 16]).expect("key");
        let bytes = key.to_session_bytes();
        assert_eq!(bytes.len(), SESSION_LEN);
        let back = VaultKey::from_session_bytes(&bytes).expect("round trip");
        assert_eq!(back.aead_key(), key.aead_key());
        assert_eq!(back.salt(), key.salt());
        assert_eq!(back.params(), key.params());

        assert_eq!(
            VaultKey::from_session_bytes(&bytes[1..]).expect_err("must fail"),
            CoreError::WalletLocked
        );
        let mut wrong_version = bytes.to_vec();
        wrong_version[0] = 2;
        assert!(VaultKey::from_session_bytes(&wrong_version).is_err());
        let mut huge = bytes.to_vec();
        huge[49..53].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(VaultKey::from_session_bytes(&huge).is_err());
    }

    #[test]
    fn key_check_depends_on_the_key() {
        let a = derive_vault_key(&secret_string("one".into()), &SMALL, &[1; 16]).expect("a");
        let b = derive_vault_key(&secret_string("two".into()), &SMALL, &[1; 16]).expect("b");
        assert_ne!(a.key_check(), b.key_check());
        assert!(a.check_matches(&a.key_check()));
        assert!(!a.check_matches(&b.key_check()));
    }

    #[test]
    fn debug_is_redacted() {
        let key = derive_vault_key(&secret_string("pw".into()), &SMALL, &[3; 16]).expect("key");
        let shown = format!("{key:?}");
        let raw = hex(key.aead_key());
        assert!(
            !shown.contains(&raw) && shown.contains("REDACTED"),
            "{shown}"
        );
        assert!(!shown.contains(&format!("{:?}", key.aead_key())), "{shown}");
    }
}

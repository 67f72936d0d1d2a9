//! The sealed header: encoding, decoding, and the checks a hostile blob must pass before
//! any memory is allocated for it.
//!
//! ```text
//! offset len  field
//!  0      4   magic "KFOB"
//!  4      1   format version (1)
//!  5      1   kind: 1 = vault, 2 = backup
//!  6      1   kdf id: 1 = Argon2id v0x13
//!  7      4   memory_kib   u32 LE
//! 11      4   iterations   u32 LE
//! 15      4   parallelism  u32 LE
//! 19     16   salt
//! 35     16   key check: HMAC-SHA-256(vault key, "keyfob key check v1")[..16]
//! 51     12   AES-256-GCM nonce (fresh from the RandomSource on every seal)
//! 63      …   ciphertext, then the 16-byte GCM tag
//! ```
//! All 63 header bytes, nonce included, are the AEAD's associated data.
//!
//! Decoding order: magic, then version (a higher one is [`CoreError::VaultVersionUnsupported`],
//! since a later format may have another layout), then length, kind, kdf id and
//! parameter caps; each failure is [`CoreError::VaultCorrupted`].

use serde::Serialize;

use super::kdf::{KdfParams, KEY_CHECK_LEN, SALT_LEN};
use crate::CoreError;

/// First four bytes of every sealed Keyfob blob.
pub const MAGIC: &[u8; 4] = b"KFOB";
/// The format version this build writes and the highest it reads.
pub const FORMAT_VERSION: u8 = 1;
/// Header length in bytes (the AEAD associated data).
pub const HEADER_LEN: usize = 63;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = 12;
/// AES-GCM tag length.
pub const TAG_LEN: usize = 16;

const KDF_ARGON2ID_V13: u8 = 1;

/// What a sealed blob holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SealedKind {
    /// The wallet itself, in `chrome.storage.local`.
    Vault,
    /// An exported backup with its own password.
    Backup,
    /// Other data sealed under the vault key (the audit log), see [`super::seal_record`].
    Record,
}

impl SealedKind {
    fn byte(self) -> u8 {
        match self {
            Self::Vault => 1,
            Self::Backup => 2,
            Self::Record => 3,
        }
    }

    fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Vault),
            2 => Some(Self::Backup),
            3 => Some(Self::Record),
            _ => None,
        }
    }
}

/// What [`inspect`] reports about a sealed blob, for diagnostics. Holds nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HeaderInfo {
    /// The format version byte.
    pub format_version: u8,
    /// Vault or backup.
    pub kind: SealedKind,
    /// The Argon2id parameters needed to open it.
    pub kdf: KdfParams,
}

/// A decoded header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Header {
    pub kind: SealedKind,
    pub kdf: KdfParams,
    pub salt: [u8; SALT_LEN],
    pub key_check: [u8; KEY_CHECK_LEN],
    pub nonce: [u8; NONCE_LEN],
}

/// A sealed blob split into its header, the header's raw bytes (the AAD) and the
/// ciphertext with its tag.
pub(crate) struct Parsed<'a> {
    pub header: Header,
    pub aad: &'a [u8],
    pub body: &'a [u8],
}

impl Header {
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0..4].copy_from_slice(MAGIC);
        out[4] = FORMAT_VERSION;
        out[5] = self.kind.byte();
        out[6] = KDF_ARGON2ID_V13;
        out[7..11].copy_from_slice(&self.kdf.memory_kib.to_le_bytes());
        out[11..15].copy_from_slice(&self.kdf.iterations.to_le_bytes());
        out[15..19].copy_from_slice(&self.kdf.parallelism.to_le_bytes());
        out[19..35].copy_from_slice(&self.salt);
        out[35..51].copy_from_slice(&self.key_check);
        out[51..63].copy_from_slice(&self.nonce);
        out
    }
}

/// Splits and validates a sealed blob without decrypting or allocating.
pub(crate) fn parse(sealed: &[u8]) -> Result<Parsed<'_>, CoreError> {
    if sealed.len() < 5 || &sealed[0..4] != MAGIC {
        return Err(CoreError::VaultCorrupted);
    }
    match sealed[4] {
        FORMAT_VERSION => {}
        v if v > FORMAT_VERSION => return Err(CoreError::VaultVersionUnsupported),
        _ => return Err(CoreError::VaultCorrupted),
    }
    if sealed.len() < HEADER_LEN + TAG_LEN {
        return Err(CoreError::VaultCorrupted);
    }
    let (aad, body) = sealed.split_at(HEADER_LEN);
    let kind = SealedKind::from_byte(aad[5]).ok_or(CoreError::VaultCorrupted)?;
    if aad[6] != KDF_ARGON2ID_V13 {
        return Err(CoreError::VaultCorrupted);
    }
    let word = |at: usize| u32::from_le_bytes([aad[at], aad[at + 1], aad[at + 2], aad[at + 3]]);
    let kdf = KdfParams {
        memory_kib: word(7),
        iterations: word(11),
        parallelism: word(15),
    };
    if !kdf.is_acceptable() {
        return Err(CoreError::VaultCorrupted);
    }
    let mut header = Header {
        kind,
        kdf,
        salt: [0; SALT_LEN],
        key_check: [0; KEY_CHECK_LEN],
        nonce: [0; NONCE_LEN],
    };
    header.salt.copy_from_slice(&aad[19..35]);
    header.key_check.copy_from_slice(&aad[35..51]);
    header.nonce.copy_from_slice(&aad[51..63]);
    Ok(Parsed { header, aad, body })
}

/// Reads the header of a sealed vault or backup, for diagnostics. No password needed.
pub fn inspect(sealed: &[u8]) -> Result<HeaderInfo, CoreError> {
    let p = parse(sealed)?;
    Ok(HeaderInfo {
        format_version: FORMAT_VERSION,
        kind: p.header.kind,
        kdf: p.header.kdf,
    })
}

/// Whether a sealed blob is a vault or a backup.
pub fn sealed_kind(sealed: &[u8]) -> Result<SealedKind, CoreError> {
    Ok(parse(sealed)?.header.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Header {
        Header {
            kind: SealedKind::Vault,
            kdf: KdfParams {
                memory_kib: 256,
                iterations: 1,
                parallelism: 1,
            },
            salt: [0x5a; SALT_LEN],
            key_check: [0xc3; KEY_CHECK_LEN],
            nonce: [0x11; NONCE_LEN],
        }
    }

    fn blob(header: &Header) -> Vec<u8> {
        let mut v = header.encode().to_vec();
        v.extend_from_slice(&[0u8; TAG_LEN]);
        v
    }

    #[test]
    fn layout_matches_the_documented_offsets() {
        let bytes = sample().encode();
        assert_eq!(&bytes[0..7], b"KFOB\x01\x01\x01");
        assert_eq!(&bytes[7..11], &[0, 1, 0, 0]);
        assert_eq!(bytes[19], 0x5a);
        assert_eq!(bytes[35], 0xc3);
        assert_eq!(bytes[51], 0x11);
    }

    #[test]
    fn rejects_bad_magic_truncation_and_unknown_ids() {
        let good = blob(&sample());
        assert!(parse(&good).is_ok());
        assert_eq!(
            parse(&good[..HEADER_LEN + TAG_LEN - 1]).err(),
            Some(CoreError::VaultCorrupted)
        );
        assert_eq!(parse(b"").err(), Some(CoreError::VaultCorrupted));
        for (at, value) in [(0, b'k'), (4, 0), (5, 0), (5, 4), (6, 2)] {
            let mut b = good.clone();
            b[at] = value;
            assert_eq!(
                parse(&b).err(),
                Some(CoreError::VaultCorrupted),
                "byte {at} = {value}"
            );
        }
    }

    #[test]
    fn higher_version_is_unsupported_even_when_short() {
        assert_eq!(
            parse(b"KFOB\x02").err(),
            Some(CoreError::VaultVersionUnsupported)
        );
    }

    #[test]
    fn params_above_caps_are_corrupted() {
        for kdf in [
            KdfParams {
                memory_kib: 4 * 1024 * 1024,
                iterations: 1,
                parallelism: 1,
            },
            KdfParams {
                memory_kib: 256,
                iterations: 1_000_000,
                parallelism: 1,
            },
            KdfParams {
                memory_kib: 256,
                iterations: 1,
                parallelism: 255,
            },
            KdfParams {
                memory_kib: 7,
                iterations: 1,
                parallelism: 1,
            },
        ] {
            let b = blob(&Header { kdf, ..sample() });
            assert_eq!(parse(&b).err(), Some(CoreError::VaultCorrupted), "{kdf:?}");
        }
    }

    #[test]
    fn inspect_reports_kind_and_params() {
        let info = inspect(&blob(&Header {
            kind: SealedKind::Backup,
            ..sample()
        }))
        .expect("ok");
        assert_eq!(info.kind, SealedKind::Backup);
        assert_eq!(info.kdf.memory_kib, 256);
        let json = serde_json::to_string(&info).expect("json");
        assert!(
            json.contains("\"kind\":\"backup\"") && json.contains("memoryKib"),
            "{json}"
        );
    }

    proptest! {
        #[test]
        fn header_round_trips(
            backup in any::<bool>(),
            parallelism in 1u32..=4,
            iterations in 1u32..=16,
            extra in 0u32..=262_144,
            salt in any::<[u8; 16]>(),
            key_check in any::<[u8; 16]>(),
            nonce in any::<[u8; 12]>(),
            body in proptest::collection::vec(any::<u8>(), TAG_LEN..200),
        ) {
            let memory_kib = (8 * parallelism).max(extra);
            let kind = if backup { SealedKind::Backup } else { SealedKind::Vault };
            let h = Header {
                kind,
                kdf: KdfParams { memory_kib, iterations, parallelism },
                salt,
                key_check,
                nonce,
            };
            let mut bytes = h.encode().to_vec();
            bytes.extend_from_slice(&body);
            let p = parse(&bytes).expect("parse");
            prop_assert_eq!(&p.header, &h);
            prop_assert_eq!(p.aad, &h.encode()[..]);
            prop_assert_eq!(p.body, &body[..]);
        }
    }
}

//! Other data sealed under the vault key — the audit log, whose app-given reasons and
//! contexts may be private. Same format as the vault (kind `Record`), a fresh random
//! nonce on every write, the header bound as associated data; it opens only with the key
//! of the vault that sealed it, so a password change must re-seal it.

use super::format::{self, SealedKind};
use super::kdf::VaultKey;
use super::seal;
use crate::random::RandomSource;
use crate::CoreError;
use zeroize::Zeroizing;

/// Seals `plaintext` under the vault key.
pub fn seal_record(
    key: &VaultKey,
    plaintext: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>, CoreError> {
    seal::seal_blob(SealedKind::Record, key, plaintext, rng)
}

/// Opens a sealed record. Another vault's key is `WrongPassword`; a damaged record, or
/// a vault or backup passed as one, is `VaultCorrupted`.
pub fn open_record(sealed: &[u8], key: &VaultKey) -> Result<Zeroizing<Vec<u8>>, CoreError> {
    let parsed = format::parse(sealed)?;
    if parsed.header.kind != SealedKind::Record {
        return Err(CoreError::VaultCorrupted);
    }
    seal::open_blob(&parsed, key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;
    use crate::secret::secret_string;
    use crate::vault::{derive_vault_key, KdfParams, Vault};

    const SMALL: KdfParams = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn key(seed: u8) -> VaultKey {
        derive_vault_key(
            &secret_string("a record test password".into()),
            &SMALL,
            &[seed; 16],
        )
        .expect("derive")
    }

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let k = key(1);
        let mut rng = TestRandom(7);
        let a = seal_record(&k, b"{\"audit\":1}", &mut rng).expect("seal");
        let b = seal_record(&k, b"{\"audit\":1}", &mut rng).expect("seal");
        assert_ne!(
            a, b,
            "same plaintext, same ciphertext: the nonce was reused"
        );
        assert_eq!(
            open_record(&a, &k).expect("open").as_slice(),
            b"{\"audit\":1}"
        );
        assert!(
            !a.windows(9).any(|w| w == b"\"audit\":1"),
            "plaintext visible"
        );
    }

    #[test]
    fn fail_other_key_tampering_and_other_kinds() {
        let k = key(1);
        let sealed = seal_record(&k, b"private reason", &mut TestRandom(1)).expect("seal");
        assert_eq!(open_record(&sealed, &key(2)), Err(CoreError::WrongPassword));
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(
                open_record(&bad, &k).is_err(),
                "flipping byte {i} still opened"
            );
        }
        let password = secret_string("a long enough passphrase".into());
        let (_, vkey, vault) =
            Vault::create(&password, &SMALL, &mut TestRandom(3)).expect("create");
        assert_eq!(open_record(&vault, &vkey), Err(CoreError::VaultCorrupted));
    }
}

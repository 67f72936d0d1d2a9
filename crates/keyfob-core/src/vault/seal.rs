//! AES-256-GCM (ring) over a plaintext, with the whole header as associated data.
//!
//! - Every seal takes a fresh 96-bit nonce from the caller's [`RandomSource`]; a nonce is
//!   never derived, counted or reused.
//! - Opening checks the salt and key check first (so a wrong password or a stale key is
//!   [`CoreError::WrongPassword`]), then the GCM tag (a failure there is
//!   [`CoreError::VaultCorrupted`]: the key was right, the bytes were changed).
//! - Plaintext is decrypted in place inside a `Zeroizing` buffer.

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM};
use zeroize::{Zeroize, Zeroizing};

use super::format::{Header, Parsed, SealedKind, HEADER_LEN, NONCE_LEN, TAG_LEN};
use super::kdf::VaultKey;
use crate::random::{make_bytes, RandomSource};
use crate::CoreError;

/// Encrypts `in_out` in place and returns the tag.
pub(crate) fn aead_seal_in_place(
    key: &[u8; 32],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    in_out: &mut [u8],
) -> Result<[u8; TAG_LEN], CoreError> {
    let tag = aes_key(key)?
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
        .map_err(|_| CoreError::Internal("encryption failed".into()))?;
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(tag.as_ref());
    Ok(out)
}

/// Decrypts `ciphertext || tag` in place; returns the plaintext part of `in_out`.
/// Any failure is [`CoreError::VaultCorrupted`] (ring says nothing more, by design).
pub(crate) fn aead_open_in_place<'a>(
    key: &[u8; 32],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    in_out: &'a mut [u8],
) -> Result<&'a mut [u8], CoreError> {
    aes_key(key)?
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), in_out)
        .map_err(|_| CoreError::VaultCorrupted)
}

fn aes_key(key: &[u8; 32]) -> Result<LessSafeKey, CoreError> {
    let unbound = UnboundKey::new(&AES_256_GCM, key)
        .map_err(|_| CoreError::Internal("AES key setup failed".into()))?;
    Ok(LessSafeKey::new(unbound))
}

/// Builds a complete sealed blob: header (with a fresh nonce) followed by
/// `AES-256-GCM(key, nonce, aad = header, plaintext)`.
pub(crate) fn seal_blob(
    kind: SealedKind,
    key: &VaultKey,
    plaintext: &[u8],
    rng: &mut dyn RandomSource,
) -> Result<Vec<u8>, CoreError> {
    let nonce = make_bytes::<NONCE_LEN>(rng)?;
    let header = Header {
        kind,
        kdf: *key.params(),
        salt: *key.salt(),
        key_check: key.key_check(),
        nonce,
    }
    .encode();
    // Exact capacity: the plaintext is copied in once and never left behind by a realloc.
    let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&header);
    out.extend_from_slice(plaintext);
    match aead_seal_in_place(key.aead_key(), nonce, &header, &mut out[HEADER_LEN..]) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(out)
        }
        Err(e) => {
            out.zeroize();
            Err(e)
        }
    }
}

/// Opens a parsed blob with `key`: wrong salt or key check → WrongPassword, bad tag →
/// VaultCorrupted. The caller has already checked the kind.
pub(crate) fn open_blob(
    parsed: &Parsed<'_>,
    key: &VaultKey,
) -> Result<Zeroizing<Vec<u8>>, CoreError> {
    if parsed.header.salt != *key.salt() || !key.check_matches(&parsed.header.key_check) {
        return Err(CoreError::WrongPassword);
    }
    let mut buf = Zeroizing::new(parsed.body.to_vec());
    let len = aead_open_in_place(key.aead_key(), parsed.header.nonce, parsed.aad, &mut buf)?.len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;
    use crate::secret::secret_string;
    use crate::vault::format::parse;
    use crate::vault::kdf::derive_vault_key;
    use crate::vault::testutil::{hex, kat_blocks, SMALL};

    const GCM_KAT: &str = include_str!("../../tests/data/aes256gcm_kat.txt");

    #[test]
    fn gcm_known_answers() {
        let mut ran = 0;
        for v in kat_blocks(GCM_KAT) {
            let key: [u8; 32] = v.bytes("key_hex").try_into().expect("32-byte key");
            let nonce: [u8; 12] = v.bytes("iv_hex").try_into().expect("96-bit IV");
            let (aad, pt) = (v.bytes("aad_hex"), v.bytes("pt_hex"));
            let (ct, tag) = (v.bytes("ct_hex"), v.bytes("tag_hex"));
            let mut sealed = ct.clone();
            sealed.extend_from_slice(&tag);
            if v.name().starts_with("fail_") {
                let opened = aead_open_in_place(&key, nonce, &aad, &mut sealed);
                assert_eq!(
                    opened.err(),
                    Some(CoreError::VaultCorrupted),
                    "{}",
                    v.name()
                );
                ran += 1;
                continue;
            }
            let mut buf = pt.clone();
            let got_tag = aead_seal_in_place(&key, nonce, &aad, &mut buf).expect("seal");
            assert_eq!(hex(&buf), hex(&ct), "{} ciphertext", v.name());
            assert_eq!(hex(&got_tag), hex(&tag), "{} tag", v.name());
            let opened = aead_open_in_place(&key, nonce, &aad, &mut sealed).expect("open");
            assert_eq!(hex(opened), hex(&pt), "{} plaintext", v.name());
            ran += 1;
        }
        assert!(ran >= 5, "ran {ran} vectors");
    }

    #[test]
    fn blob_round_trip_and_error_split() {
        let key = derive_vault_key(&secret_string("pw".into()), &SMALL, &[9; 16]).expect("key");
        let mut rng = TestRandom(1);
        let sealed = seal_blob(SealedKind::Vault, &key, b"{\"v\":1}", &mut rng).expect("seal");
        assert_eq!(sealed.len(), HEADER_LEN + 7 + TAG_LEN);
        let opened = open_blob(&parse(&sealed).expect("parse"), &key).expect("open");
        assert_eq!(&opened[..], b"{\"v\":1}");

        let other = derive_vault_key(&secret_string("no".into()), &SMALL, &[9; 16]).expect("k");
        let parsed = parse(&sealed).expect("parse");
        assert_eq!(
            open_blob(&parsed, &other).err(),
            Some(CoreError::WrongPassword)
        );

        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        let parsed = parse(&tampered).expect("parse");
        assert_eq!(
            open_blob(&parsed, &key).err(),
            Some(CoreError::VaultCorrupted)
        );
    }

    #[test]
    fn fresh_nonce_each_seal() {
        let key = derive_vault_key(&secret_string("pw".into()), &SMALL, &[2; 16]).expect("key");
        let mut rng = TestRandom(40);
        let a = seal_blob(SealedKind::Vault, &key, b"same", &mut rng).expect("a");
        let b = seal_blob(SealedKind::Vault, &key, b"same", &mut rng).expect("b");
        assert_ne!(a[51..63], b[51..63]);
        assert_ne!(a[HEADER_LEN..], b[HEADER_LEN..]);
    }
}

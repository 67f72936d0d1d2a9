//! Properties of sealed vaults through the public API: tampering anywhere fails, nonces
//! never repeat, the session key survives a service-worker restart and goes stale after a
//! password change, randomness failures surface, and the production parameters work.

mod common;

use std::collections::HashSet;

use common::{SystemRng, SMALL};
use keyfob_core::random::RandomSource;
use keyfob_core::secret::{secret_string, SecretString};
use keyfob_core::vault::{format, inspect, KdfParams, NewCredential, Vault, VaultKey};
use keyfob_core::CoreError;

const PW: &str = "integration test pw 7";

fn pw(s: &str) -> SecretString {
    secret_string(s.into())
}

fn sample() -> (Vault, VaultKey, Vec<u8>) {
    let mut rng = SystemRng::new();
    let (mut vault, key, _) = Vault::create(&pw(PW), &SMALL, &mut rng).expect("create");
    for (provider, secret) in [
        ("openai", "sk-proj-PROPERTY-1111"),
        ("anthropic", "sk-ant-PROPERTY-2222"),
    ] {
        let new = NewCredential {
            provider: provider.into(),
            label: format!("{provider} key"),
            secret: pw(secret),
            base_url: None,
        };
        vault.add_credential(new, 1_000, &mut rng).expect("add");
    }
    let sealed = vault.seal(&key, &mut rng).expect("seal");
    (vault, key, sealed)
}

#[test]
fn flipping_any_byte_fails_to_open_with_the_key() {
    let (_, key, sealed) = sample();
    assert!(Vault::open(&sealed, &key).is_ok());
    for i in 0..sealed.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut bad = sealed.clone();
            bad[i] ^= mask;
            let err = Vault::open(&bad, &key).err();
            let expected = match i {
                4 if bad[4] > 1 => CoreError::VaultVersionUnsupported,
                19..=50 => CoreError::WrongPassword, // salt and key check: not this key
                _ => CoreError::VaultCorrupted,
            };
            assert_eq!(err, Some(expected), "byte {i} ^ {mask:#04x}");
        }
    }
}

#[test]
fn flipping_any_header_byte_fails_to_unlock_with_the_password() {
    let (_, _, sealed) = sample();
    for i in 0..format::HEADER_LEN {
        let mut bad = sealed.clone();
        bad[i] ^= 0xff;
        match Vault::unlock(&bad, &pw(PW)) {
            Err(
                CoreError::WrongPassword
                | CoreError::VaultCorrupted
                | CoreError::VaultVersionUnsupported,
            ) => {}
            other => panic!("byte {i}: {:?}", other.map(|_| ())),
        }
    }
}

#[test]
fn nonces_are_unique_across_a_thousand_seals() {
    let (vault, key, _) = sample();
    let mut rng = SystemRng::new();
    let mut nonces = HashSet::new();
    let mut bodies = HashSet::new();
    for _ in 0..1000 {
        let sealed = vault.seal(&key, &mut rng).expect("seal");
        nonces.insert(sealed[51..63].to_vec());
        bodies.insert(sealed[format::HEADER_LEN..].to_vec());
    }
    assert_eq!(nonces.len(), 1000);
    assert_eq!(bodies.len(), 1000);
}

#[test]
fn session_key_survives_a_restart_and_goes_stale_after_a_password_change() {
    let (vault, key, sealed) = sample();
    let stored = key.to_session_bytes();
    let restored = VaultKey::from_session_bytes(&stored).expect("restore");
    assert!(restored.opens(&sealed));
    let reopened = Vault::open(&sealed, &restored).expect("open after restart");
    assert_eq!(reopened.credentials(), vault.credentials());
    // A fresh seal with the restored key is still openable by password.
    let resealed = reopened
        .seal(&restored, &mut SystemRng::new())
        .expect("reseal");
    assert!(Vault::unlock(&resealed, &pw(PW)).is_ok());

    let (_, new_sealed) = vault
        .change_password(
            &sealed,
            &pw(PW),
            &pw("a brand new phrase"),
            &SMALL,
            &mut SystemRng::new(),
        )
        .expect("change");
    assert!(!restored.opens(&new_sealed), "stale key: treat as locked");
    assert_eq!(
        Vault::open(&new_sealed, &restored).err(),
        Some(CoreError::WrongPassword)
    );
    assert!(!restored.opens(b"garbage"));
    assert_eq!(
        VaultKey::from_session_bytes(b"garbage").err(),
        Some(CoreError::WalletLocked)
    );
}

struct BrokenRng;

impl RandomSource for BrokenRng {
    fn fill(&mut self, _dest: &mut [u8]) -> Result<(), CoreError> {
        Err(CoreError::RandomUnavailable)
    }
}

#[test]
fn random_failures_surface() {
    let (mut vault, key, _) = sample();
    assert_eq!(
        Vault::create(&pw(PW), &SMALL, &mut BrokenRng).err(),
        Some(CoreError::RandomUnavailable)
    );
    assert_eq!(
        vault.seal(&key, &mut BrokenRng).err(),
        Some(CoreError::RandomUnavailable)
    );
    let new = NewCredential {
        provider: "openai".into(),
        label: "x".into(),
        secret: pw("sk-xxxxxxxxxxxxxxxx"),
        base_url: None,
    };
    assert_eq!(
        vault.add_credential(new, 1, &mut BrokenRng).err(),
        Some(CoreError::RandomUnavailable)
    );
    assert_eq!(vault.credentials().len(), 2);
}

#[test]
fn default_parameters_create_and_unlock() {
    let mut rng = SystemRng::new();
    let (_, key, sealed) = Vault::create(&pw(PW), &KdfParams::DEFAULT, &mut rng).expect("create");
    assert_eq!(inspect(&sealed).expect("header").kdf, KdfParams::DEFAULT);
    assert_eq!(*key.params(), KdfParams::DEFAULT);
    let (_, again) = Vault::unlock(&sealed, &pw(PW)).expect("unlock");
    assert_eq!(again.to_session_bytes(), key.to_session_bytes());
}

#[test]
fn parameters_outside_the_caps_are_refused_when_creating() {
    let mut rng = SystemRng::new();
    let too_big = KdfParams {
        memory_kib: KdfParams::MAX.memory_kib + 1,
        ..SMALL
    };
    assert!(matches!(
        Vault::create(&pw(PW), &too_big, &mut rng),
        Err(CoreError::InvalidInput(_))
    ));
}

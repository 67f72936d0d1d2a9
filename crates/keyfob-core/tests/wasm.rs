//! The core, compiled for wasm32 and run in headless Chromium: the same code the
//! extension's service worker runs. Native `#[test]`s are skipped on wasm32, so these
//! cover the paths that matter there: Argon2id + AES-GCM sealing, and request planning.
#![cfg(target_arch = "wasm32")]

use keyfob_core::random::RandomSource;
use keyfob_core::request::{plan, PageRequest};
use keyfob_core::secret::secret_string;
use keyfob_core::vault::{KdfParams, NewCredential, Vault};
use keyfob_core::{providers, CoreError};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_service_worker);

/// Deterministic bytes are enough here: these tests check behaviour, not entropy.
struct Counter(u8);

impl RandomSource for Counter {
    fn fill(&mut self, dest: &mut [u8]) -> Result<(), CoreError> {
        for b in dest {
            self.0 = self.0.wrapping_mul(31).wrapping_add(7);
            *b = self.0;
        }
        Ok(())
    }
}

const SMALL: KdfParams = KdfParams {
    memory_kib: 1024,
    iterations: 1,
    parallelism: 1,
};

#[wasm_bindgen_test]
fn vault_seals_and_reopens_on_wasm32() {
    let password = secret_string("a long enough passphrase".into());
    let (mut vault, key, _) = Vault::create(&password, &SMALL, &mut Counter(1)).expect("create");
    let new = NewCredential {
        provider: "openai".into(),
        label: "Work".into(),
        secret: secret_string("sk-wasm-test-0123456789".into()),
        base_url: None,
    };
    vault.add_credential(new, 1, &mut Counter(2)).expect("add");
    let sealed = vault.seal(&key, &mut Counter(3)).expect("seal");

    let (reopened, _) = Vault::unlock(&sealed, &password).expect("unlock");
    assert_eq!(reopened.credentials().len(), 1);
    let wrong = Vault::unlock(&sealed, &secret_string("another long passphrase".into()));
    assert!(matches!(wrong, Err(CoreError::WrongPassword)));

    let mut tampered = sealed.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(Vault::unlock(&tampered, &password).is_err());
}

#[wasm_bindgen_test]
fn request_planning_refuses_look_alike_hosts_on_wasm32() {
    let openai = providers::find("openai").expect("registry has openai");
    let ok = PageRequest {
        method: "POST",
        url: "https://api.openai.com/v1/chat/completions",
        headers: &[],
    };
    assert_eq!(
        plan(openai, None, &ok).expect("plans").url,
        "https://api.openai.com/v1/chat/completions"
    );
    let evil = PageRequest {
        method: "POST",
        url: "https://api.openai.com.evil.test/v1/chat/completions",
        headers: &[],
    };
    assert!(matches!(
        plan(openai, None, &evil),
        Err(CoreError::UrlNotAllowed(_))
    ));
}

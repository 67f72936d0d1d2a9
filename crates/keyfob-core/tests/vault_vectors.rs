//! File vectors for the sealed format (see `tests/data/README.md`):
//! - `vault_v1.kfob` must open, with exactly these contents, in every future version;
//! - every `fail_*.kfob` must fail with its listed error, and each is a documented edit
//!   of `vault_v1.kfob` (checked here, so the files cannot drift from their recipe).
//!
//! Regenerating: `vault_v1.kfob` is written once, never again (the generator refuses to
//! overwrite it). The `fail_` files are rewritten with `KEYFOB_WRITE_FIXTURES=1`.

mod common;

use common::{data_path, read_data, DetRng};
use keyfob_core::secret::{secret_string, ExposeSecret};
use keyfob_core::vault::{inspect, KdfParams, NewCredential, SealedKind, Vault};
use keyfob_core::CoreError;

const FIXTURE_PASSWORD: &str = "keyfob-fixture-v1 password";
const FIXTURE_PARAMS: KdfParams = KdfParams {
    memory_kib: 256,
    iterations: 1,
    parallelism: 1,
};
const WORK_ID: &str = "cred_5da067a2b4be55f6";
const AZURE_ID: &str = "cred_d2731fc460ec3d49";

#[test]
fn vault_v1_opens_with_exact_contents() {
    let sealed = read_data("vault_v1.kfob");
    let info = inspect(&sealed).expect("header");
    assert_eq!(info.format_version, 1);
    assert_eq!(info.kind, SealedKind::Vault);
    assert_eq!(info.kdf, FIXTURE_PARAMS);

    let (vault, key) =
        Vault::unlock(&sealed, &secret_string(FIXTURE_PASSWORD.into())).expect("unlock");
    assert!(key.opens(&sealed));
    assert_eq!(vault.auto_lock_minutes(), 30);
    let list = vault.credentials();
    assert_eq!(list.len(), 2);

    let work = vault.credential(WORK_ID).expect("work credential");
    assert_eq!(work.provider(), "openai");
    assert_eq!(work.label(), "Work");
    // EXPOSE: the fixture's secrets are test data; comparing them is the point.
    assert_eq!(
        work.secret().expose_secret(),
        "sk-proj-FIXTURE-0000000000000000-aaaa"
    );
    assert_eq!(work.base_url(), None);
    assert_eq!(work.created_at_ms(), 1_700_000_000_000);
    assert_eq!(work.updated_at_ms(), 1_700_000_000_000);
    assert_eq!(work.last_used_ms(), Some(1_700_000_100_000));

    let azure = vault.credential(AZURE_ID).expect("azure credential");
    assert_eq!(azure.provider(), "azure-openai");
    assert_eq!(azure.label(), "Azure (team) ✓");
    // EXPOSE: fixture test data.
    assert_eq!(
        azure.secret().expose_secret(),
        "azure-FIXTURE-key-bbbb-0123456789"
    );
    assert_eq!(
        azure.base_url(),
        Some("https://example-resource.openai.azure.com")
    );
    assert_eq!(azure.created_at_ms(), 1_700_000_050_000);
    assert_eq!(azure.updated_at_ms(), 1_700_000_060_000);
    assert_eq!(azure.last_used_ms(), None);

    assert_eq!(list[0].id, WORK_ID, "credentials keep their order");
    assert_eq!(list[0].masked_key, "…aaaa");
    assert_eq!(
        vault.credential_for_provider("openai").map(|c| c.id()),
        Some(WORK_ID)
    );

    let reopened = Vault::open(&sealed, &key).expect("open with key");
    assert_eq!(reopened.credentials(), list);
    let wrong = Vault::unlock(&sealed, &secret_string("keyfob-fixture-v1 passwore".into()));
    assert_eq!(wrong.err(), Some(CoreError::WrongPassword));
}

/// Each `fail_` file: name, how it is made from `vault_v1.kfob`, and the error that
/// `Vault::unlock` with the right password must return.
type Recipe = fn(&mut Vec<u8>);
const FAIL_VECTORS: &[(&str, Recipe, CoreError)] = &[
    ("fail_empty.kfob", |b| b.clear(), CoreError::VaultCorrupted),
    (
        "fail_truncated_header.kfob",
        |b| b.truncate(40),
        CoreError::VaultCorrupted,
    ),
    (
        "fail_truncated_tag.kfob",
        |b| {
            b.pop();
        },
        CoreError::VaultCorrupted,
    ),
    (
        "fail_bad_magic.kfob",
        |b| b[3] = b'X',
        CoreError::VaultCorrupted,
    ),
    (
        "fail_version_2.kfob",
        |b| b[4] = 2,
        CoreError::VaultVersionUnsupported,
    ),
    (
        "fail_unknown_kind.kfob",
        |b| b[5] = 9,
        CoreError::VaultCorrupted,
    ),
    (
        "fail_backup_kind.kfob",
        |b| b[5] = 2,
        CoreError::VaultCorrupted,
    ),
    (
        "fail_unknown_kdf.kfob",
        |b| b[6] = 2,
        CoreError::VaultCorrupted,
    ),
    (
        "fail_memory_4gib.kfob",
        |b| put_u32(b, 7, 4 * 1024 * 1024),
        CoreError::VaultCorrupted,
    ),
    (
        "fail_memory_u32_max.kfob",
        |b| put_u32(b, 7, u32::MAX),
        CoreError::VaultCorrupted,
    ),
    (
        "fail_iterations_1m.kfob",
        |b| put_u32(b, 11, 1_000_000),
        CoreError::VaultCorrupted,
    ),
    (
        "fail_parallelism_0.kfob",
        |b| put_u32(b, 15, 0),
        CoreError::VaultCorrupted,
    ),
    (
        "fail_key_check_flipped.kfob",
        |b| b[35] ^= 0x01,
        CoreError::WrongPassword,
    ),
    (
        "fail_nonce_flipped.kfob",
        |b| b[51] ^= 0x01,
        CoreError::VaultCorrupted,
    ),
    (
        "fail_ciphertext_flipped.kfob",
        |b| b[63] ^= 0x01,
        CoreError::VaultCorrupted,
    ),
    (
        "fail_tag_flipped.kfob",
        |b| {
            let n = b.len() - 1;
            b[n] ^= 0x80
        },
        CoreError::VaultCorrupted,
    ),
];

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn fail_vectors_fail_as_listed() {
    let password = secret_string(FIXTURE_PASSWORD.into());
    for (name, _, expected) in FAIL_VECTORS {
        let bytes = read_data(name);
        // Params above the caps are refused before Argon2 runs: with 1M passes or 4 GiB
        // this test would otherwise hang or abort rather than fail.
        let got = Vault::unlock(&bytes, &password).map(|_| ());
        assert_eq!(got.as_ref().err(), Some(expected), "{name}");
    }
}

#[test]
fn fail_vectors_match_their_recipes_and_are_all_listed() {
    let base = read_data("vault_v1.kfob");
    let write = std::env::var("KEYFOB_WRITE_FIXTURES").as_deref() == Ok("1");
    for (name, recipe, _) in FAIL_VECTORS {
        let mut want = base.clone();
        recipe(&mut want);
        if write {
            std::fs::write(data_path(name), &want).expect("write fixture");
        }
        assert_eq!(read_data(name), want, "{name} no longer matches its recipe");
    }
    let dir = data_path("");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/data")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("fail_") && n.ends_with(".kfob"))
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = FAIL_VECTORS.iter().map(|(n, _, _)| n.to_string()).collect();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "every fail_ file must be listed in FAIL_VECTORS"
    );
}

/// Writes `tests/data/vault_v1.kfob` once. Run with
/// `KEYFOB_WRITE_FIXTURES=1 cargo test -p keyfob-core --test vault_vectors -- --ignored`.
#[test]
#[ignore = "generator: writes the v1 fixture once; never rerun against an existing file"]
fn write_vault_v1_fixture() {
    assert_eq!(
        std::env::var("KEYFOB_WRITE_FIXTURES").as_deref(),
        Ok("1"),
        "set KEYFOB_WRITE_FIXTURES=1"
    );
    let path = data_path("vault_v1.kfob");
    assert!(
        !path.exists(),
        "vault_v1.kfob is frozen: never regenerate it"
    );
    let mut rng = DetRng::new("keyfob vault_v1 fixture");
    let password = secret_string(FIXTURE_PASSWORD.into());
    let (mut vault, key, _) = Vault::create(&password, &FIXTURE_PARAMS, &mut rng).expect("create");
    let work = NewCredential {
        provider: "openai".into(),
        label: "Work".into(),
        secret: secret_string("sk-proj-FIXTURE-0000000000000000-aaaa".into()),
        base_url: None,
    };
    let work_id = vault
        .add_credential(work, 1_700_000_000_000, &mut rng)
        .expect("work");
    let azure = NewCredential {
        provider: "azure-openai".into(),
        label: "Azure (team) ✓".into(),
        secret: secret_string("azure-FIXTURE-key-bbbb-0123456789".into()),
        base_url: None,
    };
    let azure_id = vault
        .add_credential(azure, 1_700_000_050_000, &mut rng)
        .expect("azure");
    vault
        .set_base_url(
            &azure_id,
            Some("https://example-resource.openai.azure.com/".into()),
            1_700_000_060_000,
        )
        .expect("base url");
    vault.mark_used(&work_id, 1_700_000_100_000);
    vault.set_auto_lock_minutes(30).expect("minutes");
    let sealed = vault.seal(&key, &mut rng).expect("seal");
    std::fs::write(&path, sealed).expect("write");
    eprintln!(
        "wrote {}: work = {work_id}, azure = {azure_id}",
        path.display()
    );
}

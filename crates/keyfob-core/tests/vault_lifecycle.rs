//! Password changes, backups, throttling, the password policy and redaction, through the
//! public API the wasm crate uses.

mod common;

use common::{SystemRng, SMALL};
use keyfob_core::secret::{secret_string, ExposeSecret, SecretString};
use keyfob_core::vault::{
    check_password_policy, sealed_kind, NewCredential, SealedKind, UnlockThrottle, Vault,
};
use keyfob_core::CoreError;

const PW: &str = "lifecycle password 42";
const BACKUP_PW: &str = "separate backup phrase";

fn pw(s: &str) -> SecretString {
    secret_string(s.into())
}

fn vault_with(entries: &[(&str, &str)]) -> (Vault, Vec<u8>) {
    let mut rng = SystemRng::new();
    let (mut vault, key, _) = Vault::create(&pw(PW), &SMALL, &mut rng).expect("create");
    for (provider, secret) in entries {
        let new = NewCredential {
            provider: (*provider).into(),
            label: format!("{provider} label"),
            secret: pw(secret),
            base_url: None,
        };
        vault.add_credential(new, 5_000, &mut rng).expect("add");
    }
    let sealed = vault.seal(&key, &mut rng).expect("seal");
    (vault, sealed)
}

/// Everything observable about a vault's credentials, secrets included.
fn snapshot(v: &Vault) -> Vec<(String, String)> {
    v.credentials()
        .into_iter()
        .map(|info| {
            // EXPOSE: the test compares stored secrets before and after.
            let secret = v
                .credential(&info.id)
                .expect("listed")
                .secret()
                .expose_secret()
                .to_string();
            (format!("{info:?}"), secret)
        })
        .collect()
}

#[test]
fn change_password_keeps_contents_and_retires_the_old_password() {
    let (vault, sealed) = vault_with(&[
        ("openai", "sk-proj-LIFE-aaaa1111"),
        ("gemini", "AIzaLIFE-bbbb2222"),
    ]);
    let mut rng = SystemRng::new();
    let new_pw = pw("completely different words");
    let wrong = vault.change_password(
        &sealed,
        &pw("lifecycle password 43"),
        &new_pw,
        &SMALL,
        &mut rng,
    );
    assert_eq!(wrong.err(), Some(CoreError::WrongPassword));

    let (key, new_sealed) = vault
        .change_password(&sealed, &pw(PW), &new_pw, &SMALL, &mut rng)
        .expect("change");
    assert_eq!(
        Vault::unlock(&new_sealed, &pw(PW)).err(),
        Some(CoreError::WrongPassword)
    );
    let (reopened, _) = Vault::unlock(&new_sealed, &new_pw).expect("new password opens");
    assert_eq!(snapshot(&reopened), snapshot(&vault));
    assert!(key.opens(&new_sealed));
    assert_ne!(&sealed[19..35], &new_sealed[19..35], "fresh salt");
}

#[test]
fn backup_round_trip_into_another_vault() {
    let (source, _) = vault_with(&[("openai", "sk-proj-BACK-cccc3333")]);
    let backup = source
        .export_backup(&pw(BACKUP_PW), &SMALL, &mut SystemRng::new())
        .expect("export");
    assert_eq!(sealed_kind(&backup), Ok(SealedKind::Backup));
    assert!(
        Vault::unlock(&backup, &pw(BACKUP_PW)).is_err(),
        "a backup is not a vault"
    );

    let (mut target, _) = vault_with(&[("anthropic", "sk-ant-BACK-dddd4444")]);
    assert_eq!(target.import_backup(&backup, &pw(BACKUP_PW), 9_000), Ok(1));
    let openai = target.credential_for_provider("openai").expect("imported");
    // EXPOSE: verifying the imported secret.
    assert_eq!(openai.secret().expose_secret(), "sk-proj-BACK-cccc3333");
    assert_eq!(target.credentials().len(), 2);
    assert_eq!(
        target.import_backup(&backup, &pw(BACKUP_PW), 9_500),
        Ok(1),
        "same id: replaced"
    );
    assert_eq!(target.credentials().len(), 2);
}

#[test]
fn failed_imports_change_nothing() {
    let (source, vault_blob) = vault_with(&[("openai", "sk-proj-FAIL-eeee5555")]);
    let backup = source
        .export_backup(&pw(BACKUP_PW), &SMALL, &mut SystemRng::new())
        .expect("export");
    let (mut target, _) = vault_with(&[("anthropic", "sk-ant-KEEP-ffff6666")]);
    let before = snapshot(&target);

    assert_eq!(
        target.import_backup(&backup, &pw("not the backup phrase"), 1),
        Err(CoreError::WrongPassword)
    );
    let garbage: [&[u8]; 5] = [
        b"",
        b"{\"credentials\":[]}",
        b"KFOB\x01\x02",
        &[0xA5; 300],
        &vault_blob,
    ];
    for g in garbage {
        assert_eq!(
            target.import_backup(g, &pw(BACKUP_PW), 1),
            Err(CoreError::BackupInvalid)
        );
    }
    let mut cut = backup.clone();
    cut.truncate(backup.len() - 3);
    assert_eq!(
        target.import_backup(&cut, &pw(BACKUP_PW), 1),
        Err(CoreError::BackupInvalid)
    );
    assert_eq!(snapshot(&target), before);
}

#[test]
fn throttle_backs_off_after_five_failures() {
    let mut t = UnlockThrottle::default();
    for i in 0..5 {
        assert_eq!(t.check(1_000), Ok(()), "attempt {i}");
        t.record_failure(1_000);
    }
    assert_eq!(
        t.check(1_000),
        Err(CoreError::UnlockBackoff {
            retry_after_ms: 30_000
        })
    );
    assert_eq!(t.check(31_000), Ok(()));
    t.record_failure(31_000);
    assert_eq!(
        t.check(31_000),
        Err(CoreError::UnlockBackoff {
            retry_after_ms: 60_000
        })
    );
    for _ in 0..20 {
        t.record_failure(100_000);
    }
    assert_eq!(
        t.check(100_000),
        Err(CoreError::UnlockBackoff {
            retry_after_ms: 900_000
        })
    );
    t.reset();
    assert_eq!((t.failures(), t.check(100_000)), (0, Ok(())));
}

#[test]
fn password_policy_through_create() {
    for weak in [
        "short",
        "password123",
        "QWERTYUIOP",
        "iloveyou!!!",
        "0000000000",
    ] {
        assert!(
            matches!(
                check_password_policy(&pw(weak)),
                Err(CoreError::WeakPassword(_))
            ),
            "{weak}"
        );
        let created = Vault::create(&pw(weak), &SMALL, &mut SystemRng::new());
        assert!(matches!(created, Err(CoreError::WeakPassword(_))), "{weak}");
    }
    let err = check_password_policy(&pw("password123")).expect_err("must fail");
    assert!(!err.to_string().contains("password123"), "{err}");
    assert_eq!(
        check_password_policy(&pw("violet tractor umbrella")),
        Ok(())
    );
}

#[test]
fn debug_output_never_contains_a_secret() {
    let mut rng = SystemRng::new();
    let (mut vault, key, _) = Vault::create(&pw(PW), &SMALL, &mut rng).expect("create");
    let new = NewCredential {
        provider: "openai".into(),
        label: "Work".into(),
        secret: pw("sk-proj-DEBUGLEAK-9999"),
        base_url: None,
    };
    let shown_new = format!("{new:?}");
    let id = vault.add_credential(new, 1, &mut rng).expect("add");
    let key_bytes = key.to_session_bytes();
    let key_hex: String = key_bytes[1..33]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key_list = format!("{:?}", &key_bytes[1..33]);
    let outputs = [
        format!("{vault:?}"),
        format!("{key:?}"),
        format!("{:?}", vault.credential(&id).expect("c")),
        format!("{:?}", vault.credentials()),
        shown_new,
    ];
    for shown in outputs {
        assert!(!shown.contains("DEBUGLEAK"), "{shown}");
        assert!(!shown.contains(PW), "{shown}");
        assert!(
            !shown.contains(&key_hex) && !shown.contains(&key_list[1..key_list.len() - 1]),
            "{shown}"
        );
    }
}

//! Backups: the vault's contents sealed under a separate backup password, in the same
//! format with kind byte 2, so a backup file can never be mistaken for (or written over)
//! the live vault.
//!
//! Import is all-or-nothing: the whole backup is decrypted and parsed before the vault
//! changes. Errors: anything that is not a readable backup → [`CoreError::BackupInvalid`];
//! a backup whose key check fails → [`CoreError::WrongPassword`]; a backup from a newer
//! format → [`CoreError::VaultVersionUnsupported`]. Settings are not imported: the live
//! vault keeps its own.

use super::contents::Contents;
use super::format::{self, SealedKind};
use super::kdf::{derive_vault_key, KdfParams, SALT_LEN};
use super::password_policy::check_password_policy;
use super::seal::{open_blob, seal_blob};
use super::Vault;
use crate::random::{make_bytes, RandomSource};
use crate::secret::SecretString;
use crate::CoreError;

impl Vault {
    /// Seals every credential (with secrets) under `backup_password`, which must pass the
    /// password policy. The result is meant to be downloaded as a file.
    pub fn export_backup(
        &self,
        backup_password: &SecretString,
        params: &KdfParams,
        rng: &mut dyn RandomSource,
    ) -> Result<Vec<u8>, CoreError> {
        check_password_policy(backup_password)?;
        let salt = make_bytes::<SALT_LEN>(rng)?;
        let key = derive_vault_key(backup_password, params, &salt)?;
        let plaintext = self.contents.to_json()?;
        seal_blob(SealedKind::Backup, &key, &plaintext, rng)
    }

    /// Merges a backup into this vault: a credential with an id already present replaces
    /// it, the others are added. Imported credentials get `updated_at_ms = now_ms` (so
    /// they become the preferred key for their provider). Returns how many were imported.
    /// On any error the vault is unchanged.
    pub fn import_backup(
        &mut self,
        backup: &[u8],
        backup_password: &SecretString,
        now_ms: u64,
    ) -> Result<usize, CoreError> {
        let incoming = read_backup(backup, backup_password)?;
        let count = incoming.credentials.len();
        for mut c in incoming.credentials {
            c.updated_at_ms = now_ms;
            match self
                .contents
                .credentials
                .iter_mut()
                .find(|have| have.id == c.id)
            {
                Some(slot) => *slot = c,
                None => self.contents.credentials.push(c),
            }
        }
        Ok(count)
    }
}

/// Decrypts and parses a backup without touching any vault.
fn read_backup(backup: &[u8], password: &SecretString) -> Result<Contents, CoreError> {
    let as_backup_error = |e: CoreError| match e {
        CoreError::WrongPassword | CoreError::VaultVersionUnsupported => e,
        _ => CoreError::BackupInvalid,
    };
    let parsed = format::parse(backup).map_err(as_backup_error)?;
    if parsed.header.kind != SealedKind::Backup {
        return Err(CoreError::BackupInvalid);
    }
    let key = derive_vault_key(password, &parsed.header.kdf, &parsed.header.salt)
        .map_err(as_backup_error)?;
    let plaintext = open_blob(&parsed, &key).map_err(as_backup_error)?;
    Contents::from_json(&plaintext).map_err(as_backup_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;
    use crate::secret::{secret_string, ExposeSecret};
    use crate::vault::contents::NewCredential;
    use crate::vault::testutil::SMALL;

    const BACKUP_PW: &str = "backup password 2 go";

    /// `seed`s far apart: TestRandom is a counter, so nearby seeds would share ids.
    fn vault_with(labels: &[&str], seed: u64) -> (Vault, Vec<String>) {
        let mut v = Vault::empty();
        let mut rng = TestRandom(seed);
        let ids = labels
            .iter()
            .map(|l| {
                let new = NewCredential {
                    provider: "anthropic".into(),
                    label: (*l).into(),
                    secret: secret_string(format!("sk-ant-{l}-0123456789")),
                    base_url: None,
                };
                v.add_credential(new, 100, &mut rng).expect("add")
            })
            .collect();
        (v, ids)
    }

    fn labels(v: &Vault) -> Vec<String> {
        v.credentials().into_iter().map(|c| c.label).collect()
    }

    #[test]
    fn export_then_import_merges_by_id() {
        let (mut source, ids) = vault_with(&["one", "two"], 1_000);
        let backup = source
            .export_backup(
                &secret_string(BACKUP_PW.into()),
                &SMALL,
                &mut TestRandom(50),
            )
            .expect("export");
        assert_eq!(format::sealed_kind(&backup), Ok(SealedKind::Backup));

        let (mut target, _) = vault_with(&["mine"], 2_000);
        source
            .rename_credential(&ids[0], "renamed".into(), 200)
            .expect("rename");
        let n = target
            .import_backup(&backup, &secret_string(BACKUP_PW.into()), 300)
            .expect("import");
        assert_eq!(n, 2);
        assert_eq!(labels(&target), ["mine", "one", "two"]);
        let two = target.credential(&ids[1]).expect("two");
        assert_eq!(two.updated_at_ms(), 300);
        assert_eq!(two.created_at_ms(), 100);
        // EXPOSE: the imported secret must be the exported one.
        assert_eq!(two.secret().expose_secret(), "sk-ant-two-0123456789");

        // Importing into the source replaces the renamed credential with the backed-up one.
        let n = source
            .import_backup(&backup, &secret_string(BACKUP_PW.into()), 400)
            .expect("again");
        assert_eq!(n, 2);
        assert_eq!(labels(&source), ["one", "two"]);
    }

    #[test]
    fn errors_leave_the_vault_unchanged() {
        let (source, _) = vault_with(&["one"], 3_000);
        let backup = source
            .export_backup(
                &secret_string(BACKUP_PW.into()),
                &SMALL,
                &mut TestRandom(60),
            )
            .expect("export");
        let (mut target, _) = vault_with(&["mine"], 4_000);
        let pw = secret_string(BACKUP_PW.into());

        let wrong = target.import_backup(&backup, &secret_string("not the password".into()), 1);
        assert_eq!(wrong, Err(CoreError::WrongPassword));
        for garbage in [&b""[..], b"hello", &[0u8; 200], b"KFOB"] {
            assert_eq!(
                target.import_backup(garbage, &pw, 1),
                Err(CoreError::BackupInvalid)
            );
        }
        let mut tampered = backup.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 0x40;
        assert_eq!(
            target.import_backup(&tampered, &pw, 1),
            Err(CoreError::BackupInvalid)
        );

        let (vault_blob, _) = {
            let (v, k, sealed) =
                Vault::create(&pw, &SMALL, &mut TestRandom(70)).expect("a vault, not a backup");
            drop(v);
            (sealed, k)
        };
        assert_eq!(
            target.import_backup(&vault_blob, &pw, 1),
            Err(CoreError::BackupInvalid)
        );
        assert_eq!(labels(&target), ["mine"]);
    }

    #[test]
    fn backup_password_must_pass_policy() {
        let (v, _) = vault_with(&["one"], 5_000);
        let err = v.export_backup(&secret_string("short".into()), &SMALL, &mut TestRandom(1));
        assert!(matches!(err, Err(CoreError::WeakPassword(_))));
    }
}

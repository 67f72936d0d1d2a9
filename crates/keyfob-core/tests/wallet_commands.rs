//! The popup's command surface: commands arrive as the JSON the popup sends, and the
//! wallet names every effect the glue must carry out before it answers.

mod common;

use common::wallet::*;
use keyfob_core::secret::secret_string;
use keyfob_core::wallet::commands::{check_sender, After, Answer, Command, Step};
use keyfob_core::wallet::views::Notice;
use keyfob_core::wallet::Record;
use keyfob_core::CoreError;
use serde_json::{json, Value};

fn parse(value: Value) -> Command {
    serde_json::from_value(value).unwrap_or_else(|e| panic!("command did not parse: {e}"))
}

fn run(h: &mut Harness, value: Value) -> Result<Step, CoreError> {
    let clock = h.clock();
    h.wallet.command(parse(value), &clock)
}

/// Runs a command that needs no I/O; its effects and its answer as JSON.
fn done(h: &mut Harness, value: Value) -> (Vec<After>, Value) {
    match run(h, value).expect("command") {
        Step::Done(outcome) => {
            let answer = match outcome.answer {
                Answer::Status => json!("status"),
                Answer::Json(text) => serde_json::from_str(&text).expect("answer is JSON"),
            };
            (outcome.after, answer)
        }
        _ => panic!("the command asked for I/O"),
    }
}

#[test]
fn a_change_answers_only_after_its_record_is_stored() {
    let mut h = Harness::empty();
    let (after, answer) = done(&mut h, json!({"cmd": "vault.create", "password": PASSWORD}));
    assert_eq!(after, vec![After::Stored(Record::Vault)]);
    assert_eq!(
        answer,
        json!("status"),
        "create answers the status, read after the store"
    );

    let (after, answer) = done(
        &mut h,
        json!({"cmd": "credentials.add", "provider": "openai", "label": "Work", "secret": OPENAI_KEY}),
    );
    assert_eq!(after, vec![After::Stored(Record::Vault)]);
    assert!(answer["id"].as_str().is_some_and(|id| !id.is_empty()));

    let (after, answer) = done(&mut h, json!({"cmd": "credentials.list"}));
    assert!(after.is_empty(), "a read stores nothing");
    let listed = answer.to_string();
    assert!(listed.contains("Work"));
    assert!(
        !listed.contains(OPENAI_KEY),
        "a listed credential carries its key"
    );
}

#[test]
fn unlock_counts_the_attempt_before_the_key_is_derived() {
    let mut h = Harness::connected();
    h.wallet.lock(h.now);
    let Step::Unlock { attempt, password } =
        run(&mut h, json!({"cmd": "vault.unlock", "password": "wrong"})).expect("unlock")
    else {
        panic!("unlock did not ask to store the attempt first");
    };
    assert_eq!(
        h.wallet.status(h.now).failed_attempts,
        1,
        "the attempt must count before Argon2 runs"
    );
    let clock = h.clock();
    let result = h.wallet.finish_unlock(attempt, &password, &clock);
    assert!(matches!(result, Err(CoreError::WrongPassword)));

    // Already unlocked: nothing to derive, the status answers.
    let mut h = Harness::connected();
    let (after, answer) = done(&mut h, json!({"cmd": "vault.unlock", "password": PASSWORD}));
    assert_eq!(after, vec![After::RefreshBadge]);
    assert_eq!(answer, json!("status"));
}

#[test]
fn revoking_a_site_stores_then_tells_its_sessions() {
    let mut h = Harness::connected();
    let (after, answer) = done(&mut h, json!({"cmd": "grants.revoke", "origin": SITE}));
    assert_eq!(
        after,
        vec![
            After::Stored(Record::Grants),
            After::Notify(Notice::Disconnected {
                origin: SITE.into()
            }),
        ]
    );
    assert_eq!(answer, json!(true));
    // A second revoke finds nothing: no notice, answer false.
    let (after, answer) = done(&mut h, json!({"cmd": "grants.revoke", "origin": SITE}));
    assert_eq!(after, vec![After::Stored(Record::Grants)]);
    assert_eq!(answer, json!(false));
}

#[test]
fn an_approval_decision_stores_the_grant_then_wakes_the_caller() {
    let mut h = Harness::connected();
    let clock = h.clock();
    let step = h
        .wallet
        .connect(&site(OTHER), &requested(&["openai"]), false, &clock)
        .expect("connect");
    let keyfob_core::wallet::connect::ConnectStep::Ask { approval, .. } = step else {
        panic!("an unknown site connected without asking");
    };
    let (after, _) = done(
        &mut h,
        json!({"cmd": "approvals.decide", "id": approval, "approve": true, "providers": ["openai"]}),
    );
    assert_eq!(
        after,
        vec![
            After::Stored(Record::Grants),
            After::Resolve {
                approval: approval.clone(),
                approved: true
            },
            After::RefreshBadge,
        ]
    );
    // The approval is gone: focusing it is a typed error, not a new window.
    let focus = run(&mut h, json!({"cmd": "approvals.focus", "id": approval}));
    assert!(matches!(focus, Err(CoreError::ApprovalGone)));
}

#[test]
fn an_unknown_request_approval_wakes_nothing() {
    let mut h = Harness::connected();
    let (after, answer) = done(
        &mut h,
        json!({"cmd": "requestApprovals.decide", "id": "no-such", "approve": true}),
    );
    assert!(after.is_empty(), "an unknown approval must not wake anyone");
    assert_eq!(answer, json!(true));
}

#[test]
fn a_backup_round_trips_as_base64_and_bad_text_is_a_typed_error() {
    let mut h = Harness::connected();
    let data = export(
        &mut h,
        json!({"currentPassword": PASSWORD, "password": BACKUP_PASSWORD}),
    )
    .expect("export");
    assert!(!data.contains(OPENAI_KEY));
    let (after, answer) = done(
        &mut h,
        json!({"cmd": "backup.import", "data": format!("  {data}\n"), "password": BACKUP_PASSWORD}),
    );
    assert_eq!(after, vec![After::Stored(Record::Vault)]);
    assert!(answer["imported"].is_u64());
    let bad = run(
        &mut h,
        json!({"cmd": "backup.import", "data": "not base64!", "password": BACKUP_PASSWORD}),
    );
    assert!(matches!(bad, Err(CoreError::BackupInvalid)));
}

const BACKUP_PASSWORD: &str = "a separate backup passphrase";

/// Runs `backup.export` with `args` through to its answer: the backup as base64, or the
/// error it was refused with.
fn export(h: &mut Harness, args: Value) -> Result<String, CoreError> {
    let mut command = json!({"cmd": "backup.export"});
    for (k, v) in args.as_object().expect("args are an object") {
        command[k] = v.clone();
    }
    let outcome = match run(h, command)? {
        Step::ExportBackup {
            attempt,
            current_password,
            password,
        } => {
            assert!(
                h.wallet.status(h.now).failed_attempts >= 1,
                "the guess must count before Argon2 runs"
            );
            let clock = h.clock();
            h.wallet
                .finish_export_backup(attempt, &current_password, &password, &clock)?
        }
        _ => panic!("backup.export did not ask to store the guess first"),
    };
    let Answer::Json(text) = outcome.answer else {
        panic!("backup.export answered the status");
    };
    let value: Value = serde_json::from_str(&text).expect("answer is JSON");
    Ok(value["data"].as_str().expect("base64 text").to_string())
}

#[test]
fn a_backup_export_needs_the_current_master_password() {
    let mut h = Harness::connected();

    // The right one: the backup holds the key, sealed, and restores.
    let data = export(
        &mut h,
        json!({"currentPassword": PASSWORD, "password": BACKUP_PASSWORD}),
    )
    .expect("the right master password exports");
    assert!(!data.contains(OPENAI_KEY));
    let (_, answer) = done(
        &mut h,
        json!({"cmd": "backup.import", "data": data, "password": BACKUP_PASSWORD}),
    );
    assert_eq!(answer["imported"], json!(1));

    // A wrong one: refused like a wrong unlock, nothing exported, the wallet stays open.
    let wrong = export(
        &mut h,
        json!({"currentPassword": "not the master password", "password": BACKUP_PASSWORD}),
    );
    assert!(
        matches!(wrong, Err(CoreError::WrongPassword)),
        "a wrong master password exported a backup"
    );
    let status = h.wallet.status(h.now);
    assert_eq!(status.failed_attempts, 1, "the wrong guess was not counted");
    assert!(h.wallet.is_unlocked(), "a wrong guess locked the wallet");

    // Missing or empty: refused too, and nothing was tried (nothing to count).
    for args in [
        json!({"password": BACKUP_PASSWORD}),
        json!({"currentPassword": "", "password": BACKUP_PASSWORD}),
        json!({"currentPassword": null, "password": BACKUP_PASSWORD}),
    ] {
        let refused = export(&mut h, args.clone());
        assert!(
            matches!(refused, Err(CoreError::WrongPassword)),
            "{args} exported a backup"
        );
    }
    assert_eq!(h.wallet.status(h.now).failed_attempts, 1);

    // The right one again exports, and takes the count back as an unlock does.
    export(
        &mut h,
        json!({"currentPassword": PASSWORD, "password": BACKUP_PASSWORD}),
    )
    .expect("the right master password exports");
    assert_eq!(h.wallet.status(h.now).failed_attempts, 0);

    // A locked wallet exports nothing, whatever the password, and counts nothing.
    h.wallet.lock(h.now);
    let locked = export(
        &mut h,
        json!({"currentPassword": PASSWORD, "password": BACKUP_PASSWORD}),
    );
    assert!(matches!(locked, Err(CoreError::WalletLocked)));
    assert_eq!(h.wallet.status(h.now).failed_attempts, 0);
}

#[test]
fn wrong_master_passwords_on_export_start_the_unlock_back_off() {
    let mut h = Harness::connected();
    for i in 0..5 {
        let wrong = export(
            &mut h,
            json!({"currentPassword": format!("wrong guess {i}"), "password": BACKUP_PASSWORD}),
        );
        assert!(matches!(wrong, Err(CoreError::WrongPassword)), "guess {i}");
    }
    // Now even the right password waits, for export and for unlock alike.
    let blocked = export(
        &mut h,
        json!({"currentPassword": PASSWORD, "password": BACKUP_PASSWORD}),
    );
    assert!(
        matches!(blocked, Err(CoreError::UnlockBackoff { .. })),
        "export ran during the back-off"
    );
    assert!(h.wallet.status(h.now).retry_after_ms > 0);
    h.wallet.lock(h.now);
    let clock = h.clock();
    assert!(matches!(
        h.wallet.begin_unlock(&clock),
        Err(CoreError::UnlockBackoff { .. })
    ));
    // The count is stored like an unlock's: a new worker still waits.
    h.restart_worker();
    assert_eq!(h.wallet.status(h.now).failed_attempts, 5);
    h.advance(31_000);
    let clock = h.clock();
    h.wallet
        .unlock(&secret_string(PASSWORD.into()), &clock)
        .expect("unlock after the back-off");
    export(
        &mut h,
        json!({"currentPassword": PASSWORD, "password": BACKUP_PASSWORD}),
    )
    .expect("export after the back-off");
}

#[test]
fn a_weak_backup_password_is_refused_before_any_guess_is_counted() {
    let mut h = Harness::connected();
    let weak = export(
        &mut h,
        json!({"currentPassword": "not the master password", "password": "short"}),
    );
    assert!(matches!(weak, Err(CoreError::WeakPassword(_))));
    assert_eq!(h.wallet.status(h.now).failed_attempts, 0);
}

#[test]
fn reads_that_are_not_the_user_do_not_count_as_activity() {
    for (value, passive) in [
        (json!({"cmd": "vault.status"}), true),
        (json!({"cmd": "approvals.list"}), true),
        (
            json!({"cmd": "providers.guess", "keyStart": "sk-ant-"}),
            true,
        ),
        (json!({"cmd": "credentials.list"}), false),
        (json!({"cmd": "vault.lock"}), false),
    ] {
        assert_eq!(parse(value.clone()).is_passive(), passive, "{value}");
    }
}

#[test]
fn the_provider_list_says_which_keys_can_be_tested() {
    let mut h = Harness::empty();
    let (_, rows) = done(&mut h, json!({"cmd": "providers.list"}));
    let rows = rows.as_array().expect("a list");
    let row = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} is not listed"))
    };
    assert_eq!(row("openai")["testable"], json!(true));
    assert!(row("openai")["name"].is_string());
    let (_, guess) = done(
        &mut h,
        json!({"cmd": "providers.guess", "keyStart": "sk-ant-api03-"}),
    );
    assert_eq!(guess, json!("anthropic"));
}

#[test]
fn a_command_the_wallet_does_not_know_is_refused() {
    let unknown: Result<Command, _> = serde_json::from_value(json!({"cmd": "vault.export_keys"}));
    assert!(unknown.is_err());
    let missing: Result<Command, _> = serde_json::from_value(json!({"cmd": "vault.create"}));
    assert!(missing.is_err(), "a create without a password parsed");
}

#[test]
fn only_the_extensions_own_pages_may_send_commands() {
    let own = "chrome-extension://abcdefghijklmnopabcdefghijklmnop";
    assert!(check_sender(Some(&format!("{own}/popup/popup.html")), own).is_ok());
    for sender in [
        None,
        Some("https://app.example/"),
        Some("chrome-extension://abcdefghijklmnopabcdefghijklmnopX/popup.html"),
        Some(own),
    ] {
        assert!(
            matches!(check_sender(sender, own), Err(CoreError::OriginNotApproved)),
            "{sender:?} was let in"
        );
    }
    assert!(
        check_sender(Some("/popup.html"), "").is_err(),
        "an empty origin lets anything in"
    );
}

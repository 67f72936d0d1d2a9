//! The command API for the extension's own pages (popup, approval windows), reached
//! through `chrome.runtime.sendMessage`. Only senders whose URL is inside this
//! extension are served: content scripts and web pages are refused.
//!
//! Every reply is `{ok: true, value}` or `{ok: false, error: {code, message}}`. The
//! wallet decides each command (`keyfob_core::wallet::commands`) and names its effects;
//! this module carries them out in order (a command that changes what is stored answers
//! only once it is stored) and does the I/O the wallet asks for.

mod keytest;

use keyfob_core::wallet::commands::check_sender;
use keyfob_core::wallet::{After, Answer, BridgeAction, Command, Record, Step};
use wasm_bindgen::JsValue;

use crate::chrome::{self, clock, now_ms};
use crate::engine::{self, with};
use crate::error::EngineResult;
use crate::json::to_js;
use crate::{bridge, control};
use crate::{waiters, windows};

/// Handles one message; always answers `{ok:true, value}` or `{ok:false, error}`.
pub async fn handle(message: JsValue, sender: JsValue) -> JsValue {
    match serve(message, sender).await {
        Ok(value) => chrome::object(&[("ok", JsValue::TRUE), ("value", value)]),
        Err(error) => chrome::object(&[("ok", JsValue::FALSE), ("error", error.to_js())]),
    }
}

async fn serve(message: JsValue, sender: JsValue) -> EngineResult<JsValue> {
    let own = chrome::extension_origin()?;
    check_sender(chrome::string_field(&sender, "url").as_deref(), &own)?;
    let command: Command = crate::json::from_js(&message)?;
    engine::ready().await?;
    let active = !command.is_passive();
    with(|w| {
        w.tick(&clock());
        Ok(())
    })?;
    let value = run(command).await?;
    if active {
        with(|w| {
            if w.is_unlocked() {
                w.touch(now_ms());
            }
            Ok(())
        })?;
    }
    Ok(value)
}

/// Runs the wallet's answer to `command`: the I/O it names, then the reply.
async fn run(command: Command) -> EngineResult<JsValue> {
    let outcome = match with(|w| w.command(command, &clock()))? {
        Step::Done(outcome) => outcome,
        Step::Unlock { attempt, password } => {
            // The attempt is counted and stored before the key is derived.
            engine::stored(Record::Throttle).await?;
            with(|w| w.finish_unlock(attempt, &password, &clock()))?;
            control::refresh_badge();
            return status();
        }
        Step::ExportBackup {
            attempt,
            current_password,
            password,
        } => {
            // The guess is counted and stored before the key is derived, as for unlock.
            engine::stored(Record::Throttle).await?;
            with(|w| w.finish_export_backup(attempt, &current_password, &password, &clock()))?
        }
        Step::TestKey { credential } => return keytest::test_credential(&credential).await,
        Step::FocusApproval { approval, window } => {
            focus_approval(&approval, window).await?;
            return Ok(JsValue::TRUE);
        }
        Step::Bridge(action) => {
            match action {
                BridgeAction::Start => bridge::start(true),
                BridgeAction::Stop => bridge::stop(),
                BridgeAction::Status => {}
            }
            return to_js(&bridge::state());
        }
    };
    for after in outcome.after {
        match after {
            After::Stored(record) => engine::stored(record).await?,
            After::Notify(notice) => control::notify(&notice)?,
            After::RefreshBadge => control::refresh_badge(),
            After::Resolve { approval, approved } => waiters::resolve(&approval, approved),
            After::CloseWindow(window) => windows::close(window).await,
        }
    }
    match outcome.answer {
        Answer::Status => status(),
        Answer::Json(text) => Ok(js_sys::JSON::parse(&text)?),
    }
}

fn status() -> EngineResult<JsValue> {
    to_js(&with(|w| Ok(w.status(now_ms())))?)
}

/// Brings the approval's window forward; a window lost to a worker restart is reopened.
async fn focus_approval(approval: &str, window: Option<i32>) -> EngineResult<()> {
    let focused = match window {
        Some(window) => windows::focus(window).await,
        None => false,
    };
    if !focused {
        let page = format!("approve/approve.html?id={approval}");
        let opened = windows::open(&page, 640).await?;
        with(|w| {
            w.approval_window_opened(approval, opened, now_ms());
            Ok(())
        })?;
    }
    Ok(())
}

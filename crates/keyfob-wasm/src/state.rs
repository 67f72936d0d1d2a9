//! The engine's in-memory state, loaded once per service-worker life from storage.
//!
//! The worker is single-threaded; state sits in a thread-local `RefCell`. A borrow is
//! never held across an `.await`: callers take what they need inside `with`.

use crate::chrome::{self, now_ms};
use crate::error::{EngineError, EngineResult};
use crate::random::BrowserRandom;
use crate::storage::{self, Area};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use js_sys::Promise;
use keyfob_core::autolock::{idle_expired, DEFAULT_AUTO_LOCK_MINUTES};
use keyfob_core::grants::GrantBook;
use keyfob_core::metering::{AuditLedger, BudgetBook};
use keyfob_core::random::make_bytes;
use keyfob_core::vault::{open_record, seal_record, UnlockThrottle, Vault, VaultKey};
use keyfob_core::CoreError;
use std::cell::RefCell;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use zeroize::Zeroizing;

/// Last activity is persisted at most this often: a storage write per request is waste.
const ACTIVITY_WRITE_INTERVAL_MS: u64 = 20_000;

pub struct Unlocked {
    pub vault: Vault,
    pub key: VaultKey,
}

pub struct Engine {
    pub vault_exists: bool,
    pub unlocked: Option<Unlocked>,
    pub grants: GrantBook,
    pub throttle: UnlockThrottle,
    pub session_secret: Zeroizing<[u8; 32]>,
    pub auto_lock_minutes: u32,
    pub last_activity_ms: u64,
    last_activity_saved_ms: u64,
    /// Money and tokens committed per origin and period (metering).
    pub budgets: BudgetBook,
    /// Every proxied request, rolled up into daily totals as it ages. Stored sealed under
    /// the vault key (apps' reasons and contexts may be private); read through `ledger()`.
    ledger: AuditLedger,
    /// The stored ledger, not yet opened because the wallet was locked when it loaded.
    sealed_ledger: Option<Vec<u8>>,
    /// A stored ledger that would not open (kept, never overwritten).
    unreadable_ledger: Option<Vec<u8>>,
}

impl Engine {
    /// The audit ledger, opened with the vault key the first time it is needed.
    pub fn ledger(&mut self) -> EngineResult<&mut AuditLedger> {
        if let Some(sealed) = self.sealed_ledger.take() {
            let Some(unlocked) = &self.unlocked else {
                self.sealed_ledger = Some(sealed);
                return Err(CoreError::WalletLocked.into());
            };
            let opened = open_record(&sealed, &unlocked.key)
                .ok()
                .and_then(|plain| serde_json::from_slice::<AuditLedger>(&plain).ok());
            match opened {
                Some(ledger) => self.ledger = ledger,
                None => self.unreadable_ledger = Some(sealed),
            }
        }
        Ok(&mut self.ledger)
    }

    /// `missing`, `locked` or `unlocked`, as pages and the popup name the wallet's state.
    pub fn wallet_state(&self) -> &'static str {
        match (self.vault_exists, self.unlocked.is_some()) {
            (false, _) => "missing",
            (true, false) => "locked",
            (true, true) => "unlocked",
        }
    }

    pub fn unlocked_mut(&mut self) -> EngineResult<&mut Unlocked> {
        match (&mut self.unlocked, self.vault_exists) {
            (Some(u), _) => Ok(u),
            (None, false) => Err(CoreError::VaultMissing.into()),
            (None, true) => Err(CoreError::WalletLocked.into()),
        }
    }

    /// Locks when the idle time has run out. Returns true if it locked now.
    pub fn lock_if_idle(&mut self, now: u64) -> bool {
        if self.unlocked.is_some()
            && idle_expired(self.last_activity_ms, now, self.auto_lock_minutes)
        {
            self.unlocked = None;
            return true;
        }
        false
    }
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static LOADING: RefCell<Option<Promise>> = const { RefCell::new(None) };
}

/// Loads state from storage once; concurrent callers await the same load.
pub async fn ready() -> EngineResult<()> {
    if ENGINE.with(|e| e.borrow().is_some()) {
        return Ok(());
    }
    let promise = LOADING.with(|l| {
        l.borrow_mut()
            .get_or_insert_with(|| {
                wasm_bindgen_futures::future_to_promise(async {
                    let result = load().await;
                    LOADING.with(|l| l.borrow_mut().take());
                    match result {
                        Ok(engine) => {
                            ENGINE.with(|e| *e.borrow_mut() = Some(engine));
                            Ok(JsValue::UNDEFINED)
                        }
                        Err(e) => Err(e.to_js()),
                    }
                })
            })
            .clone()
    });
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| EngineError::Browser(chrome::string_field(&e, "message").unwrap_or_default()))
}

/// Runs `f` on the loaded state. Call `ready()` first.
pub fn with<R>(f: impl FnOnce(&mut Engine) -> EngineResult<R>) -> EngineResult<R> {
    ENGINE.with(|e| match e.borrow_mut().as_mut() {
        Some(engine) => f(engine),
        None => Err(CoreError::Internal("engine state not loaded".into()).into()),
    })
}

/// Forgets the in-memory state so the next call reloads it from storage
/// (used when a write failed, so memory never runs ahead of what was stored).
pub fn forget() {
    ENGINE.with(|e| e.borrow_mut().take());
}

async fn load() -> EngineResult<Engine> {
    let local = storage::get_many(
        Area::Local,
        &[
            storage::VAULT,
            storage::GRANTS,
            storage::THROTTLE,
            storage::BUDGETS,
            storage::AUDIT,
        ],
    )
    .await?;
    let session = storage::get_many(
        Area::Session,
        &[
            storage::VAULT_KEY,
            storage::SESSION_SECRET,
            storage::LAST_ACTIVITY,
        ],
    )
    .await?;
    // A vault that is present but unreadable still "exists": it is reported as corrupted
    // when someone tries to unlock it, and nothing ever overwrites it.
    let vault_exists = !local[0].is_undefined();
    let sealed = decode_b64(&local[0]).ok().flatten();
    let grants: GrantBook = storage::decode_json(&local[1])?.unwrap_or_default();
    let throttle: UnlockThrottle = storage::decode_json(&local[2])?.unwrap_or_default();
    let budgets: BudgetBook = storage::decode_json(&local[3])?.unwrap_or_default();
    let sealed_ledger = decode_b64(&local[4]).ok().flatten();
    let session_secret = match decode_b64(&session[1])? {
        Some(bytes) if bytes.len() == 32 => {
            let mut secret = Zeroizing::new([0u8; 32]);
            secret.copy_from_slice(&bytes);
            secret
        }
        _ => {
            let secret = Zeroizing::new(make_bytes::<32>(&mut BrowserRandom)?);
            let encoded = JsValue::from_str(&B64.encode(secret.as_slice()));
            storage::set(Area::Session, &[(storage::SESSION_SECRET, encoded)]).await?;
            secret
        }
    };
    let last_activity_ms = session[2].as_f64().map(|v| v as u64).unwrap_or_else(now_ms);
    let unlocked = match (&sealed, decode_b64(&session[0])?) {
        (Some(sealed), Some(key_bytes)) => reopen(sealed, &key_bytes),
        _ => None,
    };
    let auto_lock_minutes = unlocked
        .as_ref()
        .map_or(DEFAULT_AUTO_LOCK_MINUTES, |u| u.vault.auto_lock_minutes());
    let mut engine = Engine {
        vault_exists,
        unlocked,
        grants,
        throttle,
        session_secret,
        auto_lock_minutes,
        last_activity_ms,
        last_activity_saved_ms: last_activity_ms,
        budgets,
        ledger: AuditLedger::default(),
        sealed_ledger,
        unreadable_ledger: None,
    };
    if engine.lock_if_idle(now_ms()) || (engine.unlocked.is_none() && !session[0].is_undefined()) {
        storage::remove(Area::Session, &[storage::VAULT_KEY]).await?;
    }
    Ok(engine)
}

/// Reopens the vault with the session-stored key after a worker restart. A key for an
/// older vault (the password changed meanwhile) or a vault that fails to open means locked.
fn reopen(sealed: &[u8], key_bytes: &[u8]) -> Option<Unlocked> {
    let key = VaultKey::from_session_bytes(key_bytes).ok()?;
    if !key.opens(sealed) {
        return None;
    }
    let vault = Vault::open(sealed, &key).ok()?;
    Some(Unlocked { vault, key })
}

pub fn decode_b64(value: &JsValue) -> EngineResult<Option<Vec<u8>>> {
    match value.as_string() {
        None => Ok(None),
        Some(text) => B64
            .decode(text.as_bytes())
            .map(Some)
            .map_err(|_| CoreError::VaultCorrupted.into()),
    }
}

/// Reads the sealed vault straight from storage (unlock and password change need it).
pub async fn read_sealed() -> EngineResult<Vec<u8>> {
    let value = storage::get(Area::Local, storage::VAULT).await?;
    decode_b64(&value)?.ok_or_else(|| CoreError::VaultMissing.into())
}

/// Seals the unlocked vault and writes it in one storage call. If the write fails the
/// in-memory state is dropped, so it is reloaded from what storage really holds.
pub async fn save_vault() -> EngineResult<()> {
    let sealed = with(|e| {
        let u = e.unlocked_mut()?;
        Ok(u.vault.seal(&u.key, &mut BrowserRandom)?)
    })?;
    let written = storage::set(Area::Local, &[(storage::VAULT, B64.encode(sealed).into())]).await;
    if written.is_err() {
        forget();
    }
    written
}

pub async fn save_grants() -> EngineResult<()> {
    let encoded = with(|e| storage::encode_json(&e.grants))?;
    let written = storage::set(Area::Local, &[(storage::GRANTS, encoded)]).await;
    if written.is_err() {
        forget();
    }
    written
}

/// Records activity for auto-lock; persists it only every so often.
pub async fn touch() -> EngineResult<()> {
    let now = now_ms();
    let due = with(|e| {
        e.last_activity_ms = now;
        if now.saturating_sub(e.last_activity_saved_ms) >= ACTIVITY_WRITE_INTERVAL_MS {
            e.last_activity_saved_ms = now;
            return Ok(true);
        }
        Ok(false)
    })?;
    if due {
        storage::set(
            Area::Session,
            &[(storage::LAST_ACTIVITY, JsValue::from_f64(now as f64))],
        )
        .await?;
    }
    Ok(())
}

/// Locks now: the derived key leaves memory and session storage.
pub async fn lock() -> EngineResult<()> {
    // The ledger is sealed with the key that is about to go: write it first.
    save_metering().await?;
    with(|e| {
        e.unlocked = None;
        Ok(())
    })?;
    storage::remove(Area::Session, &[storage::VAULT_KEY]).await
}

/// Locks if idle time ran out (called by the alarm and before each use).
pub async fn enforce_auto_lock() -> EngineResult<()> {
    let idle = with(|e| {
        Ok(e.unlocked.is_some() && idle_expired(e.last_activity_ms, now_ms(), e.auto_lock_minutes))
    })?;
    if idle {
        lock().await?;
    }
    Ok(())
}

/// How long metering writes wait, so a burst of requests costs one storage write.
const METERING_WRITE_DELAY_MS: u32 = 500;

thread_local! {
    static METERING_WRITE_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

thread_local! {
    static VAULT_WRITE_PENDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Schedules one write of the vault (coalesced), for bookkeeping such as "last used".
pub fn save_vault_soon() {
    if VAULT_WRITE_PENDING.with(|p| p.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        chrome::sleep(METERING_WRITE_DELAY_MS).await;
        VAULT_WRITE_PENDING.with(|p| p.set(false));
        let _ = save_vault().await;
    });
}

/// Schedules one write of the budget book and the audit ledger (coalesced).
pub fn save_metering_soon() {
    if METERING_WRITE_PENDING.with(|p| p.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(async {
        chrome::sleep(METERING_WRITE_DELAY_MS).await;
        METERING_WRITE_PENDING.with(|p| p.set(false));
        let _ = save_metering().await;
    });
}

/// Writes the budget book, and the audit ledger sealed under the vault key (only while
/// unlocked, and only once it was opened: a ledger never read is never overwritten).
pub async fn save_metering() -> EngineResult<()> {
    let (budgets, ledger, unreadable) = with(|e| {
        let budgets = storage::encode_json(&e.budgets)?;
        let ledger = match (&e.unlocked, &e.sealed_ledger) {
            (Some(u), None) => {
                let plain = zeroize::Zeroizing::new(
                    serde_json::to_vec(&e.ledger)
                        .map_err(|err| CoreError::Internal(err.to_string()))?,
                );
                Some(B64.encode(seal_record(&u.key, &plain, &mut BrowserRandom)?))
            }
            _ => None,
        };
        Ok((
            budgets,
            ledger,
            e.unreadable_ledger.take().map(|b| B64.encode(b)),
        ))
    })?;
    let mut pairs = vec![(storage::BUDGETS, budgets)];
    if let Some(ledger) = ledger {
        pairs.push((storage::AUDIT, ledger.into()));
    }
    if let Some(old) = unreadable {
        pairs.push((storage::AUDIT_UNREADABLE, old.into()));
    }
    storage::set(Area::Local, &pairs).await
}

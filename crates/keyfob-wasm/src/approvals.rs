//! Pending approvals. At most one per origin. The record lives in session storage so
//! the approval window still works after a worker restart; only the waiting `connect`
//! calls live in memory (their content scripts re-attach after a restart).
//!
//! Every read-modify-write of the pending map holds [`MapLock`]: two `connect`s that
//! arrive together must not both see "nothing pending" and open two windows (or have
//! one write drop the other's record).

use crate::chrome::{self, now_ms, Deferred};
use crate::error::EngineResult;
use crate::random::BrowserRandom;
use crate::state;
use crate::storage::{self, Area};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use keyfob_core::random::make_bytes;
use keyfob_core::{providers, CoreError};
use serde::{Deserialize, Serialize};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, VecDeque};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RequestedProvider {
    pub id: String,
    #[serde(default)]
    pub required: bool,
}

#[derive(Serialize, Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Pending {
    id: String,
    origin: String,
    providers: Vec<RequestedProvider>,
    window_id: Option<i32>,
    created_at_ms: u64,
}

type PendingMap = BTreeMap<String, Pending>;

thread_local! {
    static WAITERS: RefCell<HashMap<String, Vec<Deferred>>> = RefCell::new(HashMap::new());
    static MAP_LOCKED: Cell<bool> = const { Cell::new(false) };
    static MAP_QUEUE: RefCell<VecDeque<Deferred>> = const { RefCell::new(VecDeque::new()) };
}

/// Exclusive use of the pending map across `.await`s (the worker is single-threaded, so a
/// flag and a queue of waiters are enough). Released on drop, handing over in FIFO order.
struct MapLock;

impl MapLock {
    async fn acquire() -> Self {
        loop {
            if !MAP_LOCKED.with(Cell::get) {
                MAP_LOCKED.with(|l| l.set(true));
                return MapLock;
            }
            let turn = Deferred::new();
            let promise = turn.promise.clone();
            MAP_QUEUE.with(|q| q.borrow_mut().push_back(turn));
            let _ = JsFuture::from(promise).await;
        }
    }
}

impl Drop for MapLock {
    fn drop(&mut self) {
        MAP_LOCKED.with(|l| l.set(false));
        if let Some(next) = MAP_QUEUE.with(|q| q.borrow_mut().pop_front()) {
            next.resolve(&JsValue::UNDEFINED);
        }
    }
}

async fn load() -> EngineResult<PendingMap> {
    let value = storage::get(Area::Session, storage::PENDING).await?;
    Ok(storage::decode_json(&value)?.unwrap_or_default())
}

async fn save(map: &PendingMap) -> EngineResult<()> {
    storage::set(
        Area::Session,
        &[(storage::PENDING, storage::encode_json(map)?)],
    )
    .await?;
    refresh_badge().await;
    Ok(())
}

pub async fn pending_count() -> EngineResult<usize> {
    Ok(load().await?.len())
}

/// A pending approval as the popup lists it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingSummary {
    id: String,
    origin: String,
    providers: Vec<ProviderRow>,
    created_at_ms: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProviderRow {
    id: String,
    name: String,
    required: bool,
}

/// Every pending approval, oldest first.
pub async fn list() -> EngineResult<Vec<PendingSummary>> {
    let mut list: Vec<PendingSummary> = load()
        .await?
        .into_values()
        .map(|p| PendingSummary {
            providers: p
                .providers
                .iter()
                .map(|r| ProviderRow {
                    id: r.id.clone(),
                    name: provider_name(&r.id),
                    required: r.required,
                })
                .collect(),
            id: p.id,
            origin: p.origin,
            created_at_ms: p.created_at_ms,
        })
        .collect();
    list.sort_by_key(|p| p.created_at_ms);
    Ok(list)
}

/// Brings the approval's window to the front, or opens a new one if it was lost
/// (the record outlives windows only across a worker restart, never a browser restart).
pub async fn focus(id: &str) -> EngineResult<()> {
    let _lock = MapLock::acquire().await;
    let mut map = load().await?;
    let pending = map.get_mut(id).ok_or_else(no_longer_pending)?;
    if let Some(window_id) = pending.window_id {
        let focused = chrome::call(
            &["windows"],
            "update",
            &[
                JsValue::from(window_id),
                chrome::object(&[("focused", JsValue::TRUE)]),
            ],
        )
        .await;
        if focused.is_ok() {
            return Ok(());
        }
    }
    pending.window_id = open_window(id).await?;
    save(&map).await
}

fn no_longer_pending() -> crate::error::EngineError {
    CoreError::InvalidInput("this approval is no longer pending".into()).into()
}

fn provider_name(id: &str) -> String {
    providers::find(id)
        .map(|f| f.name.to_string())
        .unwrap_or_else(|_| id.to_string())
}

/// Asks the user, in an extension window, whether `origin` may use `providers`.
/// Returns whether the user approved. `resume` re-attaches to this origin's open
/// approval (a content script whose worker restarted); otherwise a second request
/// while one is open is refused.
pub async fn ask(
    origin: &str,
    providers: Vec<RequestedProvider>,
    resume: bool,
) -> EngineResult<bool> {
    let lock = MapLock::acquire().await;
    let mut map = load().await?;
    let existing = map
        .values()
        .find(|p| p.origin == origin)
        .map(|p| p.id.clone());
    let id = match existing {
        Some(id) if resume => id,
        Some(_) => return Err(CoreError::ApprovalPending.into()),
        None => {
            let id = format!(
                "apr_{}",
                B64URL.encode(make_bytes::<12>(&mut BrowserRandom)?)
            );
            let window_id = open_window(&id).await?;
            let pending = Pending {
                id: id.clone(),
                origin: origin.to_string(),
                providers,
                window_id,
                created_at_ms: now_ms(),
            };
            map.insert(id.clone(), pending);
            save(&map).await?;
            id
        }
    };
    drop(lock);
    let deferred = Deferred::new();
    let promise = deferred.promise.clone();
    WAITERS.with(|w| w.borrow_mut().entry(id).or_default().push(deferred));
    let answer = JsFuture::from(promise).await.unwrap_or(JsValue::FALSE);
    Ok(answer.as_bool().unwrap_or(false))
}

async fn open_window(id: &str) -> EngineResult<Option<i32>> {
    let url = format!("approve/approve.html?id={id}");
    let options = chrome::object(&[
        ("url", url.into()),
        ("type", "popup".into()),
        ("width", JsValue::from(420)),
        ("height", JsValue::from(640)),
        ("focused", JsValue::TRUE),
    ]);
    let window = chrome::call(&["windows"], "create", &[options]).await?;
    Ok(chrome::field(&window, "id").as_f64().map(|v| v as i32))
}

/// The user's answer from the approval window.
pub async fn decide(
    id: &str,
    approve: bool,
    chosen: Vec<String>,
    expires_in_ms: Option<u64>,
) -> EngineResult<()> {
    let lock = MapLock::acquire().await;
    let mut map = load().await?;
    let pending = map.remove(id).ok_or_else(no_longer_pending)?;
    let approved = approve && !chosen.is_empty();
    if approved {
        let requested: Vec<&str> = pending.providers.iter().map(|p| p.id.as_str()).collect();
        if let Some(extra) = chosen.iter().find(|c| !requested.contains(&c.as_str())) {
            return Err(CoreError::InvalidInput(format!("{extra} was not requested")).into());
        }
        let now = now_ms();
        let expires = expires_in_ms.map(|ms| now.saturating_add(ms));
        state::with(|e| {
            e.grants
                .approve(&pending.origin, chosen, now, expires, &mut BrowserRandom)?;
            Ok(())
        })?;
        state::save_grants().await?;
    }
    save(&map).await?;
    drop(lock);
    resolve(id, approved);
    Ok(())
}

fn resolve(id: &str, approved: bool) {
    let waiters = WAITERS
        .with(|w| w.borrow_mut().remove(id))
        .unwrap_or_default();
    for waiter in waiters {
        waiter.resolve(&JsValue::from_bool(approved));
    }
}

/// Closing the approval window is a rejection.
pub async fn on_window_removed(window_id: i32) -> EngineResult<()> {
    let map = load().await?;
    let ids: Vec<String> = map
        .values()
        .filter(|p| p.window_id == Some(window_id))
        .map(|p| p.id.clone())
        .collect();
    for id in ids {
        decide(&id, false, Vec::new(), None).await?;
    }
    Ok(())
}

/// What the approval window shows: `{id, origin, wallet, locked, providers: [{id, name,
/// required, hasKey, granted}], alreadyGranted: [{id, name}], expiresAtMs}`. `hasKey` is null
/// while locked; `granted` marks providers this origin may already use.
pub async fn describe(id: &str) -> EngineResult<JsValue> {
    let map = load().await?;
    let pending = map.get(id).ok_or_else(no_longer_pending)?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        id: String,
        name: String,
        required: bool,
        has_key: Option<bool>,
        granted: bool,
    }
    let now = now_ms();
    let value = state::with(|e| {
        let wallet = e.wallet_state();
        let grant = e.grants.get(&pending.origin).filter(|g| g.is_live(now));
        let rows: Vec<Row> = pending
            .providers
            .iter()
            .map(|p| Row {
                id: p.id.clone(),
                name: provider_name(&p.id),
                required: p.required,
                has_key: e
                    .unlocked
                    .as_ref()
                    .map(|u| u.vault.credential_for_provider(&p.id).is_some()),
                granted: grant.is_some_and(|g| g.allows(&p.id)),
            })
            .collect();
        Ok(serde_json::json!({
            "id": pending.id,
            "origin": pending.origin,
            "providers": rows,
            "locked": e.unlocked.is_none(),
            "wallet": wallet,
            "alreadyGranted": grant
                .map(|g| {
                    g.providers
                        .iter()
                        .map(|id| serde_json::json!({ "id": id, "name": provider_name(id) }))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default(),
            "expiresAtMs": grant.and_then(|g| g.expires_at_ms),
        }))
    })?;
    crate::json::to_js(&value)
}

/// The toolbar badge counts pending approvals.
pub async fn refresh_badge() {
    let count = load().await.map(|m| m.len()).unwrap_or(0);
    let text = if count == 0 {
        String::new()
    } else {
        count.to_string()
    };
    let _ = chrome::call(
        &["action"],
        "setBadgeText",
        &[chrome::object(&[("text", text.into())])],
    )
    .await;
}

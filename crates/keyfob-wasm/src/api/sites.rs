//! Connected sites (grants) and pending approvals, as the popup shows them. A change
//! to one origin's grant is told to that origin's pages only.

use super::to_js;
use crate::approvals;
use crate::chrome::now_ms;
use crate::control;
use crate::error::EngineResult;
use crate::state;
use keyfob_core::grants::Grant;
use serde::Serialize;
use wasm_bindgen::JsValue;

/// `[{origin, providers, createdAtMs, expiresAtMs, nonce, expired, expiresInMs}]`, sorted
/// by origin. `expired` and `expiresInMs` (negative once past, null for "never") come from
/// the worker's clock, the one that enforces them.
pub fn list_grants() -> EngineResult<JsValue> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Row {
        #[serde(flatten)]
        grant: Grant,
        expired: bool,
        expires_in_ms: Option<i64>,
    }
    let now = now_ms();
    let rows = state::with(|e| {
        Ok(e.grants
            .list()
            .into_iter()
            .map(|g| Row {
                grant: g.clone(),
                expired: !g.is_live(now),
                expires_in_ms: g.expires_at_ms.map(|exp| {
                    i64::try_from(exp).unwrap_or(i64::MAX) - i64::try_from(now).unwrap_or(0)
                }),
            })
            .collect::<Vec<_>>())
    })?;
    to_js(&rows)
}

/// Removes the grant; the origin's open sessions get `disconnect` at once.
pub async fn revoke(origin: &str) -> EngineResult<JsValue> {
    let removed = state::with(|e| Ok(e.grants.revoke(origin)))?;
    state::save_grants().await?;
    if removed {
        control::notify_origin(origin, "disconnect", JsValue::NULL);
    }
    Ok(JsValue::from_bool(removed))
}

/// Replaces the granted providers; the origin's pages get `providersUpdated`.
pub async fn set_providers(origin: &str, providers: Vec<String>) -> EngineResult<JsValue> {
    state::with(|e| Ok(e.grants.set_providers(origin, providers)?))?;
    state::save_grants().await?;
    let update = control::providers_status(origin)?;
    control::notify_origin(origin, "providersUpdated", update);
    Ok(JsValue::TRUE)
}

/// `[{id, origin, providers: [{id, name, required}], createdAtMs}]`, oldest first.
pub async fn list_approvals() -> EngineResult<JsValue> {
    to_js(&approvals::list().await?)
}

//! Metering around one exchange, in the order keyfob-core's `metering` module documents:
//! before (note, request facts, policy, budget reservation, `include_usage`), during
//! (the response meter fed a copy of each batch) and after (settle, audit record).

use crate::chrome::now_ms;
use crate::error::EngineResult;
use crate::request_approvals;
use crate::state;
use js_sys::Uint8Array;
use keyfob_core::metering::{
    self, audit::path_of, context::read_note, request_body, AppNote, AuditRecord, GrantPolicy,
    LocalClock, Metered, RequestFacts, ReservationId, ResponseMeter, RollupPolicy,
};
use keyfob_core::CoreError;
use wasm_bindgen::JsValue;

/// Request bodies larger than this are not read for a model name (uploads).
const MAX_INSPECTED_BODY: u32 = 4 << 20;

/// What an admitted exchange carries until it ends.
pub struct Ticket {
    origin: String,
    provider: &'static str,
    path: String,
    facts: RequestFacts,
    note: AppNote,
    reservation: ReservationId,
    started_ms: u64,
    pub meter: Option<ResponseMeter>,
}

/// The local clock: days, weeks and months for budgets follow the user's time zone.
pub fn clock() -> LocalClock {
    let offset = -js_sys::Date::new_0().get_timezone_offset();
    LocalClock {
        now_ms: now_ms(),
        utc_offset_minutes: offset as i32,
    }
}

/// A request about to go upstream, as the metering checks see it.
pub struct Admission<'a> {
    pub origin: &'a str,
    pub provider: &'static str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: Option<&'a Uint8Array>,
    pub policy: &'a GrantPolicy,
}

/// The checks that must pass before anything goes upstream. Returns the ticket and, when
/// usage reporting had to be switched on, the body to send instead. A refusal is audited.
pub async fn admit(request: Admission<'_>) -> EngineResult<(Ticket, Option<Uint8Array>)> {
    let mut model = None;
    let admitted = checked(&request, &mut model).await;
    if let Err(error) = &admitted {
        let (status, code) = (error.http_status(), error.code());
        record_refusal(
            request.origin,
            request.provider,
            request.url,
            model,
            status,
            code,
        );
    }
    admitted
}

async fn checked(
    request: &Admission<'_>,
    model: &mut Option<String>,
) -> EngineResult<(Ticket, Option<Uint8Array>)> {
    let Admission {
        origin,
        provider,
        url,
        headers,
        body,
        policy,
    } = *request;
    let path = path_of(url);
    let note = read_note(headers)?;
    let content_type = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.as_str());
    let bytes = match body {
        Some(b) if b.length() <= MAX_INSPECTED_BODY => b.to_vec(),
        _ => Vec::new(),
    };
    // A body that cannot be read for its model is refused only where it matters (a model
    // allow-list or a budget); otherwise the request goes on, unmetered.
    let facts = match request_body::read_request(provider, &path, content_type, &bytes) {
        Ok(facts) => facts,
        Err(error) if !policy.models.allows_all() || !policy.budgets.is_empty() => {
            return Err(error.into())
        }
        Err(_) => request_body::read_request(provider, &path, None, &[])?,
    };
    model.clone_from(&facts.model);
    policy.check_request(&path, facts.model.as_deref())?;
    let estimate = metering::estimate(provider, &facts);
    if policy.needs_approval(&estimate) {
        let approved =
            request_approvals::ask(origin, provider, facts.model.as_deref(), estimate).await?;
        if !approved {
            return Err(CoreError::UserRejected.into());
        }
    }
    let clock = clock();
    // Every request reserves and settles, with or without limits, so spending is counted
    // from the start and a budget set later sees what was already spent in its period.
    let reservation = state::with(|e| {
        Ok(e.budgets
            .reserve(origin, &policy.budgets, estimate, &clock)?)
    })?;
    let rewritten = request_body::add_include_usage(provider, &path, &bytes)
        .map(|b| Uint8Array::from(b.as_slice()));
    let ticket = Ticket {
        origin: origin.to_string(),
        provider,
        path,
        facts,
        note,
        reservation,
        started_ms: clock.now_ms,
        meter: None,
    };
    Ok((ticket, rewritten))
}

impl Ticket {
    /// Starts reading usage from a response with this content type.
    pub fn start_meter(&mut self, content_type: Option<&str>) {
        self.meter = Some(ResponseMeter::for_request(
            self.provider,
            &self.path,
            &self.facts,
            content_type,
        ));
    }

    pub fn feed(&mut self, bytes: &Uint8Array) {
        // The copy into WASM memory is made only for a body the meter actually reads.
        if let Some(meter) = self.meter.as_mut().filter(|m| m.is_reading()) {
            meter.feed(&bytes.to_vec());
        }
    }

    /// Settles the reservation with what the provider reported and records the request.
    /// `status` is what the page saw (0: no response); `error_code` a wallet failure.
    pub fn finish(self, status: u16, error_code: Option<&str>) {
        let clock = clock();
        let metered = self.meter.map(ResponseMeter::finish).unwrap_or(Metered {
            usage: None,
            model: None,
            complete: false,
        });
        let model = metered.model.clone().or(self.facts.model.clone());
        let outcome = metering::settlement(self.provider, model.as_deref(), &metered, status);
        // A request that failed with no usage reported cost nothing (providers do not
        // bill failures); one with usage costs what its model's price says, if known.
        let cost = match metered.usage {
            Some(u) => metering::cost_of_usage(self.provider, model.as_deref(), &u),
            None if status == 0 || status >= 400 => Some(0),
            None => None,
        };
        let record = AuditRecord {
            time_ms: self.started_ms,
            origin: self.origin,
            provider: self.provider.to_string(),
            model,
            path: self.path,
            status,
            error_code: error_code.map(str::to_string),
            usage: metered.usage.unwrap_or_default(),
            usage_complete: metered.complete,
            cost_nano_usd: cost,
            duration_ms: clock.now_ms.saturating_sub(self.started_ms),
            note: self.note,
        };
        let _ = state::with(|e| {
            e.budgets.settle(self.reservation, outcome, &clock);
            e.ledger()?.record(record, &clock, &RollupPolicy::default());
            Ok(())
        });
        state::save_metering_soon();
    }
}

/// Records a request Keyfob refused after authorising the site (policy, budget, context,
/// per-request rejection): it never reached the provider and cost nothing, but the user
/// sees it in the audit log.
fn record_refusal(
    origin: &str,
    provider: &str,
    url: &str,
    model: Option<String>,
    status: u16,
    code: &str,
) {
    let clock = clock();
    let record = AuditRecord {
        time_ms: clock.now_ms,
        origin: origin.to_string(),
        provider: provider.to_string(),
        model,
        path: path_of(url),
        status,
        error_code: Some(code.to_string()),
        usage: Default::default(),
        usage_complete: false,
        cost_nano_usd: Some(0),
        duration_ms: 0,
        note: AppNote::default(),
    };
    let _ = state::with(|e| {
        e.ledger()?.record(record, &clock, &RollupPolicy::default());
        Ok(())
    });
    state::save_metering_soon();
}

/// `session.getUsage()`: this origin's totals, and per provider.
pub fn usage_of(origin: &str) -> EngineResult<JsValue> {
    let summary = state::with(|e| Ok(e.ledger()?.summary(origin)))?;
    crate::json::to_js(&summary)
}

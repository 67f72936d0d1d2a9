//! The end of an exchange: the response meter, the one settlement ([`super::charge`])
//! and the audit record, or a refusal after authorisation (audited, charged nothing).
//! A routed exchange is recorded as the app's call with where it was served
//! ([`crate::metering::audit::Routed`]); its cost is the served model's.
//! A call that reads a stored response counts its usage only for a background response,
//! and only beyond what that response's creation was charged
//! ([`crate::metering::background`]).

use super::charge::{self, End};
use super::request::{ExchangeId, Step};
use super::store::Record;
use super::Wallet;
use crate::metering::{
    Amount, AppNote, AuditRecord, LocalClock, Metered, ResponseMeter, RollupPolicy,
};
use crate::CoreError;

impl Wallet {
    /// The response's status and content type arrived. Returns whether the meter reads
    /// the body (the glue copies bytes in only then).
    pub fn response_head(
        &mut self,
        id: ExchangeId,
        status: u16,
        content_type: Option<&str>,
    ) -> bool {
        let Some(ex) = self.exchanges.open.get_mut(&id) else {
            return false;
        };
        ex.status = Some(status);
        let meter = match &ex.facts {
            Some(facts) => {
                ResponseMeter::for_request(ex.provider.id, &ex.path, facts, content_type)
            }
            None => return false,
        };
        let reading = meter.is_reading();
        ex.meter = Some(meter);
        reading
    }

    /// The next piece of the response body, exactly as the caller receives it.
    pub fn response_body(&mut self, id: ExchangeId, chunk: &[u8]) {
        if let Some(meter) = self
            .exchanges
            .open
            .get_mut(&id)
            .and_then(|ex| ex.meter.as_mut())
        {
            meter.feed(chunk);
        }
    }

    /// The exchange is over: settle its reservation and record it. Returns the record.
    pub fn end_request(
        &mut self,
        id: ExchangeId,
        end: End,
        clock: &LocalClock,
    ) -> Option<AuditRecord> {
        let ex = self.exchanges.open.remove(&id)?;
        self.exchanges.approvals.retain(|_, a| a.exchange != id);
        let (metered, object) = ex.meter.map(ResponseMeter::finish_with_object).unzip();
        let object = object.unwrap_or_default();
        let payer = ex.caller.grant_key();
        // A stored response read again: only a background response's usage counts, and
        // only beyond what its creation was already charged.
        let reads = ex.facts.as_ref().and_then(|f| f.response_id.as_deref());
        let (metered, credit) = match reads {
            Some(_) if !object.background => (metered.map(without_usage), Amount::ZERO),
            Some(response) => {
                let credit = self.exchanges.background.credit(response, payer);
                (metered, credit.unwrap_or(Amount::ZERO))
            }
            None => (metered, Amount::ZERO),
        };
        let model = metered
            .as_ref()
            .and_then(|m| m.model.clone())
            .or_else(|| ex.facts.as_ref().and_then(|f| f.model.clone()));
        let charged = charge::charge(
            &mut self.budgets,
            ex.reservation,
            end,
            ex.status,
            metered.as_ref(),
            credit,
            ex.provider.id,
            model.as_deref(),
            clock,
        );
        let started = ex.facts.as_ref().is_some_and(|f| f.background);
        let answered = ex.status.is_some_and(|s| (200..300).contains(&s));
        let response = reads.map(str::to_string).or(object.id.filter(|_| started));
        if let Some(response) = response.filter(|_| answered && (started || object.background)) {
            let amount = Amount {
                tokens: charged.tokens,
                cost_nano_usd: charged.cost_nano_usd,
            };
            if amount != Amount::ZERO {
                self.exchanges.background.add(&response, payer, amount);
            }
        }
        let (provider, model, path, routed) = match ex.routing {
            Some(routing) => routing.audited(ex.provider, model),
            None => (ex.provider.id.to_string(), model, ex.path, None),
        };
        let record = AuditRecord {
            time_ms: ex.started_ms,
            origin: ex.caller.label().to_string(),
            provider,
            model,
            path,
            status: ex.status.unwrap_or(0),
            error_code: end.error_code().map(str::to_string),
            usage: metered.as_ref().and_then(|m| m.usage).unwrap_or_default(),
            usage_complete: metered.is_some_and(|m| m.complete),
            cost_nano_usd: charged.cost_nano_usd,
            duration_ms: clock.now_ms.saturating_sub(ex.started_ms),
            note: ex.note,
            routed,
        };
        self.record(record.clone(), clock);
        Some(record)
    }

    /// A refusal after the caller was authorised: nothing was sent, it cost nothing, and
    /// the user sees it in the activity log.
    pub(super) fn refuse(&mut self, id: ExchangeId, error: CoreError, clock: &LocalClock) -> Step {
        if let Some(ex) = self.exchanges.open.remove(&id) {
            self.exchanges.approvals.retain(|_, a| a.exchange != id);
            if let Some(r) = ex.reservation {
                self.budgets.release(r);
            }
            let model = ex.facts.and_then(|f| f.model);
            let (provider, model, path, routed) = match ex.routing {
                Some(routing) => routing.audited(ex.provider, model),
                None => (ex.provider.id.to_string(), model, ex.path, None),
            };
            let record = AuditRecord {
                time_ms: clock.now_ms,
                origin: ex.caller.label().to_string(),
                provider,
                model,
                path,
                routed,
                status: error.http_status(),
                error_code: Some(error.code().to_string()),
                cost_nano_usd: Some(0),
                note: AppNote::default(),
                ..AuditRecord::default()
            };
            self.record(record, clock);
        }
        Step::Refuse(error)
    }

    /// Appends to the audit log (kept aside while locked, appended when it reopens).
    pub(super) fn record(&mut self, record: AuditRecord, clock: &LocalClock) {
        match self.ledger_mut() {
            Ok(ledger) => ledger.record(record, clock, &RollupPolicy::default()),
            Err(_) => self.audit_backlog.push(record),
        }
        self.persistence
            .mark(Record::Audit, clock.now_ms, super::persist::COALESCE_MS);
        self.persistence
            .mark(Record::Budgets, clock.now_ms, super::persist::COALESCE_MS);
    }
}

/// What a meter learned, minus its usage (an answer whose usage was already charged).
fn without_usage(metered: Metered) -> Metered {
    Metered {
        usage: None,
        complete: false,
        ..metered
    }
}

//! Background responses: an OpenAI Responses call with `"background": true` keeps
//! running, and billing, after its answer has come back.
//!
//! Threat model: the page chooses the body, so a single request can start work that is
//! billed later, out of sight of the meter. Two things keep that from being free:
//!
//! - **A surface.** Such a request needs [`Surface::Background`](super::Surface), which
//!   the user ticks for the grant ([`super::policy`]); without it the request is refused
//!   before anything is sent (`AGENT_SCOPE_MISSING`).
//! - **Metering across calls.** The creation's answer is `queued` or `in_progress` and
//!   reports no usage, so it settles as any answer without a usage report: at least its
//!   reservation. Its usage arrives later, in the answer to a retrieval (`GET
//!   …/responses/{id}`) or a cancellation (`POST …/responses/{id}/cancel`), whose own
//!   request names no model. Those calls are metered too ([`stored_response`]), but an
//!   answer counts only when it says `"background": true`: a stored foreground
//!   response was charged when it was created, and reading it again costs nothing.
//!
//! So a background response is charged once, at the larger of its reservation and its
//! usage, however often it is read: [`BackgroundCharges`] remembers, per response id and
//! payer, what has been charged so far, and a retrieval charges only the part of its
//! usage beyond that ([`BackgroundCharges::credit`]). The memory is the worker's
//! (bounded, [`MAX_REMEMBERED`]): after a restart, or for a response another caller
//! started, a retrieval charges its whole usage. That may count a response twice, never
//! zero times.

use std::collections::VecDeque;

use super::budget::Amount;

/// How many background responses are remembered (the oldest is forgotten first).
pub const MAX_REMEMBERED: usize = 512;

/// What an answer said about the OpenAI Responses object it is (or carries in its
/// events), as the response meter read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResponseObject {
    /// The response's `id`.
    pub id: Option<String>,
    /// `"background": true`.
    pub background: bool,
}

/// The stored response a request to `path` reads or cancels, if it does: `GET
/// …/responses/{id}` or `POST …/responses/{id}/cancel` with an id OpenAI-style
/// (`resp_…`). `method` is upper case; `None` means unknown (either).
pub fn stored_response<'a>(method: Option<&str>, path: &'a str) -> Option<&'a str> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let at = segments.iter().position(|s| *s == "responses")?;
    let id = *segments.get(at + 1)?;
    if !id.starts_with("resp_") {
        return None;
    }
    let admits = |want: &str| method.is_none_or(|m| m == want);
    match &segments[at + 2..] {
        [] if admits("GET") => Some(id),
        ["cancel"] if admits("POST") => Some(id),
        _ => None,
    }
}

/// What has been charged for each background response this worker has seen.
#[derive(Debug, Default)]
pub struct BackgroundCharges {
    entries: VecDeque<Charged>,
}

#[derive(Debug)]
struct Charged {
    id: String,
    payer: String,
    amount: Amount,
}

impl BackgroundCharges {
    /// What `payer` has already been charged for response `id`, if it is remembered.
    pub fn credit(&self, id: &str, payer: &str) -> Option<Amount> {
        self.entries
            .iter()
            .find(|c| c.id == id && c.payer == payer)
            .map(|c| c.amount)
    }

    /// Adds `amount` to what `payer` has been charged for response `id`.
    pub fn add(&mut self, id: &str, payer: &str, amount: Amount) {
        match self
            .entries
            .iter_mut()
            .find(|c| c.id == id && c.payer == payer)
        {
            Some(c) => c.amount = sum(c.amount, amount),
            None => {
                if self.entries.len() >= MAX_REMEMBERED {
                    self.entries.pop_front();
                }
                self.entries.push_back(Charged {
                    id: id.to_string(),
                    payer: payer.to_string(),
                    amount,
                });
            }
        }
    }

    /// How many responses are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The part of `usage` not yet covered by `credit`: tokens and cost each reduced, never
/// below zero. An unknown cost stays unknown; a known cost against an unknown credit
/// (nothing was priced before) is charged whole.
pub fn beyond(usage: Amount, credit: Amount) -> Amount {
    Amount {
        tokens: usage.tokens.saturating_sub(credit.tokens),
        cost_nano_usd: match (usage.cost_nano_usd, credit.cost_nano_usd) {
            (Some(u), Some(c)) => Some(u.saturating_sub(c)),
            (u, _) => u,
        },
    }
}

/// Two charges together (an unknown cost stays unknown only if both are).
fn sum(a: Amount, b: Amount) -> Amount {
    Amount {
        tokens: a.tokens.saturating_add(b.tokens),
        cost_nano_usd: match (a.cost_nano_usd, b.cost_nano_usd) {
            (Some(x), Some(y)) => Some(x.saturating_add(y)),
            (x, y) => x.or(y),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(tokens: u64, cost: Option<u64>) -> Amount {
        Amount {
            tokens,
            cost_nano_usd: cost,
        }
    }

    #[test]
    fn stored_responses_by_path_and_method() {
        let id = "resp_68af4030592c81938ec0a5fbab4a3e9f";
        let get = format!("/v1/responses/{id}");
        let cancel = format!("/v1/responses/{id}/cancel");
        assert_eq!(stored_response(Some("GET"), &get), Some(id));
        assert_eq!(stored_response(None, &get), Some(id));
        assert_eq!(stored_response(Some("POST"), &cancel), Some(id));
        assert_eq!(
            stored_response(Some("GET"), &format!("/openai/v1/responses/{id}")),
            Some(id)
        );
        assert_eq!(stored_response(Some("DELETE"), &get), None);
        assert_eq!(stored_response(Some("GET"), &cancel), None);
        for path in [
            "/v1/responses",
            "/v1/responses/input_tokens",
            "/v1/responses/compact",
            &format!("/v1/responses/{id}/input_items"),
            "/v1/chat/completions/resp_1",
        ] {
            assert_eq!(stored_response(None, path), None, "{path}");
        }
    }

    #[test]
    fn a_response_is_charged_once_at_the_larger_of_reservation_and_usage() {
        let mut book = BackgroundCharges::default();
        // The creation was charged its reservation: 5000 tokens, $0.05.
        book.add("resp_1", "https://a.test", amount(5000, Some(50_000_000)));
        let credit = book.credit("resp_1", "https://a.test").expect("remembered");
        // Usage below the reservation: nothing more.
        assert_eq!(
            beyond(amount(1200, Some(9_000_000)), credit),
            amount(0, Some(0))
        );
        // Usage above it: only the difference, and the total is remembered.
        let more = beyond(amount(8000, Some(80_000_000)), credit);
        assert_eq!(more, amount(3000, Some(30_000_000)));
        book.add("resp_1", "https://a.test", more);
        let again = beyond(
            amount(8000, Some(80_000_000)),
            book.credit("resp_1", "https://a.test").expect("remembered"),
        );
        assert_eq!(again, amount(0, Some(0)), "a second read charges nothing");
        // Another payer, or an unknown id, has no credit.
        assert_eq!(book.credit("resp_1", "https://b.test"), None);
        assert_eq!(book.credit("resp_2", "https://a.test"), None);
    }

    #[test]
    fn unknown_costs_stay_unknown_and_known_costs_are_not_lost() {
        assert_eq!(
            beyond(amount(10, None), amount(5, Some(1))),
            amount(5, None)
        );
        assert_eq!(
            beyond(amount(10, Some(7)), amount(5, None)),
            amount(5, Some(7))
        );
        assert_eq!(sum(amount(1, None), amount(2, Some(3))), amount(3, Some(3)));
    }

    #[test]
    fn memory_is_bounded_oldest_first() {
        let mut book = BackgroundCharges::default();
        for i in 0..=MAX_REMEMBERED {
            book.add(&format!("resp_{i}"), "p", amount(1, Some(1)));
        }
        assert_eq!(book.len(), MAX_REMEMBERED);
        assert_eq!(book.credit("resp_0", "p"), None);
        assert!(book
            .credit(&format!("resp_{MAX_REMEMBERED}"), "p")
            .is_some());
    }
}

//! Per-grant policy: model allow-list, agent and long-running surfaces, expiry,
//! budgets and the "ask me above $X" threshold.
//!
//! Threat model: the page chooses the path and the body. The checks here run on the
//! path the request planner accepted and on the model read by
//! [`super::request_body::read_request`] (which refuses bodies it cannot read
//! unambiguously), before anything is sent upstream.
//!
//! - **Surfaces.** Agent sessions, stored files, batch jobs and background responses
//!   keep running, storing or billing after the page is gone, so they are off unless the
//!   user ticked them for this grant (`AGENT_SCOPE_MISSING`). Classification is by path
//!   segment and applies to every provider, so a provider added later is covered too;
//!   a background response is known by its body (`"background": true`, read by
//!   [`super::body_scan`]), on any path. A body that cannot be read while that surface
//!   is off is refused on a path that can start one ([`GrantPolicy::needs_body`]).
//! - **Models.** An empty allow-list allows every model. Otherwise the request's model
//!   must equal an exact entry or start with a prefix entry (`MODEL_NOT_ALLOWED`). A
//!   request that names no model (listing models, reading a file) passes: it cannot
//!   start a generation.
//! - **Expiry.** An expired grant answers `GRANT_EXPIRED` so the app can ask again.

use serde::{Deserialize, Serialize};

use super::budget::{Amount, BudgetLimit};
use super::request_body::RequestFacts;
use crate::providers::truncate_for_message;
use crate::CoreError;

/// Shortest and longest grant lifetimes offered (1 hour … 90 days), besides "never".
pub const MIN_GRANT_HOURS: u32 = 1;
pub const MAX_GRANT_HOURS: u32 = 90 * 24;
/// Most entries in a model allow-list, and longest entry.
const MAX_MODEL_ENTRIES: usize = 100;
const MAX_MODEL_ENTRY_CHARS: usize = 256;

/// A long-running or billable surface that is off unless ticked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Surface {
    /// Managed agents: Anthropic `/v1/agents`, `/v1/sessions`, `/v1/environments`,
    /// `/v1/vaults`.
    Agents,
    /// Stored data: files, uploads, vector stores, Gemini cached contents.
    Files,
    /// Batch and asynchronous jobs.
    Batches,
    /// Background responses (OpenAI Responses `"background": true`): they keep running
    /// and billing after the call returns, and are charged when their result is read
    /// ([`super::background`]).
    Background,
}

impl Surface {
    fn label(self) -> &'static str {
        match self {
            Surface::Agents => "managed agents",
            Surface::Files => "file storage",
            Surface::Batches => "batch jobs",
            Surface::Background => {
                "background responses (they keep running and billing after the call)"
            }
        }
    }
}

/// Which models a grant may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelAllowList {
    #[serde(default)]
    pub exact: Vec<String>,
    #[serde(default)]
    pub prefixes: Vec<String>,
}

impl ModelAllowList {
    /// Whether the list is empty (every model allowed).
    pub fn allows_all(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// Whether `model` is allowed (Gemini's `models/` prefix is ignored).
    pub fn allows(&self, model: &str) -> bool {
        let model = model.strip_prefix("models/").unwrap_or(model);
        self.allows_all()
            || self.exact.iter().any(|m| m == model)
            || self.prefixes.iter().any(|p| model.starts_with(p.as_str()))
    }

    /// `MODEL_NOT_ALLOWED` unless `model` (if any) is allowed.
    pub fn check(&self, model: Option<&str>) -> Result<(), CoreError> {
        match model {
            Some(m) if !self.allows(m) => Err(CoreError::ModelNotAllowed(truncate_for_message(m))),
            _ => Ok(()),
        }
    }
}

/// Everything the user set for one grant besides its providers and expiry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantPolicy {
    #[serde(default)]
    pub models: ModelAllowList,
    /// Surfaces the user ticked.
    #[serde(default)]
    pub surfaces: Vec<Surface>,
    #[serde(default)]
    pub budgets: Vec<BudgetLimit>,
    /// Ask before any request whose estimated cost exceeds this (nano-USD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ask_above_nano_usd: Option<u64>,
}

impl GrantPolicy {
    /// Checks a policy from the UI: allow-list entries are non-empty, short and free of
    /// control characters; no period has two limits.
    pub fn validate(&self) -> Result<(), CoreError> {
        let entries = self.models.exact.iter().chain(&self.models.prefixes);
        if self.models.exact.len() + self.models.prefixes.len() > MAX_MODEL_ENTRIES {
            return Err(CoreError::InvalidInput("too many model entries".into()));
        }
        for entry in entries {
            if entry.trim().is_empty()
                || entry.chars().count() > MAX_MODEL_ENTRY_CHARS
                || entry.chars().any(char::is_control)
            {
                return Err(CoreError::InvalidInput(format!(
                    "model entry '{}' is not valid",
                    truncate_for_message(entry)
                )));
            }
        }
        for (i, a) in self.budgets.iter().enumerate() {
            if self.budgets[i + 1..].iter().any(|b| b.period == a.period) {
                return Err(CoreError::InvalidInput(
                    "a period has more than one budget".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether enforcing this policy needs the request's model: a model allow-list, a
    /// budget or an approval threshold.
    pub fn needs_model(&self) -> bool {
        !self.models.allows_all() || !self.budgets.is_empty() || self.ask_above_nano_usd.is_some()
    }

    /// Whether a request to `path` must have a readable body: when the policy needs its
    /// model, or when the body could start a background response the grant does not
    /// allow (a Responses create: the last path segment is `responses`).
    pub fn needs_body(&self, path: &str) -> bool {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let creates_response = path.rsplit('/').next() == Some("responses");
        self.needs_model() || (creates_response && !self.surfaces.contains(&Surface::Background))
    }

    /// The checks that need only the path and the body's facts: surfaces, then model.
    pub fn check_request(&self, path: &str, facts: &RequestFacts) -> Result<(), CoreError> {
        let by_body = facts.background.then_some(Surface::Background);
        for surface in classify_surface(path).into_iter().chain(by_body) {
            if !self.surfaces.contains(&surface) {
                return Err(CoreError::AgentScopeMissing(surface.label().into()));
            }
        }
        self.models.check(facts.model.as_deref())
    }

    /// Whether a request with this estimate needs the user's approval first. An
    /// unknown cost needs it whenever a threshold is set.
    pub fn needs_approval(&self, estimate: &Amount) -> bool {
        match (self.ask_above_nano_usd, estimate.cost_nano_usd) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(max), Some(cost)) => cost > max,
        }
    }
}

/// The limits form as the user typed it (the approval window, the Sites tab).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PolicyForm {
    pub budgets: Vec<BudgetForm>,
    /// One model per line; a line ending in `*` is a family prefix.
    pub models: String,
    pub surfaces: Vec<Surface>,
    /// "Ask me above $", empty for never.
    pub ask_above: String,
}

/// One budget row: a period, and a token and/or USD limit as typed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetForm {
    pub period: super::budget::Period,
    #[serde(default)]
    pub tokens: String,
    #[serde(default)]
    pub usd: String,
}

/// What is wrong with a form, and which field to focus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FormProblem {
    /// `tokens`, `usd` or `period` (with `row`), `models` or `ask`.
    pub field: &'static str,
    pub row: Option<usize>,
    pub message: String,
}

impl PolicyForm {
    /// The policy the form describes, or the first problem in it.
    pub fn parse(&self) -> Result<GrantPolicy, FormProblem> {
        let problem = |field, row, message: &str| FormProblem {
            field,
            row,
            message: message.to_string(),
        };
        let mut budgets: Vec<BudgetLimit> = Vec::new();
        for (i, row) in self.budgets.iter().enumerate() {
            let tokens: String = row
                .tokens
                .chars()
                .filter(|c| !matches!(c, ' ' | ',' | '_'))
                .collect();
            let max_tokens = match tokens.as_str() {
                "" => None,
                t => Some(
                    t.parse::<u64>()
                        .ok()
                        .filter(|_| t.bytes().all(|b| b.is_ascii_digit()))
                        .ok_or_else(|| {
                            problem(
                                "tokens",
                                Some(i),
                                "Max tokens is a whole number, like 100000.",
                            )
                        })?,
                ),
            };
            let usd = row.usd.trim();
            let max_cost_nano_usd = match usd.strip_prefix('$').unwrap_or(usd) {
                "" => None,
                text => Some(parse_usd(text).ok_or_else(|| {
                    problem("usd", Some(i), "Max USD is an amount, like 5 or 0.50.")
                })?),
            };
            if max_tokens.is_none() && max_cost_nano_usd.is_none() {
                return Err(problem(
                    "tokens",
                    Some(i),
                    "Give each budget a token or USD limit, or remove it.",
                ));
            }
            if budgets.iter().any(|b| b.period == row.period) {
                return Err(problem(
                    "period",
                    Some(i),
                    "Each period can have one budget.",
                ));
            }
            budgets.push(BudgetLimit {
                period: row.period,
                max_tokens,
                max_cost_nano_usd,
            });
        }
        let mut models = ModelAllowList::default();
        for line in self.models.lines().map(str::trim).filter(|l| !l.is_empty()) {
            match line.strip_suffix('*').map(str::trim) {
                Some(prefix) if !prefix.is_empty() && !prefix.contains('*') => {
                    models.prefixes.push(prefix.to_string())
                }
                Some(_) => {
                    return Err(problem(
                        "models",
                        None,
                        &format!("“{}” is not a model or family.", truncate_for_message(line)),
                    ))
                }
                None if line.contains('*') => {
                    return Err(problem("models", None, "Put * only at the end of a line."))
                }
                None => models.exact.push(line.to_string()),
            }
        }
        let ask = self.ask_above.trim();
        let ask_above_nano_usd =
            match ask.strip_prefix('$').unwrap_or(ask) {
                "" => None,
                text => Some(parse_usd(text).ok_or_else(|| {
                    problem("ask", None, "“Ask me above” is an amount, like 0.25.")
                })?),
            };
        let mut surfaces = self.surfaces.clone();
        surfaces.sort();
        surfaces.dedup();
        let policy = GrantPolicy {
            models,
            surfaces,
            budgets,
            ask_above_nano_usd,
        };
        policy
            .validate()
            .map_err(|e| problem("models", None, &e.to_string()))?;
        Ok(policy)
    }
}

/// A plain non-negative dollar amount (`5`, `0.50`, `.25`, up to nine decimals, at most
/// $1,000,000) in nano-USD, exactly (no floating point).
pub fn parse_usd(text: &str) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !digits(whole)
        || !digits(fraction)
        || fraction.len() > 9
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if whole > 1_000_000 {
        return None;
    }
    let fraction: u64 = format!("{fraction:0<9}").parse().ok()?;
    let nano = whole * 1_000_000_000 + fraction;
    (nano <= 1_000_000 * 1_000_000_000).then_some(nano)
}

/// The surface a path belongs to, if it is one of the gated ones.
pub fn classify_surface(path: &str) -> Option<Surface> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    // Managed-agent resources sit right under the API version: /v1/agents/...
    // (Mistral's stateless `/v1/agents/completions` is a chat call, not an agent run.)
    if let [version, first, rest @ ..] = segments.as_slice() {
        let mut chars = version.chars();
        let is_version = chars.next() == Some('v')
            && chars.next().is_some_and(|c| c.is_ascii_digit())
            && chars.all(|c| c.is_ascii_alphanumeric());
        let agent_resource = matches!(*first, "agents" | "sessions" | "environments" | "vaults");
        if is_version && agent_resource && rest != ["completions"] {
            return Some(Surface::Agents);
        }
    }
    for seg in &segments {
        match *seg {
            "files" | "uploads" | "vector_stores" | "cachedContents" => {
                return Some(Surface::Files)
            }
            "batches" | "batch" => return Some(Surface::Batches),
            _ => {}
        }
        if let Some((_, verb)) = seg.rsplit_once(':') {
            let batch_verb = verb.starts_with("batch") && verb != "batchEmbedContents";
            if batch_verb || verb.starts_with("asyncBatch") {
                return Some(Surface::Batches); // Gemini batch mode, e.g. `:batchGenerateContent`
            }
        }
    }
    if segments.first() == Some(&"async") {
        return Some(Surface::Batches); // Perplexity's async jobs
    }
    None
}

/// `GRANT_EXPIRED` once `now_ms` reaches the grant's expiry.
pub fn check_expiry(expires_at_ms: Option<u64>, now_ms: u64) -> Result<(), CoreError> {
    match expires_at_ms {
        Some(expiry) if now_ms >= expiry => Err(CoreError::GrantExpired),
        _ => Ok(()),
    }
}

/// The expiry for a grant approved at `now_ms` for `hours` (1 h … 90 d), or never.
pub fn expiry_after(now_ms: u64, hours: Option<u32>) -> Result<Option<u64>, CoreError> {
    match hours {
        None => Ok(None),
        Some(h) if (MIN_GRANT_HOURS..=MAX_GRANT_HOURS).contains(&h) => {
            Ok(Some(now_ms.saturating_add(u64::from(h) * 3_600_000)))
        }
        Some(_) => Err(CoreError::InvalidInput(
            "a grant lasts from 1 hour to 90 days, or until revoked".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_amounts_parse_exactly() {
        assert_eq!(parse_usd("5"), Some(5_000_000_000));
        assert_eq!(parse_usd("0.50"), Some(500_000_000));
        assert_eq!(parse_usd(".25"), Some(250_000_000));
        assert_eq!(parse_usd("0.000000001"), Some(1));
        assert_eq!(parse_usd("1000000"), Some(1_000_000_000_000_000));
        for bad in [
            "",
            ".",
            "-1",
            "1e3",
            "0.0000000001",
            "1,5",
            "1000001",
            " 1",
            "0x10",
        ] {
            assert_eq!(parse_usd(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_limits_form_parses_or_names_its_problem() {
        let form = PolicyForm {
            budgets: vec![BudgetForm {
                period: super::super::budget::Period::Day,
                tokens: "100,000".into(),
                usd: "$0.50".into(),
            }],
            models: "gpt-5*\n\n claude-haiku-4-5 \n".into(),
            surfaces: vec![Surface::Files, Surface::Files],
            ask_above: "0.25".into(),
        };
        let policy = form.parse().expect("valid");
        assert_eq!(policy.budgets[0].max_tokens, Some(100_000));
        assert_eq!(policy.budgets[0].max_cost_nano_usd, Some(500_000_000));
        assert_eq!(policy.models.prefixes, ["gpt-5"]);
        assert_eq!(policy.models.exact, ["claude-haiku-4-5"]);
        assert_eq!(policy.surfaces, [Surface::Files]);
        assert_eq!(policy.ask_above_nano_usd, Some(250_000_000));
        let bad = |f: PolicyForm| f.parse().map_err(|p| (p.field, p.row)).err();
        let mut f = form.clone();
        f.budgets[0].usd = "five".into();
        assert_eq!(bad(f), Some(("usd", Some(0))));
        let mut f = form.clone();
        f.budgets.push(f.budgets[0].clone());
        assert_eq!(bad(f), Some(("period", Some(1))));
        let mut f = form.clone();
        f.budgets[0] = BudgetForm {
            usd: String::new(),
            tokens: " ".into(),
            ..f.budgets[0].clone()
        };
        assert_eq!(bad(f), Some(("tokens", Some(0))));
        let mut f = form.clone();
        f.models = "g*pt".into();
        assert_eq!(bad(f), Some(("models", None)));
        let mut f = form;
        f.ask_above = "-1".into();
        assert_eq!(bad(f), Some(("ask", None)));
    }

    #[test]
    fn surfaces_by_path() {
        let cases = [
            ("/v1/agents", Some(Surface::Agents)),
            ("/v1/agents/agt_1/versions", Some(Surface::Agents)),
            ("/v1/sessions/s_1/events", Some(Surface::Agents)),
            ("/v1/environments", Some(Surface::Agents)),
            ("/v1/vaults/v_1", Some(Surface::Agents)),
            ("/v1/agents/completions", None),
            ("/v1/files", Some(Surface::Files)),
            ("/openai/v1/files/file-1/content", Some(Surface::Files)),
            ("/upload/v1beta/files", Some(Surface::Files)),
            ("/v1/vector_stores/vs_1/files", Some(Surface::Files)),
            ("/v1beta/cachedContents", Some(Surface::Files)),
            ("/v1/uploads/u_1/parts", Some(Surface::Files)),
            ("/v1/messages/batches", Some(Surface::Batches)),
            ("/v1/batches/b_1/cancel", Some(Surface::Batches)),
            ("/v1/batch/jobs", Some(Surface::Batches)),
            (
                "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
                Some(Surface::Batches),
            ),
            ("/v1beta/models/text-embedding-004:batchEmbedContents", None),
            (
                "/v1beta/models/text-embedding-004:asyncBatchEmbedContent",
                Some(Surface::Batches),
            ),
            ("/vaults/agents", None),
            ("/async/chat/completions", Some(Surface::Batches)),
            ("/v1/messages", None),
            ("/v1/chat/completions", None),
            ("/v1/responses", None),
            ("/v1/models/agents", None),
        ];
        for (path, want) in cases {
            assert_eq!(classify_surface(path), want, "{path}");
        }
    }

    fn facts(model: Option<&str>, background: bool) -> RequestFacts {
        RequestFacts {
            model: model.map(str::to_string),
            max_output_tokens: None,
            choices: 1,
            stream: false,
            background,
            response_id: None,
            generates: true,
            billable: true,
            body_bytes: 0,
        }
    }

    #[test]
    fn surfaces_are_off_unless_ticked() {
        let mut policy = GrantPolicy::default();
        let none = facts(None, false);
        let err = policy.check_request("/v1/sessions", &none);
        assert!(matches!(err, Err(CoreError::AgentScopeMissing(ref m)) if m == "managed agents"));
        assert_eq!(
            err.map_err(|e| (e.code(), e.http_status())),
            Err(("AGENT_SCOPE_MISSING", 403))
        );
        policy.surfaces.push(Surface::Agents);
        assert!(policy.check_request("/v1/sessions", &none).is_ok());
        assert!(policy.check_request("/v1/files", &none).is_err());
    }

    #[test]
    fn a_background_response_needs_its_surface() {
        let mut policy = GrantPolicy::default();
        let background = facts(Some("o3"), true);
        let err = policy.check_request("/v1/responses", &background);
        assert!(
            matches!(err, Err(CoreError::AgentScopeMissing(ref m)) if m.starts_with("background responses")),
            "{err:?}"
        );
        assert_eq!(
            err.map_err(|e| (e.code(), e.http_status())),
            Err(("AGENT_SCOPE_MISSING", 403))
        );
        // The same call in the foreground is an ordinary call.
        assert!(policy
            .check_request("/v1/responses", &facts(Some("o3"), false))
            .is_ok());
        // Judged by the body, whatever the path (Azure's and compatible servers' too).
        assert!(policy
            .check_request("/openai/v1/responses", &background)
            .is_err());
        policy.surfaces.push(Surface::Background);
        assert!(policy.check_request("/v1/responses", &background).is_ok());
        // Ticking it allows nothing else, and the model allow-list still applies.
        assert!(policy.check_request("/v1/batches", &background).is_err());
        policy.models.exact.push("gpt-4o-mini".into());
        assert_eq!(
            policy.check_request("/v1/responses", &background),
            Err(CoreError::ModelNotAllowed("o3".into()))
        );
    }

    #[test]
    fn an_unreadable_body_is_refused_where_it_could_start_a_background_response() {
        let mut policy = GrantPolicy::default();
        assert!(policy.needs_body("/v1/responses"));
        assert!(policy.needs_body("/openai/v1/responses"));
        assert!(!policy.needs_body("/v1/chat/completions"));
        assert!(!policy.needs_body("/v1/responses/resp_1/cancel"));
        policy.surfaces.push(Surface::Background);
        assert!(!policy.needs_body("/v1/responses"));
        policy.budgets.push(BudgetLimit {
            period: super::super::budget::Period::Day,
            max_tokens: Some(1),
            max_cost_nano_usd: None,
        });
        assert!(policy.needs_body("/v1/chat/completions"));
    }

    #[test]
    fn model_allow_list_exact_and_prefix() {
        let list = ModelAllowList {
            exact: vec!["gpt-4o-mini".into()],
            prefixes: vec!["claude-haiku-".into()],
        };
        assert!(list.allows("gpt-4o-mini"));
        assert!(!list.allows("gpt-4o-mini-2024-07-18"));
        assert!(!list.allows("gpt-4o"));
        assert!(!list.allows("GPT-4O-MINI"));
        assert!(list.allows("claude-haiku-4-5"));
        assert!(!list.allows("claude-sonnet-4-5"));
        assert!(
            !list.allows("ft:claude-haiku-4-5:org"),
            "a prefix anchors at the start"
        );
        assert!(ModelAllowList::default().allows("anything"));
        let gemini = ModelAllowList {
            exact: vec!["gemini-2.5-flash".into()],
            prefixes: vec![],
        };
        assert!(gemini.allows("models/gemini-2.5-flash"));
        let err = list.check(Some("gpt-5\u{0}"));
        assert_eq!(err, Err(CoreError::ModelNotAllowed("gpt-5".into())));
        assert_eq!(err.map_err(|e| e.http_status()), Err(403));
        assert!(list.check(None).is_ok());
    }

    #[test]
    fn expiry_and_lifetimes() {
        assert!(check_expiry(None, u64::MAX).is_ok());
        assert!(check_expiry(Some(10), 9).is_ok());
        let err = check_expiry(Some(10), 10);
        assert_eq!(err, Err(CoreError::GrantExpired));
        assert_eq!(
            err.map_err(|e| (e.code(), e.http_status())),
            Err(("GRANT_EXPIRED", 401))
        );
        assert_eq!(expiry_after(1_000, Some(1)), Ok(Some(3_601_000)));
        assert_eq!(expiry_after(0, Some(2160)), Ok(Some(7_776_000_000)));
        assert_eq!(expiry_after(0, None), Ok(None));
        assert!(expiry_after(0, Some(0)).is_err());
        assert!(expiry_after(0, Some(2161)).is_err());
    }

    #[test]
    fn approval_threshold() {
        let mut policy = GrantPolicy::default();
        let est = |c| Amount {
            tokens: 1,
            cost_nano_usd: c,
        };
        assert!(!policy.needs_approval(&est(None)));
        policy.ask_above_nano_usd = Some(100);
        assert!(!policy.needs_approval(&est(Some(100))));
        assert!(policy.needs_approval(&est(Some(101))));
        assert!(policy.needs_approval(&est(None)));
    }

    #[test]
    fn policies_validate_and_round_trip() {
        let mut policy = GrantPolicy::default();
        assert!(policy.validate().is_ok());
        policy.models.prefixes.push(" ".into());
        assert!(policy.validate().is_err());
        policy.models.prefixes = vec!["gpt-".into()];
        let day = BudgetLimit {
            period: super::super::budget::Period::Day,
            max_tokens: Some(1),
            max_cost_nano_usd: None,
        };
        policy.budgets = vec![day, day];
        assert!(policy.validate().is_err());
        policy.budgets = vec![day];
        policy.surfaces = vec![Surface::Files];
        assert!(policy.validate().is_ok());
        let json = serde_json::to_string(&policy).expect("serialises");
        assert!(json.contains("\"surfaces\":[\"files\"]"), "{json}");
        assert!(json.contains("\"period\":\"day\""), "{json}");
        let back: GrantPolicy = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, policy);
        let empty: GrantPolicy = serde_json::from_str("{}").expect("defaults");
        assert_eq!(empty, GrantPolicy::default());
    }
}

//! The typed facts a [`super::Provider`] row carries besides its endpoint and paths:
//! how its calls are metered, where a request names its model, how its responses
//! report usage, how its key is tested and recognised, and how it is priced.
//!
//! Each is an enum (or a plain value) set explicitly in every row of
//! [`super::registry`], so no code elsewhere matches on a provider id, and no provider
//! falls into a default it was never checked against.

/// What a call allowed by a [`super::PathRule`] costs, for metering.
///
/// A call is read for usage only when it names a model (see
/// [`crate::metering::RequestFacts::metered`]); the class says what it bills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeterClass {
    /// An OpenAI-shaped chat or text completion (`…/chat/completions`,
    /// `…/completions`): bills input and output like [`MeterClass::Generate`], and is
    /// the one shape whose streams may be asked for usage with
    /// `stream_options.include_usage` (where the provider accepts it).
    Completion,
    /// Bills input and output tokens. Also the class of every rule whose calls may
    /// start billed work without being a plain generation (files, batches, uploads,
    /// conversations, cached contents): conservative, since such a call is metered
    /// only when it names a model.
    Generate,
    /// Bills input tokens only: embeddings, rerank, classify.
    Embed,
    /// Not billed: counting tokens, moderation, tokenising, and reads (model lists,
    /// file listings) and deletions.
    Free,
}

impl MeterClass {
    /// Whether the call bills output tokens.
    pub fn generates(self) -> bool {
        matches!(self, Self::Completion | Self::Generate)
    }

    /// Whether the call is billed at all.
    pub fn billable(self) -> bool {
        !matches!(self, Self::Free)
    }
}

/// Where a request to a provider names its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelIn {
    /// The body's `model` field (JSON or multipart form).
    Body,
    /// The path segment after the segment `after`. With `cut_at`, only the part of it
    /// before that character, and a segment without the character names no model
    /// (Gemini: `models/{model}:generateContent` names one, `GET models/{model}` does
    /// not). A path without such a segment falls back to the body's `model`.
    PathAfter {
        after: &'static str,
        cut_at: Option<char>,
    },
}

/// How a provider's responses report usage (see [`crate::metering::usage`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Anthropic,
    /// OpenAI and everything OpenAI-shaped (Chat Completions, Responses, embeddings).
    OpenAi,
    Gemini,
    /// Cohere's own API: v2 `usage.billed_units`, v1 `meta`.
    Cohere,
}

/// The "test key" call (see [`crate::request::plan_key_test`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyTest {
    /// `GET` this model-list path (it must be on the provider's allow-list as a GET).
    /// A 2xx answer means the key works; the models listed in it are counted.
    ListModels(&'static str),
    /// No cheap, read-only, authenticated call exists; the reason, for the table.
    None { why: &'static str },
}

/// The price lists of [`crate::metering::prices::PRICES`], one per provider that
/// publishes per-token prices Keyfob keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PriceList {
    Anthropic,
    OpenAi,
    Gemini,
    Cohere,
    DeepSeek,
    Xai,
    Groq,
}

/// How a provider's calls are priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pricing {
    /// List prices from the rows of this price list; a model with no row has an
    /// unknown cost.
    Table(PriceList),
    /// The provider reports each request's cost in its usage (OpenRouter's
    /// `usage.cost`), which is trusted; without a report the cost is unknown.
    Reported,
    /// No prices kept (deployment names, self-hosted servers, or lists not yet
    /// entered): every cost is unknown, never zero.
    Unknown,
}

/// A generation API a provider serves in one of the routing dialects
/// ([`crate::route::Dialect`]), for cross-provider routing: the dialect fixes the
/// endpoints (`messages`, `chat/completions`, `responses`,
/// `models/{model}:generateContent` / `:streamGenerateContent?alt=sse`), the row says
/// where they sit. A row with no `Speaks` is never routed to or from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Speaks {
    pub dialect: crate::route::Dialect,
    /// The API root the endpoints sit under, as Keyfob sends them (`/v1/`).
    pub root: &'static str,
    /// Other roots an app may call the same endpoints under (Gemini's `/v1/`).
    pub app_roots: &'static [&'static str],
}

impl Speaks {
    pub(crate) const fn at(dialect: crate::route::Dialect, root: &'static str) -> Self {
        Self {
            dialect,
            root,
            app_roots: &[],
        }
    }

    /// Every root an app may call, Keyfob's own first.
    pub fn roots(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.root).chain(self.app_roots.iter().copied())
    }
}

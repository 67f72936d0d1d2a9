//! List prices per model family, and the cost arithmetic.
//!
//! Every row names the price list it belongs to ([`PriceList`]; a provider's row says
//! which list prices it, through its [`Pricing`]), the model-id prefixes of its family
//! and the date its prices were read (`as_of`). A model matches a family when its id is the
//! family prefix followed by nothing or only by version suffixes (`-latest`, `-preview`,
//! `-exp`, or numeric parts of two or more digits such as `-20250514`, `-2024-08-06`,
//! `-0709`, `-001`). So `claude-opus-4-20250514` is Opus 4, while `claude-opus-4-5` is
//! not (a one-digit part is a new version), and `gpt-4o-mini` is not `gpt-4o`. A model
//! that matches no row — a new one, a fine-tune, an Azure deployment name, a router's
//! `vendor/model` id — still has its tokens counted; its cost is `None` ("unknown"),
//! never guessed and never zero. So is every cost at a provider priced
//! [`Pricing::Unknown`].
//!
//! Money is integer: prices are micro-USD per million tokens (`$1.25/M` is
//! `1_250_000`), costs are nano-USD (`1 USD = 1_000_000_000`), and a request's cost is
//! rounded up to the next nano-USD once, so totals add up exactly.
//!
//! Not modelled (each makes the figure an estimate, never a bill): batch discounts,
//! priority/flex tiers, regional surcharges, per-request fees (web search, grounding),
//! audio and image token rates that differ from text rates.

use crate::providers::{self, PriceList, Pricing};

/// Rates in micro-USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    pub input: u64,
    pub output: u64,
    /// Input read from a prompt cache.
    pub cache_read: u64,
    /// Input written to a prompt cache (Anthropic's 5-minute lifetime; others: `input`).
    pub cache_write: u64,
    /// Input written to a prompt cache with a one-hour lifetime (Anthropic).
    pub cache_write_1h: u64,
}

/// A model family's prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelPrice {
    /// Display name of the family.
    pub family: &'static str,
    /// The price list this row belongs to.
    pub list: PriceList,
    /// Model-id prefixes of the family.
    pub prefixes: &'static [&'static str],
    /// The date (`YYYY-MM-DD`) the prices were read from the provider's price list.
    pub as_of: &'static str,
    pub rates: Rates,
    /// Rates for the whole request when its input exceeds a threshold.
    pub long_context: Option<(u64, Rates)>,
}

const fn r(
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    cache_write_1h: u64,
) -> Rates {
    Rates {
        input,
        output,
        cache_read,
        cache_write,
        cache_write_1h,
    }
}

/// Rates without a cache-write premium: writes bill as plain input.
const fn plain(input: u64, output: u64, cache_read: u64) -> Rates {
    r(input, output, cache_read, input, input)
}

const M: u64 = 1_000_000; // $1 per million tokens, in micro-USD

const ANTHROPIC: PriceList = PriceList::Anthropic;
const OPENAI: PriceList = PriceList::OpenAi;
const GEMINI: PriceList = PriceList::Gemini;
const COHERE: PriceList = PriceList::Cohere;
const DEEPSEEK: PriceList = PriceList::DeepSeek;
const XAI: PriceList = PriceList::Xai;
const GROQ: PriceList = PriceList::Groq;

/// The price table. Anthropic: cache writes 1.25× input (5 min) and 2× (1 h), reads 0.1×;
/// Sonnet 4/4.5 and Gemini 2.5 Pro bill the whole request at higher rates above 200 000
/// input tokens.
#[rustfmt::skip]
pub static PRICES: &[ModelPrice] = &[
    // Anthropic, docs.anthropic.com/en/docs/about-claude/pricing.
    row("Claude Opus 4.5/4.6", ANTHROPIC, &["claude-opus-4-6", "claude-opus-4-5"], "2026-03-21",
        r(5 * M, 25 * M, M / 2, 6_250_000, 10 * M), None),
    row("Claude Opus 3/4/4.1", ANTHROPIC, &["claude-opus-4-1", "claude-opus-4", "claude-3-opus"], "2026-03-21",
        r(15 * M, 75 * M, 1_500_000, 18_750_000, 30 * M), None),
    row("Claude Sonnet 4.6", ANTHROPIC, &["claude-sonnet-4-6"], "2026-03-21",
        r(3 * M, 15 * M, 300_000, 3_750_000, 6 * M), None),
    row("Claude Sonnet 4/4.5", ANTHROPIC, &["claude-sonnet-4-5", "claude-sonnet-4"], "2026-03-21",
        r(3 * M, 15 * M, 300_000, 3_750_000, 6 * M),
        Some((200_000, r(6 * M, 22_500_000, 600_000, 7_500_000, 12 * M)))),
    row("Claude Sonnet 3.5/3.7", ANTHROPIC, &["claude-3-7-sonnet", "claude-3-5-sonnet"], "2026-03-21",
        r(3 * M, 15 * M, 300_000, 3_750_000, 6 * M), None),
    row("Claude Haiku 4.5", ANTHROPIC, &["claude-haiku-4-5"], "2026-03-21",
        r(M, 5 * M, 100_000, 1_250_000, 2 * M), None),
    row("Claude Haiku 3.5", ANTHROPIC, &["claude-3-5-haiku"], "2026-03-21",
        r(800_000, 4 * M, 80_000, M, 1_600_000), None),
    row("Claude Haiku 3", ANTHROPIC, &["claude-3-haiku"], "2026-03-21",
        r(250_000, 1_250_000, 30_000, 300_000, 500_000), None),
    // OpenAI, platform.openai.com/docs/pricing (standard tier).
    row("GPT-5.4", OPENAI, &["gpt-5.4"], "2026-06-01", plain(2_500_000, 15 * M, 250_000), None),
    row("GPT-5/5.1", OPENAI, &["gpt-5.1", "gpt-5", "gpt-5-chat"], "2026-03-21", plain(1_250_000, 10 * M, 125_000), None),
    row("GPT-5 mini", OPENAI, &["gpt-5-mini"], "2026-03-21", plain(250_000, 2 * M, 25_000), None),
    row("GPT-5 nano", OPENAI, &["gpt-5-nano"], "2026-03-21", plain(50_000, 400_000, 5_000), None),
    row("GPT-4.1", OPENAI, &["gpt-4.1"], "2026-03-21", plain(2 * M, 8 * M, M / 2), None),
    row("GPT-4.1 mini", OPENAI, &["gpt-4.1-mini"], "2026-03-21", plain(400_000, 1_600_000, 100_000), None),
    row("GPT-4.1 nano", OPENAI, &["gpt-4.1-nano"], "2026-03-21", plain(100_000, 400_000, 25_000), None),
    row("GPT-4o", OPENAI, &["gpt-4o", "chatgpt-4o"], "2026-03-21", plain(2_500_000, 10 * M, 1_250_000), None),
    row("GPT-4o mini", OPENAI, &["gpt-4o-mini"], "2026-03-21", plain(150_000, 600_000, 75_000), None),
    row("o3", OPENAI, &["o3"], "2026-03-21", plain(2 * M, 8 * M, M / 2), None),
    row("o4-mini", OPENAI, &["o4-mini"], "2026-03-21", plain(1_100_000, 4_400_000, 275_000), None),
    row("o3-mini", OPENAI, &["o3-mini"], "2026-03-21", plain(1_100_000, 4_400_000, 550_000), None),
    row("o1", OPENAI, &["o1"], "2026-03-21", plain(15 * M, 60 * M, 7_500_000), None),
    row("Embedding 3 small", OPENAI, &["text-embedding-3-small"], "2026-03-21", plain(20_000, 0, 20_000), None),
    row("Embedding 3 large", OPENAI, &["text-embedding-3-large"], "2026-03-21", plain(130_000, 0, 130_000), None),
    row("Embedding ada 002", OPENAI, &["text-embedding-ada-002"], "2026-03-21", plain(100_000, 0, 100_000), None),
    // Google, ai.google.dev/gemini-api/docs/pricing (paid tier, text; output includes thoughts).
    row("Gemini 2.5 Pro", GEMINI, &["gemini-2.5-pro"], "2025-10-01",
        plain(1_250_000, 10 * M, 125_000), Some((200_000, plain(2_500_000, 15 * M, 250_000)))),
    row("Gemini 2.5 Flash", GEMINI, &["gemini-2.5-flash"], "2025-10-01", plain(300_000, 2_500_000, 30_000), None),
    row("Gemini 2.5 Flash-Lite", GEMINI, &["gemini-2.5-flash-lite"], "2025-10-01", plain(100_000, 400_000, 10_000), None),
    row("Gemini 2.0 Flash", GEMINI, &["gemini-2.0-flash"], "2025-10-01", plain(100_000, 400_000, 25_000), None),
    row("Gemini 2.0 Flash-Lite", GEMINI, &["gemini-2.0-flash-lite"], "2025-10-01", plain(75_000, 300_000, 75_000), None),
    // Cohere, cohere.com/pricing (billed units).
    row("Command A", COHERE, &["command-a"], "2025-10-01", plain(2_500_000, 10 * M, 2_500_000), None),
    row("Command R+", COHERE, &["command-r-plus"], "2025-10-01", plain(2_500_000, 10 * M, 2_500_000), None),
    row("Command R", COHERE, &["command-r"], "2025-10-01", plain(150_000, 600_000, 150_000), None),
    row("Command R7B", COHERE, &["command-r7b"], "2025-10-01", plain(37_500, 150_000, 37_500), None),
    // DeepSeek, api-docs.deepseek.com/quick_start/pricing (cache miss / hit).
    row("DeepSeek V3.2", DEEPSEEK, &["deepseek-chat", "deepseek-reasoner"], "2025-10-01",
        plain(280_000, 420_000, 28_000), None),
    // xAI, docs.x.ai/docs/models.
    row("Grok 4", XAI, &["grok-4"], "2025-10-01", plain(3 * M, 15 * M, 750_000), None),
    row("Grok 3", XAI, &["grok-3"], "2025-10-01", plain(3 * M, 15 * M, 750_000), None),
    row("Grok 3 mini", XAI, &["grok-3-mini"], "2025-10-01", plain(300_000, 500_000, 75_000), None),
    // Groq, groq.com/pricing.
    row("Llama 3.3 70B (Groq)", GROQ, &["llama-3.3-70b-versatile"], "2025-10-01", plain(590_000, 790_000, 590_000), None),
    row("Llama 3.1 8B (Groq)", GROQ, &["llama-3.1-8b-instant"], "2025-10-01", plain(50_000, 80_000, 50_000), None),
];

const fn row(
    family: &'static str,
    list: PriceList,
    prefixes: &'static [&'static str],
    as_of: &'static str,
    rates: Rates,
    long_context: Option<(u64, Rates)>,
) -> ModelPrice {
    ModelPrice {
        family,
        list,
        prefixes,
        as_of,
        rates,
        long_context,
    }
}

/// The price row for `model` at the provider `provider_id`, through its row's
/// [`Pricing`]: `None` for an unknown provider, one whose prices are not kept, or a
/// model no row of its list matches.
pub fn find_price(provider_id: &str, model: &str) -> Option<&'static ModelPrice> {
    match providers::find(provider_id).ok()?.pricing {
        Pricing::Table(list) => find_in_list(list, model),
        Pricing::Reported | Pricing::Unknown => None,
    }
}

/// The model ids of `provider_id`'s generation families (priced output), newest first
/// as the table lists them: what the UI suggests for a route's served model.
pub fn chat_models(provider_id: &str) -> Vec<&'static str> {
    let Some(Pricing::Table(list)) = providers::find(provider_id).ok().map(|p| p.pricing) else {
        return Vec::new();
    };
    PRICES
        .iter()
        .filter(|p| p.list == list && p.rates.output > 0)
        .flat_map(|p| p.prefixes.iter().copied())
        .collect()
}

/// The row of `list` for `model`: the longest matching family prefix wins.
pub fn find_in_list(list: PriceList, model: &str) -> Option<&'static ModelPrice> {
    let model = model.strip_prefix("models/").unwrap_or(model);
    PRICES
        .iter()
        .filter(|p| p.list == list)
        .flat_map(|p| p.prefixes.iter().map(move |prefix| (p, *prefix)))
        .filter(|(_, prefix)| family_matches(prefix, model))
        .max_by_key(|(_, prefix)| prefix.len())
        .map(|(p, _)| p)
}

/// Whether `model` is `prefix` plus only version suffixes (see the module docs).
pub fn family_matches(prefix: &str, model: &str) -> bool {
    let Some(rest) = model.strip_prefix(prefix) else {
        return false;
    };
    if rest.is_empty() {
        return true;
    }
    let Some(rest) = rest.strip_prefix('-') else {
        return false;
    };
    rest.split('-').all(|part| {
        matches!(part, "latest" | "preview" | "exp")
            || (part.len() >= 2 && part.bytes().all(|b| b.is_ascii_digit()))
    })
}

/// The rates that apply to a request with `input_tokens` of input.
pub fn rates_for(price: &ModelPrice, input_tokens: u64) -> Rates {
    match price.long_context {
        Some((above, long)) if input_tokens > above => long,
        _ => price.rates,
    }
}

/// The cost of `usage` at `price`, in nano-USD, rounded up.
pub fn cost_nano_usd(price: &ModelPrice, usage: &super::Usage) -> u64 {
    let rates = rates_for(price, usage.input_tokens);
    let read = usage.cache_read_tokens.min(usage.input_tokens);
    let write = usage.cache_write_tokens.min(usage.input_tokens - read);
    let write_1h = usage.cache_write_1h_tokens.min(write);
    let plain_input = usage.input_tokens - read - write;
    let micro_usd_tokens: u128 = u128::from(plain_input) * u128::from(rates.input)
        + u128::from(read) * u128::from(rates.cache_read)
        + u128::from(write - write_1h) * u128::from(rates.cache_write)
        + u128::from(write_1h) * u128::from(rates.cache_write_1h)
        + u128::from(usage.output_tokens) * u128::from(rates.output);
    to_nano(micro_usd_tokens)
}

/// The cost of a request with this many input and output tokens, none cached.
pub fn estimate_nano_usd(price: &ModelPrice, input_tokens: u64, output_tokens: u64) -> u64 {
    let rates = rates_for(price, input_tokens);
    to_nano(
        u128::from(input_tokens) * u128::from(rates.input)
            + u128::from(output_tokens) * u128::from(rates.output),
    )
}

/// The cost of `usage` for `model` at `provider`: the provider's own report where its
/// row trusts it ([`Pricing::Reported`]), else the table; `None` when the model has no
/// known price.
pub fn cost_of(provider: &str, model: Option<&str>, usage: &super::Usage) -> Option<u64> {
    let pricing = providers::find(provider).ok()?.pricing;
    if pricing == Pricing::Reported {
        if let Some(cost) = usage.reported_cost_nano_usd {
            return Some(cost);
        }
    }
    let price = find_price(provider, model?)?;
    Some(cost_nano_usd(price, usage))
}

/// tokens × micro-USD-per-million → nano-USD: divide by 10⁶ (per million) and multiply
/// by 10³ (micro → nano), rounding up; saturates at `u64::MAX`.
fn to_nano(micro_usd_tokens: u128) -> u64 {
    u64::try_from(micro_usd_tokens.div_ceil(1_000)).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::super::Usage;
    use super::*;

    fn family(provider: &str, model: &str) -> Option<&'static str> {
        find_price(provider, model).map(|p| p.family)
    }

    #[test]
    fn suggested_route_models_are_priced_generation_models_of_the_provider() {
        let openai = chat_models("openai");
        assert!(openai.contains(&"gpt-4o-mini") && openai.contains(&"o3"));
        assert!(!openai.iter().any(|m| m.starts_with("text-embedding")));
        assert!(chat_models("anthropic")
            .iter()
            .all(|m| m.starts_with("claude-")));
        assert!(chat_models("gemini").contains(&"gemini-2.5-flash"));
        assert!(
            chat_models("mistral").is_empty(),
            "no price table, nothing suggested"
        );
        assert!(chat_models("nonesuch").is_empty());
    }

    #[test]
    fn families_match_versions_but_not_siblings() {
        let cases = [
            (
                "anthropic",
                "claude-opus-4-20250514",
                Some("Claude Opus 3/4/4.1"),
            ),
            (
                "anthropic",
                "claude-opus-4-1-20250805",
                Some("Claude Opus 3/4/4.1"),
            ),
            (
                "anthropic",
                "claude-opus-4-5-20251101",
                Some("Claude Opus 4.5/4.6"),
            ),
            ("anthropic", "claude-opus-4-6", Some("Claude Opus 4.5/4.6")),
            ("anthropic", "claude-opus-4-7", None),
            (
                "anthropic",
                "claude-3-7-sonnet-latest",
                Some("Claude Sonnet 3.5/3.7"),
            ),
            (
                "anthropic",
                "claude-sonnet-4-5",
                Some("Claude Sonnet 4/4.5"),
            ),
            ("openai", "gpt-4o-2024-08-06", Some("GPT-4o")),
            ("openai", "gpt-4o-mini-2024-07-18", Some("GPT-4o mini")),
            ("openai", "gpt-4o-mini-search-preview", None),
            ("openai", "gpt-4o-realtime-preview", None),
            ("openai", "gpt-5-chat-latest", Some("GPT-5/5.1")),
            ("openai", "gpt-5.2", None),
            ("openai", "o3-pro", None),
            ("openai", "o3-mini-2025-01-31", Some("o3-mini")),
            ("openai", "ft:gpt-4o-mini:org::id", None),
            (
                "gemini",
                "models/gemini-2.5-flash",
                Some("Gemini 2.5 Flash"),
            ),
            (
                "gemini",
                "gemini-2.5-flash-lite-preview-06-17",
                Some("Gemini 2.5 Flash-Lite"),
            ),
            ("gemini", "gemini-2.5-flash-image", None),
            ("cohere", "command-r-plus-08-2024", Some("Command R+")),
            ("cohere", "command-r-08-2024", Some("Command R")),
            ("xai", "grok-4-0709", Some("Grok 4")),
            ("openrouter", "openai/gpt-4o", None),
            ("azure_openai", "gpt-4o", None),
        ];
        for (provider, model, want) in cases {
            assert_eq!(family(provider, model), want, "{provider} {model}");
        }
    }

    #[test]
    fn known_costs() {
        // 1 000 000 input + 1 000 000 output on GPT-4o: $2.50 + $10.00.
        let gpt4o = find_price("openai", "gpt-4o").expect("priced");
        let u = Usage {
            input_tokens: M,
            output_tokens: M,
            ..Usage::default()
        };
        assert_eq!(cost_nano_usd(gpt4o, &u), 12_500_000_000);
        // 1000 input of which 400 cached, 200 output on GPT-4o:
        // (600 × 2.50 + 400 × 1.25 + 200 × 10) / 10⁶ = $0.004.
        let u = Usage {
            input_tokens: 1000,
            output_tokens: 200,
            cache_read_tokens: 400,
            ..Usage::default()
        };
        assert_eq!(cost_nano_usd(gpt4o, &u), 4_000_000);
        // Sonnet 4.5: 10 plain + 2000 read + 100 written (60 of them for 1 h), 7 out:
        // (10×3 + 2000×0.3 + 40×3.75 + 60×6 + 7×15) / 10⁶ = 1245 / 10⁶ = $0.001245.
        let sonnet = find_price("anthropic", "claude-sonnet-4-5-20250929").expect("priced");
        let u = Usage {
            input_tokens: 2110,
            output_tokens: 7,
            cache_read_tokens: 2000,
            cache_write_tokens: 100,
            cache_write_1h_tokens: 60,
            ..Usage::default()
        };
        assert_eq!(cost_nano_usd(sonnet, &u), 1_245_000);
        // One output token of GPT-5 nano is $0.0000004 = 400 nano-USD; one input token
        // is 50 nano-USD; a single cached token is 5 nano-USD.
        let nano = find_price("openai", "gpt-5-nano").expect("priced");
        let one_each = Usage {
            input_tokens: 2,
            output_tokens: 1,
            cache_read_tokens: 1,
            ..Usage::default()
        };
        assert_eq!(cost_nano_usd(nano, &one_each), 455);
        // Rounding is up, once per request: 1 token of Command R7B input is 37.5 nano-USD.
        let r7b = find_price("cohere", "command-r7b-12-2024").expect("priced");
        let one = Usage {
            input_tokens: 1,
            ..Usage::default()
        };
        assert_eq!(cost_nano_usd(r7b, &one), 38);
        let two = Usage {
            input_tokens: 2,
            ..Usage::default()
        };
        assert_eq!(cost_nano_usd(r7b, &two), 75);
    }

    #[test]
    fn long_context_rates_switch_above_the_threshold() {
        let pro = find_price("gemini", "gemini-2.5-pro").expect("priced");
        assert_eq!(estimate_nano_usd(pro, 200_000, 0), 250_000_000);
        assert_eq!(estimate_nano_usd(pro, 200_001, 0), 500_002_500);
        assert_eq!(estimate_nano_usd(pro, 0, 1000), 10_000_000);
    }

    #[test]
    fn reported_costs_are_trusted_only_where_listed() {
        let u = Usage {
            input_tokens: 10,
            output_tokens: 5,
            reported_cost_nano_usd: Some(77),
            ..Usage::default()
        };
        assert_eq!(cost_of("openrouter", Some("x/y"), &u), Some(77));
        assert_eq!(cost_of("openai", Some("gpt-4o"), &u), Some(75_000));
        assert_eq!(cost_of("openai", Some("unknown-model"), &u), None);
        assert_eq!(cost_of("openai", None, &u), None);
    }

    #[test]
    fn table_is_well_formed() {
        for p in PRICES {
            assert_eq!(p.as_of.len(), 10, "{}", p.family);
            assert!(!p.prefixes.is_empty());
            // Some provider is priced by this row's list.
            assert!(
                providers::all()
                    .iter()
                    .any(|q| q.pricing == Pricing::Table(p.list)),
                "{}",
                p.family
            );
            let r = p.rates;
            // Every family bills its input: a priced model never costs $0.
            assert!(r.input > 0, "{}", p.family);
            assert!(r.cache_read <= r.input, "{}", p.family);
            assert!(r.cache_write >= r.input && r.cache_write_1h >= r.cache_write);
            // No prefix is listed twice for the same provider.
            for q in PRICES {
                for a in p.prefixes {
                    let shared = q.list == p.list;
                    let dup = q.prefixes.contains(a) && !std::ptr::eq(p, q);
                    assert!(!(shared && dup), "{a}");
                }
            }
        }
    }
}

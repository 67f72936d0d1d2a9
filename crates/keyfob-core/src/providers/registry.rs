//! The static provider table: one row per provider, and every fact about a provider in
//! its row, typed (enums, not strings): endpoint, auth, rebase, the path allow-list with
//! a meter class per rule, forwarded headers, key prefixes, the key-test call, where
//! requests name their model, the usage dialect, whether streams may be asked for
//! usage, and how calls are priced (see [`super::descriptor`]). Adding a provider is
//! adding one row; nothing elsewhere matches on a provider id.
//!
//! Each allow-list holds the inference endpoints a web app legitimately needs (generate,
//! embed, count tokens, list models, files and batches it works with). It deliberately
//! leaves out everything that manages the account: organisations, projects, members,
//! API keys, billing, usage and cost reports, fine-tuning, and endpoints that mint
//! other credentials (OpenAI realtime client secrets). Model resources are read-only:
//! deleting a fine-tuned model is account management, not app use.
//!
//! Base URLs and paths follow each provider's own API reference and official SDKs.
//! Cohere: the official SDKs' production environment is `https://api.cohere.com`
//! (the older `api.cohere.ai` still answers, but is no longer the documented default).

use super::descriptor::Dialect::{self, OpenAi};
use super::descriptor::KeyTest::{self, ListModels};
use super::descriptor::MeterClass::{Completion, Embed, Free, Generate};
use super::descriptor::Pricing::{Reported, Table, Unknown};
use super::descriptor::{ModelIn, PriceList, Speaks};
use super::paths::{rule, Methods as M, PathRule};
use super::AuthStyle::{Anthropic, AzureApiKey, Bearer, GoogApiKey};
use super::{Endpoint, Provider, Rebase};
use crate::route::Dialect::{
    Anthropic as AnthropicApi, Gemini as GeminiApi, OpenAiChat, OpenAiResponses,
};

const ANTHROPIC: &[PathRule] = &[
    rule(M::POST, "/v1/messages", Generate),
    rule(M::POST, "/v1/messages/count_tokens", Free),
    rule(M::ALL, "/v1/messages/batches/**", Generate),
    rule(M::GET, "/v1/models", Free),
    rule(M::GET, "/v1/models/*", Free),
    rule(M::ALL, "/v1/files/**", Generate),
];

/// OpenAI's inference surface under `/v1`. Shared with `openai_compatible`, whose page
/// paths are OpenAI-shaped. Chat completions are create-only: the stored-completions
/// list would show a page conversations that other apps stored with the same key.
const OPENAI: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions", Completion),
    rule(M::POST, "/v1/completions", Completion),
    rule(M::POST, "/v1/responses/input_tokens", Free),
    rule(M::ALL, "/v1/responses/**", Generate),
    rule(M::POST, "/v1/embeddings", Embed),
    rule(M::GET, "/v1/models", Free),
    rule(M::GET, "/v1/models/*", Free),
    rule(M::ALL, "/v1/files/**", Generate),
    rule(M::ALL, "/v1/uploads/**", Generate),
    rule(M::POST, "/v1/audio/speech", Generate),
    rule(M::POST, "/v1/audio/transcriptions", Generate),
    rule(M::POST, "/v1/audio/translations", Generate),
    rule(M::POST, "/v1/images/generations", Generate),
    rule(M::POST, "/v1/images/edits", Generate),
    rule(M::POST, "/v1/images/variations", Generate),
    rule(M::POST, "/v1/moderations", Free),
    rule(M::GET_POST, "/v1/batches/**", Generate),
    rule(M::ALL, "/v1/vector_stores/**", Generate),
    rule(M::ALL, "/v1/conversations/**", Generate),
];

const GEMINI: &[PathRule] = &[
    rule(M::GET, "/v1beta/models", Free),
    rule(M::POST, "/v1beta/models/*:generateContent", Generate),
    rule(M::POST, "/v1beta/models/*:streamGenerateContent", Generate),
    rule(M::POST, "/v1beta/models/*:countTokens", Free),
    rule(M::POST, "/v1beta/models/*:embedContent", Embed),
    rule(M::POST, "/v1beta/models/*:batchEmbedContents", Embed),
    rule(M::GET, "/v1beta/models/*", Free),
    rule(M::GET, "/v1/models", Free),
    rule(M::POST, "/v1/models/*:generateContent", Generate),
    rule(M::POST, "/v1/models/*:streamGenerateContent", Generate),
    rule(M::POST, "/v1/models/*:countTokens", Free),
    rule(M::POST, "/v1/models/*:embedContent", Embed),
    rule(M::POST, "/v1/models/*:batchEmbedContents", Embed),
    rule(M::GET, "/v1/models/*", Free),
    // Resumable upload: the start and the follow-up chunks both go here (`?upload_id=`).
    rule(M::POST, "/upload/v1beta/files", Generate),
    rule(M::GET, "/v1beta/files", Free),
    rule(M::GET, "/v1beta/files/*", Free),
    rule(M::DELETE, "/v1beta/files/*", Free),
    rule(M::ALL, "/v1beta/cachedContents/**", Generate),
];

const MISTRAL: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions", Completion),
    rule(M::POST, "/v1/fim/completions", Completion),
    rule(M::POST, "/v1/agents/completions", Completion),
    rule(M::POST, "/v1/embeddings", Embed),
    rule(M::POST, "/v1/moderations", Free),
    rule(M::POST, "/v1/chat/moderations", Free),
    rule(M::POST, "/v1/classifications", Generate),
    rule(M::POST, "/v1/chat/classifications", Generate),
    rule(M::POST, "/v1/ocr", Generate),
    rule(M::POST, "/v1/audio/transcriptions", Generate),
    rule(M::GET, "/v1/models", Free),
    rule(M::GET, "/v1/models/*", Free),
    rule(M::ALL, "/v1/files/**", Generate),
    rule(M::GET_POST, "/v1/batch/jobs/**", Generate),
    rule(M::ALL, "/v1/conversations/**", Generate),
];

/// Cohere's own API (v1, v2) reports usage in Cohere's shape; its OpenAI-compatibility
/// endpoints answer in OpenAI's.
const COHERE: &[PathRule] = &[
    rule(M::POST, "/v2/chat", Generate),
    rule(M::POST, "/v2/embed", Embed),
    rule(M::POST, "/v2/rerank", Embed),
    rule(M::POST, "/v1/chat", Generate),
    rule(M::POST, "/v1/embed", Embed),
    rule(M::POST, "/v1/rerank", Embed),
    rule(M::POST, "/v1/classify", Embed),
    rule(M::POST, "/v1/tokenize", Free),
    rule(M::POST, "/v1/detokenize", Free),
    rule(M::GET, "/v1/models", Free),
    rule(M::GET, "/v1/models/*", Free),
    rule(M::POST, "/compatibility/v1/chat/completions", Completion).answers_in(OpenAi),
    rule(M::POST, "/compatibility/v1/embeddings", Embed).answers_in(OpenAi),
];

const XAI: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions", Completion),
    rule(M::POST, "/v1/completions", Completion),
    rule(M::POST, "/v1/responses/input_tokens", Free),
    rule(M::ALL, "/v1/responses/**", Generate),
    rule(M::POST, "/v1/embeddings", Embed),
    rule(M::POST, "/v1/images/generations", Generate),
    rule(M::POST, "/v1/tokenize-text", Free),
    rule(M::GET, "/v1/models", Free),
    rule(M::GET, "/v1/models/*", Free),
    rule(M::GET, "/v1/language-models/**", Free),
    rule(M::GET, "/v1/embedding-models/**", Free),
    rule(M::GET, "/v1/image-generation-models/**", Free),
];

/// DeepSeek answers both with and without `/v1`; `/beta` holds FIM and prefix completion.
const DEEPSEEK: &[PathRule] = &[
    rule(M::POST, "/chat/completions", Completion),
    rule(M::POST, "/v1/chat/completions", Completion),
    rule(M::POST, "/beta/chat/completions", Completion),
    rule(M::POST, "/beta/completions", Completion),
    rule(M::GET, "/models", Free),
    rule(M::GET, "/v1/models", Free),
];

const PERPLEXITY: &[PathRule] = &[
    rule(M::POST, "/chat/completions", Completion),
    rule(M::POST, "/search", Generate),
    rule(M::GET_POST, "/async/chat/completions", Generate),
    rule(M::GET, "/async/chat/completions/*", Free),
];

const GROQ: &[PathRule] = &[
    rule(M::POST, "/openai/v1/chat/completions", Completion),
    rule(M::POST, "/openai/v1/responses/input_tokens", Free),
    rule(M::ALL, "/openai/v1/responses/**", Generate),
    rule(M::POST, "/openai/v1/audio/transcriptions", Generate),
    rule(M::POST, "/openai/v1/audio/translations", Generate),
    rule(M::POST, "/openai/v1/audio/speech", Generate),
    rule(M::GET, "/openai/v1/models", Free),
    rule(M::GET, "/openai/v1/models/*", Free),
    rule(M::ALL, "/openai/v1/files/**", Generate),
    rule(M::GET_POST, "/openai/v1/batches/**", Generate),
];

const TOGETHER: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions", Completion),
    rule(M::POST, "/v1/completions", Completion),
    rule(M::POST, "/v1/embeddings", Embed),
    rule(M::POST, "/v1/rerank", Embed),
    rule(M::POST, "/v1/images/generations", Generate),
    rule(M::POST, "/v1/audio/speech", Generate),
    rule(M::POST, "/v1/audio/transcriptions", Generate),
    rule(M::POST, "/v1/audio/translations", Generate),
    rule(M::GET, "/v1/models", Free),
    rule(M::ALL, "/v1/files/**", Generate),
    rule(M::GET_POST, "/v1/batches/**", Generate),
];

const FIREWORKS: &[PathRule] = &[
    rule(M::POST, "/inference/v1/chat/completions", Completion),
    rule(M::POST, "/inference/v1/completions", Completion),
    rule(M::POST, "/inference/v1/embeddings", Embed),
    rule(M::POST, "/inference/v1/rerank", Embed),
    rule(M::POST, "/inference/v1/responses/input_tokens", Free),
    rule(M::ALL, "/inference/v1/responses/**", Generate),
    rule(M::GET, "/inference/v1/models", Free),
    rule(M::GET, "/inference/v1/models/*", Free),
];

const OPENROUTER: &[PathRule] = &[
    rule(M::POST, "/api/v1/chat/completions", Completion),
    rule(M::POST, "/api/v1/completions", Completion),
    rule(M::POST, "/api/v1/responses", Generate),
    rule(M::POST, "/api/v1/embeddings", Embed),
    rule(M::GET, "/api/v1/models/**", Free),
];

const AZURE_OPENAI: &[PathRule] = &[
    rule(
        M::POST,
        "/openai/deployments/*/chat/completions",
        Completion,
    ),
    rule(M::POST, "/openai/deployments/*/completions", Completion),
    rule(M::POST, "/openai/deployments/*/embeddings", Embed),
    rule(
        M::POST,
        "/openai/deployments/*/audio/transcriptions",
        Generate,
    ),
    rule(
        M::POST,
        "/openai/deployments/*/audio/translations",
        Generate,
    ),
    rule(M::POST, "/openai/deployments/*/audio/speech", Generate),
    rule(
        M::POST,
        "/openai/deployments/*/images/generations",
        Generate,
    ),
    rule(M::POST, "/openai/v1/chat/completions", Completion),
    rule(M::POST, "/openai/v1/responses/input_tokens", Free),
    rule(M::ALL, "/openai/v1/responses/**", Generate),
    rule(M::POST, "/openai/responses/input_tokens", Free),
    rule(M::ALL, "/openai/responses/**", Generate),
    rule(M::POST, "/openai/v1/embeddings", Embed),
    rule(M::GET, "/openai/v1/models", Free),
    rule(M::GET, "/openai/v1/models/*", Free),
];

const ANTHROPIC_HEADERS: &[&str] = &["anthropic-beta"];
const OPENAI_HEADERS: &[&str] = &["openai-beta"];
/// Gemini's resumable upload protocol (`/upload/v1beta/files`) needs these.
const GEMINI_HEADERS: &[&str] = &[
    "x-goog-upload-protocol",
    "x-goog-upload-command",
    "x-goog-upload-offset",
    "x-goog-upload-header-content-length",
    "x-goog-upload-header-content-type",
];

/// Where rows serve the routing dialects ([`Speaks`]). Each names only generation APIs
/// that the provider documents in that dialect's exact shape.
const ANTHROPIC_API: &[Speaks] = &[Speaks::at(AnthropicApi, "/v1/")];
/// OpenAI's own API and xAI's, which serves both OpenAI shapes under the same root.
const OPENAI_API: &[Speaks] = &[
    Speaks::at(OpenAiChat, "/v1/"),
    Speaks::at(OpenAiResponses, "/v1/"),
];
/// `@google/genai` calls `/v1/` as well as `/v1beta/`; Keyfob sends `/v1beta/`.
const GEMINI_API: &[Speaks] = &[Speaks {
    dialect: GeminiApi,
    root: "/v1beta/",
    app_roots: &["/v1/"],
}];
/// OpenAI Chat Completions under `/v1/` (Mistral, DeepSeek, Together, local servers).
const CHAT_V1: &[Speaks] = &[Speaks::at(OpenAiChat, "/v1/")];
const GROQ_API: &[Speaks] = &[Speaks::at(OpenAiChat, "/openai/v1/")];
const FIREWORKS_API: &[Speaks] = &[Speaks::at(OpenAiChat, "/inference/v1/")];
const OPENROUTER_API: &[Speaks] = &[Speaks::at(OpenAiChat, "/api/v1/")];
/// Azure's v1 API names the model in the body, like OpenAI's.
const AZURE_API: &[Speaks] = &[
    Speaks::at(OpenAiChat, "/openai/v1/"),
    Speaks::at(OpenAiResponses, "/openai/v1/"),
];
/// Cohere's compatibility API and Perplexity's chat are OpenAI-shaped only in part
/// (no faithful tool calls or stream usage checked): not routed.
const NOT_ROUTED: &[Speaks] = &[];

const fn fixed(origin: &'static str) -> Endpoint {
    Endpoint::Fixed { origin }
}

/// `stream_options.include_usage` accepted on streaming completions.
const ASKS_USAGE: bool = true;
/// Streams carry usage without being asked, or the option is not accepted.
const NO_ASK: bool = false;

const BODY: ModelIn = ModelIn::Body;

/// The registry: one row per provider, every fact in it.
pub(super) static PROVIDERS: &[Provider] = &[
    Provider {
        id: "anthropic",
        name: "Anthropic",
        endpoint: fixed("https://api.anthropic.com"),
        auth: Anthropic,
        rebase: Rebase::None,
        paths: ANTHROPIC,
        extra_headers: ANTHROPIC_HEADERS,
        key_prefixes: &["sk-ant-"],
        key_test: ListModels("/v1/models"),
        model_in: BODY,
        dialect: Dialect::Anthropic,
        include_usage: NO_ASK,
        pricing: Table(PriceList::Anthropic),
        speaks: ANTHROPIC_API,
    },
    Provider {
        id: "openai",
        name: "OpenAI",
        endpoint: fixed("https://api.openai.com"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: OPENAI,
        extra_headers: OPENAI_HEADERS,
        // Not a bare `sk-`: several providers issue keys that start so.
        key_prefixes: &["sk-proj-", "sk-svcacct-"],
        key_test: ListModels("/v1/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: ASKS_USAGE,
        pricing: Table(PriceList::OpenAi),
        speaks: OPENAI_API,
    },
    Provider {
        id: "gemini",
        name: "Google Gemini",
        endpoint: fixed("https://generativelanguage.googleapis.com"),
        auth: GoogApiKey,
        rebase: Rebase::None,
        paths: GEMINI,
        extra_headers: GEMINI_HEADERS,
        key_prefixes: &["AIza"],
        key_test: ListModels("/v1beta/models"),
        model_in: ModelIn::PathAfter {
            after: "models",
            cut_at: Some(':'),
        },
        dialect: Dialect::Gemini,
        include_usage: NO_ASK,
        pricing: Table(PriceList::Gemini),
        speaks: GEMINI_API,
    },
    Provider {
        id: "mistral",
        name: "Mistral",
        endpoint: fixed("https://api.mistral.ai"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: MISTRAL,
        extra_headers: &[],
        key_prefixes: &[],
        key_test: ListModels("/v1/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: NO_ASK,
        pricing: Unknown,
        speaks: CHAT_V1,
    },
    Provider {
        id: "cohere",
        name: "Cohere",
        endpoint: fixed("https://api.cohere.com"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: COHERE,
        extra_headers: &[],
        key_prefixes: &[],
        key_test: ListModels("/v1/models"),
        model_in: BODY,
        // The `/compatibility/` rules answer in OpenAI's shape (see COHERE).
        dialect: Dialect::Cohere,
        // Left alone on the compatibility API too.
        include_usage: NO_ASK,
        pricing: Table(PriceList::Cohere),
        speaks: NOT_ROUTED,
    },
    Provider {
        id: "xai",
        name: "xAI",
        endpoint: fixed("https://api.x.ai"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: XAI,
        extra_headers: &[],
        key_prefixes: &["xai-"],
        key_test: ListModels("/v1/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: ASKS_USAGE,
        pricing: Table(PriceList::Xai),
        speaks: OPENAI_API,
    },
    Provider {
        id: "deepseek",
        name: "DeepSeek",
        endpoint: fixed("https://api.deepseek.com"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: DEEPSEEK,
        extra_headers: &[],
        key_prefixes: &[],
        key_test: ListModels("/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: ASKS_USAGE,
        pricing: Table(PriceList::DeepSeek),
        speaks: CHAT_V1,
    },
    Provider {
        id: "perplexity",
        name: "Perplexity",
        endpoint: fixed("https://api.perplexity.ai"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: PERPLEXITY,
        extra_headers: &[],
        key_prefixes: &["pplx-"],
        key_test: KeyTest::None {
            why: "no model list; every other call spends credit",
        },
        model_in: BODY,
        dialect: OpenAi,
        include_usage: NO_ASK,
        pricing: Unknown,
        speaks: NOT_ROUTED,
    },
    Provider {
        id: "groq",
        name: "Groq",
        endpoint: fixed("https://api.groq.com"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: GROQ,
        extra_headers: &[],
        key_prefixes: &["gsk_"],
        key_test: ListModels("/openai/v1/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: ASKS_USAGE,
        pricing: Table(PriceList::Groq),
        speaks: GROQ_API,
    },
    Provider {
        id: "together",
        name: "Together AI",
        endpoint: fixed("https://api.together.xyz"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: TOGETHER,
        extra_headers: &[],
        key_prefixes: &["tgp_"],
        key_test: ListModels("/v1/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: NO_ASK,
        pricing: Unknown,
        speaks: CHAT_V1,
    },
    Provider {
        id: "fireworks",
        name: "Fireworks AI",
        endpoint: fixed("https://api.fireworks.ai"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: FIREWORKS,
        extra_headers: &[],
        key_prefixes: &["fw_"],
        key_test: ListModels("/inference/v1/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: NO_ASK,
        pricing: Unknown,
        speaks: FIREWORKS_API,
    },
    Provider {
        id: "openrouter",
        name: "OpenRouter",
        endpoint: fixed("https://openrouter.ai"),
        auth: Bearer,
        rebase: Rebase::None,
        paths: OPENROUTER,
        extra_headers: &[],
        key_prefixes: &["sk-or-"],
        key_test: KeyTest::None {
            why: "the model list is public and says nothing about the key",
        },
        model_in: BODY,
        dialect: OpenAi,
        include_usage: NO_ASK,
        pricing: Reported,
        speaks: OPENROUTER_API,
    },
    Provider {
        id: "azure_openai",
        name: "Azure OpenAI",
        endpoint: Endpoint::CredentialBaseUrl {
            loopback_http: false,
            https_host_suffixes: &[
                ".openai.azure.com",
                ".cognitiveservices.azure.com",
                ".services.ai.azure.com",
            ],
        },
        auth: AzureApiKey,
        rebase: Rebase::OntoOrigin,
        paths: AZURE_OPENAI,
        extra_headers: OPENAI_HEADERS,
        key_prefixes: &[],
        key_test: ListModels("/openai/v1/models"),
        // `/openai/v1/...` names the model in the body.
        model_in: ModelIn::PathAfter {
            after: "deployments",
            cut_at: None,
        },
        dialect: OpenAi,
        include_usage: ASKS_USAGE,
        // A deployment name says nothing reliable about the model behind it.
        pricing: Unknown,
        speaks: AZURE_API,
    },
    Provider {
        id: "openai_compatible",
        name: "OpenAI-compatible server",
        endpoint: Endpoint::CredentialBaseUrl {
            loopback_http: true,
            https_host_suffixes: &[],
        },
        auth: Bearer,
        rebase: Rebase::ReplacePrefix("/v1"),
        paths: OPENAI,
        extra_headers: OPENAI_HEADERS,
        key_prefixes: &[],
        key_test: ListModels("/v1/models"),
        model_in: BODY,
        dialect: OpenAi,
        include_usage: ASKS_USAGE,
        pricing: Unknown,
        speaks: CHAT_V1,
    },
];

#[cfg(test)]
mod tests {
    use super::super::paths::denied_segment;
    use super::*;

    #[test]
    fn every_pattern_is_well_formed_and_free_of_admin_segments() {
        for p in PROVIDERS {
            assert!(!p.paths.is_empty(), "{}", p.id);
            for r in p.paths {
                assert!(
                    r.pattern.starts_with('/') && !r.pattern.ends_with('/'),
                    "{}",
                    r.pattern
                );
                assert!(
                    !r.pattern.contains("//") && !r.pattern.contains(".."),
                    "{}",
                    r.pattern
                );
                let stars = r.pattern.matches("**").count();
                assert!(
                    stars == 0 || (stars == 1 && r.pattern.ends_with("/**")),
                    "{}",
                    r.pattern
                );
                assert_eq!(denied_segment(r.pattern), None, "{}", r.pattern);
            }
        }
    }

    #[test]
    fn prefixed_providers_stay_under_their_prefix() {
        for (id, prefix) in [
            ("groq", "/openai/v1/"),
            ("fireworks", "/inference/v1/"),
            ("openrouter", "/api/v1/"),
        ] {
            let p = PROVIDERS.iter().find(|p| p.id == id).expect("registered");
            assert!(
                p.paths.iter().all(|r| r.pattern.starts_with(prefix)),
                "{id}"
            );
        }
        let azure = PROVIDERS
            .iter()
            .find(|p| p.id == "azure_openai")
            .expect("registered");
        assert!(azure
            .paths
            .iter()
            .all(|r| r.pattern.starts_with("/openai/")));
        assert!(OPENAI.iter().all(|r| r.pattern.starts_with("/v1/")));
    }
}

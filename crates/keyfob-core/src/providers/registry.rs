//! The static provider table.
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

use super::paths::{rule, Methods as M, PathRule};
use super::AuthStyle::{self, Anthropic, AzureApiKey, Bearer, GoogApiKey};
use super::{Endpoint, Provider, Rebase};

const ANTHROPIC: &[PathRule] = &[
    rule(M::POST, "/v1/messages"),
    rule(M::POST, "/v1/messages/count_tokens"),
    rule(M::ALL, "/v1/messages/batches/**"),
    rule(M::GET, "/v1/models"),
    rule(M::GET, "/v1/models/*"),
    rule(M::ALL, "/v1/files/**"),
];

/// OpenAI's inference surface under `/v1`. Shared with `openai_compatible`, whose page
/// paths are OpenAI-shaped. Chat completions are create-only: the stored-completions
/// list would show a page conversations that other apps stored with the same key.
const OPENAI: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions"),
    rule(M::POST, "/v1/completions"),
    rule(M::ALL, "/v1/responses/**"),
    rule(M::POST, "/v1/embeddings"),
    rule(M::GET, "/v1/models"),
    rule(M::GET, "/v1/models/*"),
    rule(M::ALL, "/v1/files/**"),
    rule(M::ALL, "/v1/uploads/**"),
    rule(M::POST, "/v1/audio/speech"),
    rule(M::POST, "/v1/audio/transcriptions"),
    rule(M::POST, "/v1/audio/translations"),
    rule(M::POST, "/v1/images/generations"),
    rule(M::POST, "/v1/images/edits"),
    rule(M::POST, "/v1/images/variations"),
    rule(M::POST, "/v1/moderations"),
    rule(M::GET_POST, "/v1/batches/**"),
    rule(M::ALL, "/v1/vector_stores/**"),
    rule(M::ALL, "/v1/conversations/**"),
];

const GEMINI: &[PathRule] = &[
    rule(M::GET, "/v1beta/models"),
    rule(M::GET, "/v1beta/models/*"),
    rule(M::POST, "/v1beta/models/*:generateContent"),
    rule(M::POST, "/v1beta/models/*:streamGenerateContent"),
    rule(M::POST, "/v1beta/models/*:countTokens"),
    rule(M::POST, "/v1beta/models/*:embedContent"),
    rule(M::POST, "/v1beta/models/*:batchEmbedContents"),
    rule(M::GET, "/v1/models"),
    rule(M::GET, "/v1/models/*"),
    rule(M::POST, "/v1/models/*:generateContent"),
    rule(M::POST, "/v1/models/*:streamGenerateContent"),
    rule(M::POST, "/v1/models/*:countTokens"),
    rule(M::POST, "/v1/models/*:embedContent"),
    rule(M::POST, "/v1/models/*:batchEmbedContents"),
    // Resumable upload: the start and the follow-up chunks both go here (`?upload_id=`).
    rule(M::POST, "/upload/v1beta/files"),
    rule(M::GET, "/v1beta/files"),
    rule(M::GET, "/v1beta/files/*"),
    rule(M::DELETE, "/v1beta/files/*"),
    rule(M::ALL, "/v1beta/cachedContents/**"),
];

const MISTRAL: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions"),
    rule(M::POST, "/v1/fim/completions"),
    rule(M::POST, "/v1/agents/completions"),
    rule(M::POST, "/v1/embeddings"),
    rule(M::POST, "/v1/moderations"),
    rule(M::POST, "/v1/chat/moderations"),
    rule(M::POST, "/v1/classifications"),
    rule(M::POST, "/v1/chat/classifications"),
    rule(M::POST, "/v1/ocr"),
    rule(M::POST, "/v1/audio/transcriptions"),
    rule(M::GET, "/v1/models"),
    rule(M::GET, "/v1/models/*"),
    rule(M::ALL, "/v1/files/**"),
    rule(M::GET_POST, "/v1/batch/jobs/**"),
    rule(M::ALL, "/v1/conversations/**"),
];

const COHERE: &[PathRule] = &[
    rule(M::POST, "/v2/chat"),
    rule(M::POST, "/v2/embed"),
    rule(M::POST, "/v2/rerank"),
    rule(M::POST, "/v1/chat"),
    rule(M::POST, "/v1/embed"),
    rule(M::POST, "/v1/rerank"),
    rule(M::POST, "/v1/classify"),
    rule(M::POST, "/v1/tokenize"),
    rule(M::POST, "/v1/detokenize"),
    rule(M::GET, "/v1/models"),
    rule(M::GET, "/v1/models/*"),
    rule(M::POST, "/compatibility/v1/chat/completions"),
    rule(M::POST, "/compatibility/v1/embeddings"),
];

const XAI: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions"),
    rule(M::POST, "/v1/completions"),
    rule(M::ALL, "/v1/responses/**"),
    rule(M::POST, "/v1/embeddings"),
    rule(M::POST, "/v1/images/generations"),
    rule(M::POST, "/v1/tokenize-text"),
    rule(M::GET, "/v1/models"),
    rule(M::GET, "/v1/models/*"),
    rule(M::GET, "/v1/language-models/**"),
    rule(M::GET, "/v1/embedding-models/**"),
    rule(M::GET, "/v1/image-generation-models/**"),
];

/// DeepSeek answers both with and without `/v1`; `/beta` holds FIM and prefix completion.
const DEEPSEEK: &[PathRule] = &[
    rule(M::POST, "/chat/completions"),
    rule(M::POST, "/v1/chat/completions"),
    rule(M::POST, "/beta/chat/completions"),
    rule(M::POST, "/beta/completions"),
    rule(M::GET, "/models"),
    rule(M::GET, "/v1/models"),
];

const PERPLEXITY: &[PathRule] = &[
    rule(M::POST, "/chat/completions"),
    rule(M::POST, "/search"),
    rule(M::GET_POST, "/async/chat/completions"),
    rule(M::GET, "/async/chat/completions/*"),
];

const GROQ: &[PathRule] = &[
    rule(M::POST, "/openai/v1/chat/completions"),
    rule(M::ALL, "/openai/v1/responses/**"),
    rule(M::POST, "/openai/v1/audio/transcriptions"),
    rule(M::POST, "/openai/v1/audio/translations"),
    rule(M::POST, "/openai/v1/audio/speech"),
    rule(M::GET, "/openai/v1/models"),
    rule(M::GET, "/openai/v1/models/*"),
    rule(M::ALL, "/openai/v1/files/**"),
    rule(M::GET_POST, "/openai/v1/batches/**"),
];

const TOGETHER: &[PathRule] = &[
    rule(M::POST, "/v1/chat/completions"),
    rule(M::POST, "/v1/completions"),
    rule(M::POST, "/v1/embeddings"),
    rule(M::POST, "/v1/rerank"),
    rule(M::POST, "/v1/images/generations"),
    rule(M::POST, "/v1/audio/speech"),
    rule(M::POST, "/v1/audio/transcriptions"),
    rule(M::POST, "/v1/audio/translations"),
    rule(M::GET, "/v1/models"),
    rule(M::ALL, "/v1/files/**"),
    rule(M::GET_POST, "/v1/batches/**"),
];

const FIREWORKS: &[PathRule] = &[
    rule(M::POST, "/inference/v1/chat/completions"),
    rule(M::POST, "/inference/v1/completions"),
    rule(M::POST, "/inference/v1/embeddings"),
    rule(M::POST, "/inference/v1/rerank"),
    rule(M::ALL, "/inference/v1/responses/**"),
    rule(M::GET, "/inference/v1/models"),
    rule(M::GET, "/inference/v1/models/*"),
];

const OPENROUTER: &[PathRule] = &[
    rule(M::POST, "/api/v1/chat/completions"),
    rule(M::POST, "/api/v1/completions"),
    rule(M::POST, "/api/v1/responses"),
    rule(M::POST, "/api/v1/embeddings"),
    rule(M::GET, "/api/v1/models/**"),
];

const AZURE_OPENAI: &[PathRule] = &[
    rule(M::POST, "/openai/deployments/*/chat/completions"),
    rule(M::POST, "/openai/deployments/*/completions"),
    rule(M::POST, "/openai/deployments/*/embeddings"),
    rule(M::POST, "/openai/deployments/*/audio/transcriptions"),
    rule(M::POST, "/openai/deployments/*/audio/translations"),
    rule(M::POST, "/openai/deployments/*/audio/speech"),
    rule(M::POST, "/openai/deployments/*/images/generations"),
    rule(M::POST, "/openai/v1/chat/completions"),
    rule(M::ALL, "/openai/v1/responses/**"),
    rule(M::ALL, "/openai/responses/**"),
    rule(M::POST, "/openai/v1/embeddings"),
    rule(M::GET, "/openai/v1/models"),
    rule(M::GET, "/openai/v1/models/*"),
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

const fn fixed(
    id: &'static str,
    name: &'static str,
    origin: &'static str,
    auth: AuthStyle,
    paths: &'static [PathRule],
    extra_headers: &'static [&'static str],
) -> Provider {
    Provider {
        id,
        name,
        endpoint: Endpoint::Fixed { origin },
        auth,
        rebase: Rebase::None,
        paths,
        extra_headers,
    }
}

/// The registry, one fixed provider per line (kept as a table on purpose).
#[rustfmt::skip]
pub(super) static PROVIDERS: &[Provider] = &[
    fixed("anthropic", "Anthropic", "https://api.anthropic.com", Anthropic, ANTHROPIC, ANTHROPIC_HEADERS),
    fixed("openai", "OpenAI", "https://api.openai.com", Bearer, OPENAI, OPENAI_HEADERS),
    fixed("gemini", "Google Gemini", "https://generativelanguage.googleapis.com", GoogApiKey, GEMINI, GEMINI_HEADERS),
    fixed("mistral", "Mistral", "https://api.mistral.ai", Bearer, MISTRAL, &[]),
    fixed("cohere", "Cohere", "https://api.cohere.com", Bearer, COHERE, &[]),
    fixed("xai", "xAI", "https://api.x.ai", Bearer, XAI, &[]),
    fixed("deepseek", "DeepSeek", "https://api.deepseek.com", Bearer, DEEPSEEK, &[]),
    fixed("perplexity", "Perplexity", "https://api.perplexity.ai", Bearer, PERPLEXITY, &[]),
    fixed("groq", "Groq", "https://api.groq.com", Bearer, GROQ, &[]),
    fixed("together", "Together AI", "https://api.together.xyz", Bearer, TOGETHER, &[]),
    fixed("fireworks", "Fireworks AI", "https://api.fireworks.ai", Bearer, FIREWORKS, &[]),
    fixed("openrouter", "OpenRouter", "https://openrouter.ai", Bearer, OPENROUTER, &[]),
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

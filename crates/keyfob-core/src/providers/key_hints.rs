//! Key prefixes some providers print on every key, so the "add a key" form can suggest
//! the provider after a paste. A hint only: the user's choice always wins, and a key
//! without a known prefix is still accepted for any provider.

/// Prefixes that identify a provider's keys (case-sensitive, as providers issue them).
/// Deliberately absent: a bare `sk-`, which several providers share.
pub fn key_prefixes(provider_id: &str) -> &'static [&'static str] {
    match provider_id {
        "anthropic" => &["sk-ant-"],
        "openai" => &["sk-proj-", "sk-svcacct-"],
        "gemini" => &["AIza"],
        "groq" => &["gsk_"],
        "xai" => &["xai-"],
        "openrouter" => &["sk-or-"],
        "perplexity" => &["pplx-"],
        "fireworks" => &["fw_"],
        "together" => &["tgp_"],
        _ => &[],
    }
}

/// The provider whose prefix is the longest match for `key`, if any.
pub fn guess_provider(key: &str) -> Option<&'static str> {
    super::all()
        .iter()
        .flat_map(|p| key_prefixes(p.id).iter().map(move |prefix| (p.id, prefix)))
        .filter(|(_, prefix)| key.starts_with(**prefix))
        .max_by_key(|(_, prefix)| prefix.len())
        .map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{all, find};

    #[test]
    fn prefixes_belong_to_registered_providers_and_never_collide() {
        let mut seen: Vec<&str> = Vec::new();
        for p in all() {
            for prefix in key_prefixes(p.id) {
                assert!(prefix.len() >= 3, "{prefix}");
                assert!(!seen.contains(prefix), "{prefix}");
                seen.push(prefix);
            }
        }
        assert!(key_prefixes("nope").is_empty());
        assert!(find("openrouter").is_ok());
    }

    #[test]
    fn the_longest_prefix_wins() {
        assert_eq!(guess_provider("sk-ant-api03-xyz"), Some("anthropic"));
        assert_eq!(guess_provider("sk-proj-abc"), Some("openai"));
        assert_eq!(guess_provider("sk-or-v1-abc"), Some("openrouter"));
        assert_eq!(guess_provider("AIzaSyB"), Some("gemini"));
        assert_eq!(guess_provider("sk-abc123"), None, "bare sk- is ambiguous");
        assert_eq!(guess_provider(""), None);
        assert_eq!(guess_provider("aiza-lowercase"), None);
    }
}

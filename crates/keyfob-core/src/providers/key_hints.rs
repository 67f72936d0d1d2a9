//! Key prefixes some providers print on every key (each row's
//! [`Provider::key_prefixes`](super::Provider::key_prefixes)), so the "add a key" form
//! can suggest the provider after a paste. A hint only: the user's choice always wins,
//! and a key without a known prefix is still accepted for any provider.

/// The prefixes that identify `provider_id`'s keys (case-sensitive, as providers issue
/// them); none for a provider whose keys have no prefix of their own, or an unknown id.
/// Deliberately absent everywhere: a bare `sk-`, which several providers share.
pub fn key_prefixes(provider_id: &str) -> &'static [&'static str] {
    super::find(provider_id).map_or(&[], |p| p.key_prefixes)
}

/// The provider whose prefix is the longest match for `key`, if any.
pub fn guess_provider(key: &str) -> Option<&'static str> {
    super::all()
        .iter()
        .flat_map(|p| p.key_prefixes.iter().map(move |prefix| (p.id, prefix)))
        .filter(|(_, prefix)| key.starts_with(**prefix))
        .max_by_key(|(_, prefix)| prefix.len())
        .map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::all;

    #[test]
    fn prefixes_are_long_enough_and_never_collide() {
        let mut seen: Vec<&str> = Vec::new();
        for p in all() {
            assert_eq!(key_prefixes(p.id), p.key_prefixes);
            for prefix in p.key_prefixes {
                assert!(prefix.len() >= 3, "{prefix}");
                assert!(!seen.contains(prefix), "{prefix}");
                seen.push(prefix);
            }
        }
        assert!(key_prefixes("nope").is_empty());
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

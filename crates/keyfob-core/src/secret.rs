//! Secret wrappers. A secret's `Debug` is always redacted, its memory is zeroized on
//! drop, and reading it takes an explicit `expose_secret()` marked `// EXPOSE: why`.

pub use secrecy::{ExposeSecret, SecretBox, SecretString};

/// The 32-byte AES-256 key that opens the vault (derived from the master password).
pub type KeyBytes = SecretBox<[u8; 32]>;

/// Builds a secret string from an owned `String` (moved, not copied).
pub fn secret_string(s: String) -> SecretString {
    SecretString::from(s)
}

/// Shows only the last four characters of a key: `…abcd`. Short keys show nothing.
pub fn mask_key(secret: &SecretString) -> String {
    // EXPOSE: only the last four characters leave, as the user-facing hint.
    let s = secret.expose_secret();
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 12 {
        return "…".to_string();
    }
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = secret_string("sk-live-1234567890abcdef".into());
        let shown = format!("{s:?}");
        assert!(!shown.contains("1234567890"), "{shown}");
    }

    #[test]
    fn mask_shows_last_four_only() {
        assert_eq!(
            mask_key(&secret_string("sk-ant-0123456789wxyz".into())),
            "…wxyz"
        );
        assert_eq!(mask_key(&secret_string("short".into())), "…");
    }
}

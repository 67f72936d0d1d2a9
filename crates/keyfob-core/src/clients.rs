//! Local clients: agents and CLIs that reach the wallet through the bridge.
//!
//! A client is a grant like a site's, keyed `client:<name>` instead of an origin, with
//! the user's name for it. It proves who it is with a token minted at login and shown
//! once (`kf-agent-` + 43 base64url characters, 256 random bits).
//!
//! Threat model: any local process can reach the bridge, and anyone who reads the
//! extension's storage can read a grant. So the wallet keeps only a verifier of each
//! token (HMAC-SHA-256 under a fixed public label: a hash, compared in constant time by
//! `ring::hmac::verify`), never the token. The token names no client: it is looked up
//! among the client grants, so a guess reveals nothing about which clients exist.
//! Revoking the grant kills the token at once; logging in again under the same name
//! replaces it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::hmac;
use serde::{Deserialize, Serialize};

use crate::providers::{truncate_for_message, Endpoint, Provider};
use crate::random::{make_bytes, RandomSource};
use crate::secret::{secret_string, SecretString};
use crate::CoreError;

/// Every client token starts with this.
pub const CLIENT_TOKEN_PREFIX: &str = "kf-agent-";
/// A client's grant key is this followed by its name.
pub const CLIENT_KEY_PREFIX: &str = "client:";
/// Longest client name.
pub const MAX_CLIENT_NAME: usize = 64;

const VERIFIER_LABEL: &[u8] = b"keyfob client token v1";
/// `kf-agent-` + 43 base64url characters (32 bytes, unpadded).
const TOKEN_LEN: usize = CLIENT_TOKEN_PREFIX.len() + 43;

/// What a client grant knows of its client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    /// The name the client gave at login, as the user approved it.
    pub name: String,
    /// Verifier of the client's token (base64url); never the token.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub token_verifier: String,
}

/// Checks a client name: 1 to 64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
pub fn validate_client_name(name: &str) -> Result<&str, CoreError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_CLIENT_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(name)
    } else {
        Err(CoreError::InvalidInput(
            "a client name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit".into(),
        ))
    }
}

/// The grant key of the client called `name`.
pub fn client_key(name: &str) -> Result<String, CoreError> {
    Ok(format!(
        "{CLIENT_KEY_PREFIX}{}",
        validate_client_name(name)?
    ))
}

/// The client name in a grant key, if it is a client's.
pub fn client_name_of(key: &str) -> Option<&str> {
    key.strip_prefix(CLIENT_KEY_PREFIX)
        .filter(|name| validate_client_name(name).is_ok())
}

/// The URL a bridged call names: the provider's own origin and the client's path (for a
/// provider whose address is the credential's, a placeholder host: the request rules
/// ignore it and use the stored base URL). The request rules then check it like a page's.
pub fn bridged_url(provider: &Provider, path: &str) -> Result<String, CoreError> {
    if !path.starts_with('/') || path.starts_with("//") || path.contains('#') {
        return Err(CoreError::UrlNotAllowed(format!(
            "a bridged path starts with one '/': {}",
            truncate_for_message(path)
        )));
    }
    Ok(match provider.endpoint {
        Endpoint::Fixed { origin } => format!("{origin}{path}"),
        Endpoint::CredentialBaseUrl { .. } => format!("https://bridge.invalid{path}"),
    })
}

/// A fresh token, and its verifier to store.
pub fn make_client_token(rng: &mut dyn RandomSource) -> Result<(SecretString, String), CoreError> {
    let token = format!(
        "{CLIENT_TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(make_bytes::<32>(rng)?)
    );
    let verifier = derive_token_verifier(&token);
    Ok((secret_string(token), verifier))
}

/// The verifier stored for `token`.
pub fn derive_token_verifier(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(hmac::sign(&verifier_key(), token.as_bytes()).as_ref())
}

/// Whether `presented` is the token `verifier` was made from (constant time).
pub fn token_matches(presented: &str, verifier: &str) -> bool {
    if !looks_like_token(presented) {
        return false;
    }
    let Ok(tag) = URL_SAFE_NO_PAD.decode(verifier) else {
        return false;
    };
    hmac::verify(&verifier_key(), presented.as_bytes(), &tag).is_ok()
}

/// Whether `text` has a client token's shape (a cheap check before any lookup).
pub fn looks_like_token(text: &str) -> bool {
    text.len() == TOKEN_LEN
        && text.starts_with(CLIENT_TOKEN_PREFIX)
        && text[CLIENT_TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn verifier_key() -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, VERIFIER_LABEL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;
    use crate::secret::ExposeSecret;

    #[test]
    fn a_minted_token_matches_its_verifier_and_nothing_else() {
        let mut rng = TestRandom(7);
        let (token, verifier) = make_client_token(&mut rng).expect("random");
        let token = token.expose_secret();
        assert!(looks_like_token(token), "{token}");
        assert!(token_matches(token, &verifier));
        assert!(!verifier.contains(&token[CLIENT_TOKEN_PREFIX.len()..]));
        let (other, _) = make_client_token(&mut rng).expect("random");
        assert!(!token_matches(other.expose_secret(), &verifier));
        let mut flipped = token.to_string();
        flipped.pop();
        flipped.push(if token.ends_with('A') { 'B' } else { 'A' });
        assert!(!token_matches(&flipped, &verifier));
        for bad in ["", "kf-agent-", &token[1..], &format!("{token}x")] {
            assert!(!token_matches(bad, &verifier), "{bad}");
        }
        assert!(!token_matches(token, "not base64!"));
    }

    #[test]
    fn client_names_are_plain_and_bounded() {
        for ok in ["my-agent", "a", "CI.runner_2", &"x".repeat(64)] {
            assert_eq!(validate_client_name(ok), Ok(ok), "{ok}");
        }
        for bad in ["", "-x", ".x", "a b", "a/b", "é", &"x".repeat(65), "a:b"] {
            assert!(validate_client_name(bad).is_err(), "{bad}");
        }
        assert_eq!(client_key("bot").as_deref(), Ok("client:bot"));
        assert_eq!(client_name_of("client:bot"), Some("bot"));
        assert_eq!(client_name_of("client:"), None);
        assert_eq!(client_name_of("https://client.example"), None);
    }
}

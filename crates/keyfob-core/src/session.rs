//! Session keys: what a page holds instead of a provider key.
//!
//! `kfs_` + base64url(HMAC-SHA-256(secret, "keyfob session v1\0" ‖ origin ‖ "\0" ‖ nonce)).
//! The key is stateless and bound to one origin and one grant: another origin, or the
//! same origin after its grant was revoked and re-created (a fresh nonce), derives a
//! different key. The wallet secret never leaves the service worker.
//!
//! Threat model: a page may present any string, including another site's session key.
//! Verification recomputes the MAC for the *sender's* origin (from the browser, never
//! from the message) and compares in constant time via `ring::hmac::verify`. Origins
//! and nonces never contain NUL, so the encoding is unambiguous. A session key is not a
//! provider key: it is worthless outside Keyfob and dies with its grant.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;

use crate::CoreError;

/// Every session key starts with this.
pub const SESSION_KEY_PREFIX: &str = "kfs_";

const DOMAIN: &[u8] = b"keyfob session v1\0";
/// `kfs_` + 43 base64url characters (32 bytes, unpadded).
const SESSION_KEY_LEN: usize = 4 + 43;

/// Derives the session key for `origin` under the grant with `grant_nonce`.
pub fn derive_session_key(secret: &[u8; 32], origin: &str, grant_nonce: &str) -> String {
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, secret),
        &message(origin, grant_nonce),
    );
    format!(
        "{SESSION_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(tag.as_ref())
    )
}

/// Checks `presented` against the key for `origin` and `grant_nonce` in constant time.
/// Any mismatch, malformed or empty value is `SessionInvalid`.
pub fn verify_session_key(
    secret: &[u8; 32],
    origin: &str,
    grant_nonce: &str,
    presented: &str,
) -> Result<(), CoreError> {
    if presented.len() != SESSION_KEY_LEN || origin.contains('\0') || grant_nonce.contains('\0') {
        return Err(CoreError::SessionInvalid);
    }
    let encoded = presented
        .strip_prefix(SESSION_KEY_PREFIX)
        .ok_or(CoreError::SessionInvalid)?;
    let tag = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| CoreError::SessionInvalid)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    hmac::verify(&key, &message(origin, grant_nonce), &tag).map_err(|_| CoreError::SessionInvalid)
}

/// The session key a page sent, from whichever auth header its SDK uses:
/// `authorization: Bearer X`, `x-api-key`, `x-goog-api-key` or `api-key`.
///
/// `None` if there is none, or if two headers carry *different* values (ambiguous
/// requests are refused rather than guessed at).
pub fn session_key_from_headers(headers: &[(String, String)]) -> Option<&str> {
    let mut found: Option<&str> = None;
    for (name, value) in headers {
        let value = value.trim_matches([' ', '\t']);
        let candidate = if name.eq_ignore_ascii_case("authorization") {
            bearer_token(value)
        } else if ["x-api-key", "x-goog-api-key", "api-key"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
        {
            Some(value)
        } else {
            None
        };
        match (candidate.filter(|c| !c.is_empty()), found) {
            (Some(c), Some(f)) if c != f => return None,
            (Some(c), None) => found = Some(c),
            _ => {}
        }
    }
    found
}

fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim_start_matches(' '))
}

fn message(origin: &str, grant_nonce: &str) -> Vec<u8> {
    [DOMAIN, origin.as_bytes(), b"\0", grant_nonce.as_bytes()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [7; 32];
    const ORIGIN: &str = "https://app.example";
    const NONCE: &str = "n0nce-AAAAAAAAAAAAAAAAAA";

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn derived_keys_have_the_documented_shape_and_value() {
        let key = derive_session_key(&SECRET, ORIGIN, NONCE);
        assert!(
            key.starts_with("kfs_") && key.len() == SESSION_KEY_LEN,
            "{key}"
        );
        // Recomputed independently from the spec in the module docs.
        let msg = [
            b"keyfob session v1\0".as_slice(),
            ORIGIN.as_bytes(),
            b"\0",
            NONCE.as_bytes(),
        ]
        .concat();
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &SECRET), &msg);
        assert_eq!(key, format!("kfs_{}", URL_SAFE_NO_PAD.encode(tag.as_ref())));
    }

    #[test]
    fn the_right_origin_and_nonce_verify() {
        let key = derive_session_key(&SECRET, ORIGIN, NONCE);
        assert_eq!(verify_session_key(&SECRET, ORIGIN, NONCE, &key), Ok(()));
    }

    #[test]
    fn anything_else_is_session_invalid() {
        let key = derive_session_key(&SECRET, ORIGIN, NONCE);
        let other_secret = derive_session_key(&[8; 32], ORIGIN, NONCE);
        let mut flipped = key.clone().into_bytes();
        flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap_or_default();
        let cases: Vec<(&str, &str, String)> = vec![
            ("https://evil.example", NONCE, key.clone()),
            ("https://app.example:8443", NONCE, key.clone()),
            (ORIGIN, "other-nonce", key.clone()),
            (ORIGIN, NONCE, key[..key.len() - 1].to_string()),
            (ORIGIN, NONCE, format!("{key}A")),
            (ORIGIN, NONCE, String::new()),
            (ORIGIN, NONCE, "kfs_".into()),
            (ORIGIN, NONCE, key.replacen("kfs_", "kfx_", 1)),
            (ORIGIN, NONCE, key.to_uppercase()),
            (ORIGIN, NONCE, flipped),
            (ORIGIN, NONCE, other_secret),
        ];
        for (origin, nonce, presented) in cases {
            assert_eq!(
                verify_session_key(&SECRET, origin, nonce, &presented),
                Err(CoreError::SessionInvalid),
                "{origin} {nonce} {presented}"
            );
        }
    }

    #[test]
    fn origin_and_nonce_cannot_be_shifted_into_each_other() {
        let a = derive_session_key(&SECRET, "https://a.example", "xnonce");
        let b = derive_session_key(&SECRET, "https://a.examplex", "nonce");
        assert_ne!(a, b);
    }

    #[test]
    fn session_key_is_found_in_any_sdk_header() {
        for p in [
            pairs(&[("Authorization", "Bearer kfs_abc")]),
            pairs(&[("authorization", "bearer   kfs_abc ")]),
            pairs(&[("X-Api-Key", "kfs_abc")]),
            pairs(&[("x-goog-api-key", "kfs_abc")]),
            pairs(&[("api-key", "kfs_abc")]),
            pairs(&[
                ("x-api-key", "kfs_abc"),
                ("authorization", "Bearer kfs_abc"),
            ]),
            pairs(&[("authorization", "Bearer "), ("x-api-key", "kfs_abc")]),
        ] {
            assert_eq!(session_key_from_headers(&p), Some("kfs_abc"), "{p:?}");
        }
    }

    #[test]
    fn missing_or_conflicting_session_keys_are_none() {
        for p in [
            pairs(&[]),
            pairs(&[("authorization", "Basic a2ZzX2FiYw==")]),
            pairs(&[("authorization", "Bearerkfs_abc")]),
            pairs(&[("cookie", "kfs_abc")]),
            pairs(&[
                ("x-api-key", "kfs_abc"),
                ("authorization", "Bearer kfs_other"),
            ]),
        ] {
            assert_eq!(session_key_from_headers(&p), None, "{p:?}");
        }
    }
}

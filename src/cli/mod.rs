//! The CLI commands that talk to the bridge (docs/bridge.md, "Commands"): each prints
//! text, or with `--json` one JSON object on stdout, and returns its exit code; errors
//! go through `exit` for theirs.

pub mod account;
pub mod client;
pub mod config;
pub mod env;
pub mod exit;
pub mod install;
pub mod probe;

use crate::error::KeyfobError;
use client::Bridge;
use secrecy::SecretString;
use serde_json::json;

/// `--provider` values, checked against `[a-z0-9_]{1,32}`, duplicates dropped.
pub fn provider_list(given: &[String]) -> Result<Vec<String>, KeyfobError> {
    let mut list: Vec<String> = Vec::new();
    for provider in given {
        if !crate::bridge::is_id(provider) {
            return Err(KeyfobError::Usage(format!(
                "{provider:?} is not a provider id (lower-case letters, digits, _)"
            )));
        }
        if !list.contains(provider) {
            list.push(provider.clone());
        }
    }
    Ok(list)
}

/// This client's granted providers, from `status`.
pub fn granted_providers(
    bridge: &Bridge,
    token: &SecretString,
) -> Result<Vec<String>, KeyfobError> {
    let answer = bridge.command("status", Some(token), &json!({}))?;
    let client = answer
        .get("client")
        .filter(|c| !c.is_null())
        .ok_or_else(|| {
            KeyfobError::Usage(
                "the wallet does not know this token: run `keyfob login` again".into(),
            )
        })?;
    account::providers_of(client)
        .ok_or_else(|| KeyfobError::BadAnswer("the status answer lists no providers".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_flags_are_checked_and_deduplicated() {
        let given = ["openai", "gemini", "openai"].map(String::from);
        assert_eq!(provider_list(&given).unwrap(), ["openai", "gemini"]);
        assert!(provider_list(&["OpenAI".to_string()]).is_err());
        assert!(provider_list(&[]).unwrap().is_empty());
    }
}

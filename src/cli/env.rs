//! `keyfob env`: the variables that point the usual SDKs at the bridge, ready for
//! `>> .env`. The SDKs send the agent token where they would send a provider key; the
//! bridge and the extension swap it for the real key.

use super::account::COMMAND_WAIT;
use super::client::Bridge;
use super::{config, exit, granted_providers};
use crate::error::KeyfobError;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Map, Value};

pub fn env(filter: &[String], json_out: bool) -> Result<i32, KeyfobError> {
    let filter = super::provider_list(filter)?;
    let token = config::require_token()?;
    let bridge = Bridge::new(COMMAND_WAIT)?;
    let granted = granted_providers(&bridge, &token)?;
    let providers = select(&granted, &filter)?;
    let port = crate::bridge::port()?;
    let vars = env_vars(&providers, port, &token);
    if json_out {
        let map: Map<String, Value> = vars.into_iter().map(|(k, v)| (k, json!(v))).collect();
        println!("{}", json!({ "env": map }));
    } else {
        for (name, value) in vars {
            println!("{name}={value}");
        }
    }
    Ok(exit::OK)
}

/// The granted providers, narrowed to `filter` when one is given; asking for a
/// provider this client may not use is an error.
pub fn select(granted: &[String], filter: &[String]) -> Result<Vec<String>, KeyfobError> {
    if filter.is_empty() {
        return Ok(granted.to_vec());
    }
    if let Some(missing) = filter.iter().find(|p| !granted.contains(p)) {
        return Err(KeyfobError::Usage(format!(
            "this client may not use {missing:?} (granted: {}); run `keyfob login` again to ask for it",
            granted.join(", ")
        )));
    }
    Ok(filter.to_vec())
}

/// `NAME=VALUE` pairs, in the order they print.
pub fn env_vars(providers: &[String], port: u16, token: &SecretString) -> Vec<(String, String)> {
    // EXPOSE: printing the token for the agent's environment is this command's job.
    let token = token.expose_secret().to_string();
    let base = |path: &str| format!("http://127.0.0.1:{port}/{path}");
    let mut vars = Vec::new();
    for provider in providers {
        match provider.as_str() {
            "openai" => {
                vars.push(("OPENAI_BASE_URL".into(), base("openai/v1")));
                vars.push(("OPENAI_API_KEY".into(), token.clone()));
            }
            "anthropic" => {
                vars.push(("ANTHROPIC_BASE_URL".into(), base("anthropic")));
                vars.push(("ANTHROPIC_API_KEY".into(), token.clone()));
            }
            "gemini" => {
                vars.push(("GEMINI_API_KEY".into(), token.clone()));
                vars.push(("GOOGLE_API_KEY".into(), token.clone()));
                vars.push(("GOOGLE_GEMINI_BASE_URL".into(), base("gemini")));
            }
            other => {
                let upper = other.to_ascii_uppercase();
                vars.push((format!("KEYFOB_{upper}_BASE_URL"), base(other)));
                vars.push((format!("KEYFOB_{upper}_API_KEY"), token.clone()));
            }
        }
    }
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_provider_gets_its_sdks_variables() {
        let token = SecretString::from("kf-agent-1-tok");
        let vars = env_vars(
            &ids(&["openai", "anthropic", "gemini", "mistral_eu"]),
            9000,
            &token,
        );
        let lines: Vec<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
        assert_eq!(
            lines,
            [
                "OPENAI_BASE_URL=http://127.0.0.1:9000/openai/v1",
                "OPENAI_API_KEY=kf-agent-1-tok",
                "ANTHROPIC_BASE_URL=http://127.0.0.1:9000/anthropic",
                "ANTHROPIC_API_KEY=kf-agent-1-tok",
                "GEMINI_API_KEY=kf-agent-1-tok",
                "GOOGLE_API_KEY=kf-agent-1-tok",
                "GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:9000/gemini",
                "KEYFOB_MISTRAL_EU_BASE_URL=http://127.0.0.1:9000/mistral_eu",
                "KEYFOB_MISTRAL_EU_API_KEY=kf-agent-1-tok",
            ]
        );
    }

    #[test]
    fn a_filter_narrows_and_fail_an_ungranted_provider_is_refused() {
        let granted = ids(&["openai", "gemini"]);
        assert_eq!(select(&granted, &[]).unwrap(), granted);
        assert_eq!(
            select(&granted, &ids(&["gemini"])).unwrap(),
            ids(&["gemini"])
        );
        let e = select(&granted, &ids(&["anthropic"])).unwrap_err();
        assert_eq!(e.code(), "USAGE");
        assert!(e.to_string().contains("anthropic"));
    }
}

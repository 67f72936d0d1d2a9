//! `keyfob status` (is the bridge there, is the wallet open, what may this client do)
//! and `keyfob test` (one cheap provider call end to end: the provider's model list).

use super::account::{providers_of, COMMAND_WAIT};
use super::client::Bridge;
use super::{config, exit, granted_providers};
use crate::error::KeyfobError;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A model list can take a while upstream.
const TEST_WAIT: Duration = Duration::from_secs(60);

pub fn status(json_out: bool) -> Result<i32, KeyfobError> {
    let token = config::token()?;
    let bridge = Bridge::new(COMMAND_WAIT)?;
    let (answer, refused) = match &token {
        None => (bridge.command("status", None, &json!({}))?, None),
        Some((t, _)) => match bridge.command("status", Some(t), &json!({})) {
            Ok(answer) => (answer, None),
            // The token was refused: still report the bridge and the wallet.
            Err(
                e @ KeyfobError::Http {
                    status: 400..=499, ..
                },
            ) => (bridge.command("status", None, &json!({}))?, Some(e)),
            Err(e) => return Err(e),
        },
    };
    let wallet = answer["wallet"].as_str().unwrap_or("unknown");
    let client = answer.get("client").filter(|c| !c.is_null());
    let code = if refused.is_some() {
        exit::USER
    } else {
        exit::OK
    };
    if json_out {
        let out = json!({
            "bridge": {"reachable": true, "listen": bridge.addr()},
            "wallet": wallet,
            "token": token.as_ref().map(|(_, source)| source.label()),
            "client": client,
            "clientError": refused.as_ref().map(|e| json!({"code": e.code(), "message": e.message()})),
        });
        println!("{out}");
        return Ok(code);
    }
    println!("bridge   running on {}", bridge.addr());
    match wallet {
        "locked" => println!("wallet   locked: unlock Keyfob in the browser's toolbar popup"),
        "missing" => println!("wallet   missing: create one in the Keyfob popup"),
        other => println!("wallet   {other}"),
    }
    let line = match (&token, client, &refused) {
        (None, _, _) => "none: run `keyfob login --name NAME`".to_string(),
        (Some(_), _, Some(e)) => format!("token refused ({})", exit::error_text(e)),
        (Some(_), None, None) => "token not recognised: run `keyfob login` again".to_string(),
        (Some(_), Some(client), None) => describe(client),
    };
    println!("client   {line}");
    Ok(code)
}

fn describe(client: &Value) -> String {
    let name = client["name"].as_str().unwrap_or("(unnamed)");
    let providers = providers_of(client).unwrap_or_default();
    let providers = match providers.is_empty() {
        true => "no providers".to_string(),
        false => providers.join(", "),
    };
    match &client["id"] {
        Value::Null => format!("{name}: {providers}"),
        id => format!(
            "{name} ({}): {providers}",
            id.as_str().map_or(id.to_string(), String::from)
        ),
    }
}

pub fn test(provider: Option<&str>, json_out: bool) -> Result<i32, KeyfobError> {
    let token = config::require_token()?;
    let provider = match provider {
        Some(p) if crate::bridge::is_id(p) => p.to_string(),
        Some(p) => return Err(KeyfobError::Usage(format!("{p:?} is not a provider id"))),
        None => {
            let bridge = Bridge::new(COMMAND_WAIT)?;
            let granted = granted_providers(&bridge, &token)?;
            granted.into_iter().next().ok_or_else(|| {
                KeyfobError::Usage("this client has no providers: run `keyfob login` again".into())
            })?
        }
    };
    let (path, headers) = models_request(&provider, &token);
    let bridge = Bridge::new(TEST_WAIT)?;
    let started = Instant::now();
    let answer = bridge.get(&path, &headers)?;
    let ms = started.elapsed().as_millis();
    let models = count_models(&answer);
    if json_out {
        println!(
            "{}",
            json!({"ok": true, "provider": provider, "models": models, "ms": ms})
        );
    } else {
        println!("OK {provider} ({models} models, {ms} ms)");
    }
    Ok(exit::OK)
}

/// The provider's model-list path through the bridge and its usual auth headers.
pub fn models_request(
    provider: &str,
    token: &SecretString,
) -> (String, Vec<(&'static str, String)>) {
    // EXPOSE: the token goes to the bridge the way the provider's SDK would send a key.
    let token = token.expose_secret().to_string();
    match provider {
        "openai" => (
            "/openai/v1/models".into(),
            vec![("authorization", format!("Bearer {token}"))],
        ),
        "anthropic" => (
            "/anthropic/v1/models".into(),
            vec![
                ("x-api-key", token),
                ("anthropic-version", "2023-06-01".into()),
            ],
        ),
        "gemini" => (
            "/gemini/v1beta/models".into(),
            vec![("x-goog-api-key", token)],
        ),
        other => (
            format!("/{other}/v1/models"),
            vec![("authorization", format!("Bearer {token}"))],
        ),
    }
}

/// OpenAI and Anthropic list under `data`, Gemini under `models`.
pub fn count_models(answer: &Value) -> usize {
    ["data", "models"]
        .iter()
        .find_map(|key| answer[key].as_array())
        .map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_provider_is_probed_with_its_own_auth_header() {
        let token = SecretString::from("kf-agent-1-t");
        let (path, headers) = models_request("anthropic", &token);
        assert_eq!(path, "/anthropic/v1/models");
        assert_eq!(headers[0], ("x-api-key", "kf-agent-1-t".to_string()));
        assert_eq!(headers[1].0, "anthropic-version");
        let (path, headers) = models_request("gemini", &token);
        assert_eq!(
            (path.as_str(), headers[0].0),
            ("/gemini/v1beta/models", "x-goog-api-key")
        );
        let (path, headers) = models_request("groq", &token);
        assert_eq!(path, "/groq/v1/models");
        assert_eq!(headers[0].1, "Bearer kf-agent-1-t");
    }

    #[test]
    fn models_are_counted_in_either_list_shape() {
        assert_eq!(count_models(&json!({"data": [{}, {}]})), 2);
        assert_eq!(count_models(&json!({"models": [{}]})), 1);
        assert_eq!(count_models(&json!({})), 0);
    }

    #[test]
    fn a_client_is_described_by_name_id_and_grant() {
        let c = json!({"id": "c9", "name": "ci bot", "providers": ["openai"]});
        assert_eq!(describe(&c), "ci bot (c9): openai");
        assert_eq!(
            describe(&json!({"name": "x", "providers": []})),
            "x: no providers"
        );
    }
}

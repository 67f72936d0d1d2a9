//! `keyfob login`, `keyfob logout`, `keyfob clients`: this agent's standing with the
//! wallet. The token is printed once, at login, and otherwise only stored.

use super::client::Bridge;
use super::{config, exit};
use crate::error::KeyfobError;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `login` waits for the user to approve in the browser.
const LOGIN_WAIT: Duration = Duration::from_secs(5 * 60);
/// How long the other commands wait for the bridge.
pub const COMMAND_WAIT: Duration = Duration::from_secs(30);
pub const DEFAULT_PROVIDERS: [&str; 3] = ["openai", "anthropic", "gemini"];

pub fn login(name: &str, providers: &[String], json_out: bool) -> Result<i32, KeyfobError> {
    if name.trim().is_empty() {
        return Err(KeyfobError::Usage("--name must not be empty".into()));
    }
    let providers = super::provider_list(providers)?;
    let providers = if providers.is_empty() {
        DEFAULT_PROVIDERS.map(String::from).to_vec()
    } else {
        providers
    };
    let bridge = Bridge::new(LOGIN_WAIT)?;
    if !json_out {
        eprintln!("Approve \"{name}\" in the Keyfob window that opens in your browser (waiting up to 5 minutes)…");
    }
    let answer = bridge.command(
        "login",
        None,
        &json!({"name": name, "providers": providers}),
    )?;
    let token: SecretString = match answer["token"].as_str() {
        Some(token) if !token.is_empty() => token.into(),
        _ => {
            return Err(KeyfobError::BadAnswer(
                "the login answer has no token".into(),
            ))
        }
    };
    let path = config::store_token(&token)?;
    let client = &answer["client"];
    if json_out {
        // EXPOSE: login prints the token once, as documented; it is stored from here on.
        let out = json!({"token": token.expose_secret(), "client": client, "stored": path.display().to_string()});
        println!("{out}");
    } else {
        let granted = providers_of(client).unwrap_or(providers).join(", ");
        println!("Approved: \"{name}\" may use {granted}.");
        println!("Your agent token (shown once):");
        println!();
        // EXPOSE: login prints the token once, as documented; it is stored from here on.
        println!("  {}", token.expose_secret());
        println!();
        println!("stored in {}", path.display());
        println!("Next: `keyfob env >> .env`, then `keyfob test`.");
    }
    Ok(exit::OK)
}

pub fn logout(json_out: bool) -> Result<i32, KeyfobError> {
    let (token, _) = config::token()?.ok_or(KeyfobError::NotLoggedIn)?;
    let bridge = Bridge::new(COMMAND_WAIT)?;
    bridge.command("logout", Some(&token), &json!({}))?;
    // Delete the stored token only if it is the one just revoked (KEYFOB_AGENT_KEY may
    // have named another client).
    let stored = config::stored_token()?;
    let same = stored.is_some_and(|s| s.expose_secret() == token.expose_secret());
    let deleted = same && config::delete_token()?;
    let path = config::token_path()?;
    if json_out {
        println!(
            "{}",
            json!({"revoked": true, "deleted": deleted, "path": path.display().to_string()})
        );
    } else if deleted {
        println!(
            "Logged out: the token is revoked and {} deleted.",
            path.display()
        );
    } else {
        println!("Logged out: the token is revoked.");
    }
    Ok(exit::OK)
}

pub fn clients(json_out: bool) -> Result<i32, KeyfobError> {
    let token = config::require_token()?;
    let bridge = Bridge::new(COMMAND_WAIT)?;
    let answer = bridge.command("clients", Some(&token), &json!({}))?;
    if json_out {
        println!("{answer}");
        return Ok(exit::OK);
    }
    let list = answer["clients"].as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        println!("No approved clients.");
    }
    let now = now_ms();
    for client in &list {
        println!("{}", client_line(client, now));
    }
    Ok(exit::OK)
}

/// `id  name  providers  expires …` for one client.
pub fn client_line(client: &Value, now_ms: u64) -> String {
    let id = match &client["id"] {
        Value::String(id) => id.clone(),
        Value::Null => "?".into(),
        other => other.to_string(),
    };
    let name = client["name"].as_str().unwrap_or("(unnamed)");
    let providers = providers_of(client).unwrap_or_default().join(",");
    let expires = match client["expiresAtMs"].as_u64() {
        None => "never expires".to_string(),
        Some(at) if at <= now_ms => "expired".to_string(),
        Some(at) => format!("expires in {}", span(at - now_ms)),
    };
    format!("{id:<8} {name:<24} {providers:<28} {expires}")
}

/// A grant's provider ids (`["openai"]`; objects with an `id` are accepted too).
pub fn providers_of(client: &Value) -> Option<Vec<String>> {
    let list = client["providers"].as_array()?;
    Some(
        list.iter()
            .filter_map(|p| p.as_str().or_else(|| p["id"].as_str()))
            .map(String::from)
            .collect(),
    )
}

fn span(ms: u64) -> String {
    let minutes = ms / 60_000;
    match minutes {
        0 => "under a minute".into(),
        1..=119 => format!("{minutes} min"),
        120..=2879 => format!("{} h", minutes / 60),
        _ => format!("{} days", minutes / 1440),
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_line_shows_its_grant_and_expiry() {
        let client = json!({"id": "c1", "name": "my agent", "providers": ["openai", "gemini"],
            "createdAtMs": 0, "expiresAtMs": 3 * 86_400_000u64});
        let line = client_line(&client, 0);
        assert!(line.starts_with("c1 "), "{line}");
        assert!(line.contains("my agent"));
        assert!(line.contains("openai,gemini"));
        assert!(line.ends_with("expires in 3 days"), "{line}");
        assert!(client_line(&client, 4 * 86_400_000).ends_with("expired"));
        let forever = json!({"id": 7, "name": "x", "providers": [{"id": "anthropic"}]});
        let line = client_line(&forever, 0);
        assert!(
            line.starts_with("7 ") && line.contains("anthropic") && line.ends_with("never expires")
        );
    }
}

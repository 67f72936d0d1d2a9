//! The model list a routed provider answers with when the app has no key for it: the
//! wallet writes it itself, in the app's dialect, and nothing goes upstream. It names
//! the models the route serves and the exact names its rules map (a `claude-*` prefix
//! names no model, so it is not listed); asking for any of them reaches the served
//! provider.

use serde_json::{json, Value};

use super::{Dialect, Route};

/// The model ids the list shows: exact rule patterns, then served models, each once.
pub fn listed_models(route: &Route) -> Vec<&str> {
    let exact = route
        .models
        .iter()
        .map(|r| r.pattern.as_str())
        .filter(|p| !p.ends_with('*'));
    let served = route.models.iter().map(|r| r.model.as_str());
    let mut out: Vec<&str> = Vec::new();
    for id in exact.chain(served) {
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The list's body in `dialect`'s own shape (its models endpoint's answer).
pub fn model_list_body(dialect: Dialect, route: &Route) -> Vec<u8> {
    let ids = listed_models(route);
    let body = match dialect {
        Dialect::Anthropic => json!({
            "data": ids.iter().map(|id| json!({
                "type": "model", "id": id, "display_name": id,
                "created_at": "1970-01-01T00:00:00Z",
            })).collect::<Vec<Value>>(),
            "has_more": false,
            "first_id": ids.first(),
            "last_id": ids.last(),
        }),
        Dialect::OpenAiChat | Dialect::OpenAiResponses => json!({
            "object": "list",
            "data": ids.iter().map(|id| json!({
                "id": id, "object": "model", "created": 0, "owned_by": route.to,
            })).collect::<Vec<Value>>(),
        }),
        Dialect::Gemini => json!({
            "models": ids.iter().map(|id| json!({
                "name": format!("models/{id}"), "displayName": id,
                "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
            })).collect::<Vec<Value>>(),
        }),
    };
    body.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::ModelRule;

    fn route() -> Route {
        let rule = |pattern: &str, model: &str| ModelRule {
            pattern: pattern.into(),
            model: model.into(),
        };
        Route {
            from: "anthropic".into(),
            to: "openai".into(),
            models: vec![
                rule("claude-haiku-4-5", "gpt-4o-mini"),
                rule("claude-*", "gpt-4o"),
                rule("claude-opus-4-5", "gpt-4o"),
            ],
            via: None,
        }
    }

    #[test]
    fn lists_exact_names_then_served_models_once_and_no_prefixes() {
        assert_eq!(
            listed_models(&route()),
            [
                "claude-haiku-4-5",
                "claude-opus-4-5",
                "gpt-4o-mini",
                "gpt-4o"
            ]
        );
    }

    #[test]
    fn each_dialect_gets_its_own_list_shape() {
        let parse =
            |d| -> Value { serde_json::from_slice(&model_list_body(d, &route())).expect("json") };
        let anthropic = parse(Dialect::Anthropic);
        assert_eq!(anthropic["data"][0]["type"], "model");
        assert_eq!(anthropic["last_id"], "gpt-4o");
        assert_eq!(anthropic["has_more"], false);
        let openai = parse(Dialect::OpenAiChat);
        assert_eq!(openai["object"], "list");
        assert_eq!(openai["data"][2]["id"], "gpt-4o-mini");
        let gemini = parse(Dialect::Gemini);
        assert_eq!(gemini["models"][1]["name"], "models/claude-opus-4-5");
        let empty = Route {
            models: Vec::new(),
            ..route()
        };
        let none: Value =
            serde_json::from_slice(&model_list_body(Dialect::Anthropic, &empty)).expect("json");
        assert_eq!(none["data"].as_array().map(Vec::len), Some(0));
        assert_eq!(none["first_id"], Value::Null);
    }
}

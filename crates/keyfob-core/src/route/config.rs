//! The routes a user sets on a site's grant: "calls this app makes to provider X are
//! served by provider Y", with a model map. [`validate_routes`] is the one place a
//! route is checked; a grant holds only routes that passed it.
//!
//! Invariants: both providers are known and speak a routing dialect; `from` differs
//! from `to` and is one of the grant's providers; at most one route per `from`; `via`,
//! when set, is an API `to` serves; sizes are bounded. The served model is the first
//! matching rule's, else the app's own.

use super::Dialect;

use serde::{Deserialize, Serialize};

use crate::providers::{self, truncate_for_message, Provider};
use crate::CoreError;

/// At most this many routes on one grant.
pub const MAX_ROUTES: usize = 16;
/// At most this many model rules on one route.
pub const MAX_MODEL_RULES: usize = 64;
/// The longest model name or pattern.
pub const MAX_MODEL_LEN: usize = 128;

/// Calls the app makes to `from` are served by `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// The provider the app calls.
    pub from: String,
    /// The provider that serves the calls.
    pub to: String,
    /// Which served model answers for which requested one (first match wins).
    #[serde(default)]
    pub models: Vec<ModelRule>,
    /// Which of `to`'s APIs serves (OpenAI: Chat Completions or Responses); unset, the
    /// app's own dialect if `to` speaks it, else `to`'s first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Dialect>,
}

/// `pattern` is an exact model name, or a prefix ending in `*`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRule {
    pub pattern: String,
    pub model: String,
}

impl ModelRule {
    pub fn matches(&self, requested: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => requested.starts_with(prefix),
            None => requested == self.pattern,
        }
    }
}

impl Route {
    /// The model that serves a request for `requested`.
    pub fn served_model(&self, requested: &str) -> String {
        self.models
            .iter()
            .find(|rule| rule.matches(requested))
            .map_or_else(|| requested.to_string(), |rule| rule.model.clone())
    }

    /// The serving provider's row.
    pub fn served_by(&self) -> Result<&'static Provider, CoreError> {
        providers::find(&self.to)
    }
}

/// Checks `routes` for a grant of `granted` providers.
/// Errors: `UnknownProvider`, `ProviderNotGranted` (`from` is not granted), and
/// `InvalidInput` for everything else (unroutable provider, `from` = `to`, a second
/// route for one `from`, a bad model rule, too many of anything).
pub fn validate_routes(granted: &[String], routes: &[Route]) -> Result<(), CoreError> {
    let invalid = |why: String| Err(CoreError::InvalidInput(why));
    if routes.len() > MAX_ROUTES {
        return invalid(format!("at most {MAX_ROUTES} routes"));
    }
    for (i, route) in routes.iter().enumerate() {
        let from = providers::find(&route.from)?;
        let to = providers::find(&route.to)?;
        for p in [from, to] {
            if p.speaks.is_empty() {
                return invalid(format!("{} cannot be routed", p.name));
            }
        }
        if from.id == to.id {
            return invalid(format!("a route from {} to itself", from.name));
        }
        if let Some(via) = route.via.filter(|d| to.speaks(*d).is_none()) {
            return invalid(format!(
                "{} does not serve the {} API",
                to.name,
                via.label()
            ));
        }
        if !granted.iter().any(|g| g == from.id) {
            return Err(CoreError::ProviderNotGranted(from.id.to_string()));
        }
        if routes[..i].iter().any(|r| r.from == route.from) {
            return invalid(format!("two routes from {}", from.name));
        }
        if route.models.len() > MAX_MODEL_RULES {
            return invalid(format!("at most {MAX_MODEL_RULES} model rules per route"));
        }
        for rule in &route.models {
            check_model_text(&rule.pattern, true)?;
            check_model_text(&rule.model, false)?;
        }
    }
    Ok(())
}

/// A model name (or, with `pattern`, a name that may end in one `*`).
fn check_model_text(text: &str, pattern: bool) -> Result<(), CoreError> {
    let name = if pattern {
        text.strip_suffix('*').unwrap_or(text)
    } else {
        text
    };
    let fine = |b: u8| b.is_ascii_graphic() && !b"*?#\"\\".contains(&b);
    let empty_ok = pattern && text == "*";
    if text.len() > MAX_MODEL_LEN || (name.is_empty() && !empty_ok) || !name.bytes().all(fine) {
        return Err(CoreError::InvalidInput(format!(
            "model {:?} is not a model name{}",
            truncate_for_message(text),
            if pattern {
                " or a prefix ending in *"
            } else {
                ""
            }
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(from: &str, to: &str) -> Route {
        Route {
            from: from.into(),
            to: to.into(),
            models: Vec::new(),
            via: None,
        }
    }

    fn rule(pattern: &str, model: &str) -> ModelRule {
        ModelRule {
            pattern: pattern.into(),
            model: model.into(),
        }
    }

    #[test]
    fn the_first_matching_rule_names_the_served_model() {
        let mut r = route("anthropic", "openai");
        r.models = vec![
            rule("claude-opus-4-1", "gpt-5"),
            rule("claude-*", "gpt-5-mini"),
            rule("*", "never-reached-for-claude"),
        ];
        assert_eq!(r.served_model("claude-opus-4-1"), "gpt-5");
        assert_eq!(r.served_model("claude-sonnet-4-5"), "gpt-5-mini");
        assert_eq!(r.served_model("other"), "never-reached-for-claude");
        r.models.clear();
        assert_eq!(r.served_model("claude-x"), "claude-x");
    }

    #[test]
    fn routes_are_checked_in_one_place() {
        let granted = vec!["anthropic".to_string(), "gemini".to_string()];
        let ok = [route("anthropic", "openai"), route("gemini", "anthropic")];
        assert_eq!(validate_routes(&granted, &ok), Ok(()));
        let unknown = validate_routes(&granted, &[route("anthropic", "nope")]);
        assert_eq!(unknown, Err(CoreError::UnknownProvider("nope".into())));
        let not_granted = validate_routes(&granted, &[route("openai", "anthropic")]);
        assert_eq!(
            not_granted,
            Err(CoreError::ProviderNotGranted("openai".into()))
        );
        for bad in [
            vec![route("anthropic", "anthropic")],
            vec![route("anthropic", "openai"), route("anthropic", "gemini")],
            vec![route("anthropic", "cohere")],
            vec![Route {
                models: vec![rule("claude-*-x", "gpt")],
                ..route("anthropic", "openai")
            }],
            vec![Route {
                models: vec![rule("claude", "")],
                ..route("anthropic", "openai")
            }],
            vec![Route {
                models: vec![rule("a", "b"); MAX_MODEL_RULES + 1],
                ..route("anthropic", "openai")
            }],
        ] {
            assert!(
                matches!(
                    validate_routes(&granted, &bad),
                    Err(CoreError::InvalidInput(_))
                ),
                "{bad:?}"
            );
        }
    }
}

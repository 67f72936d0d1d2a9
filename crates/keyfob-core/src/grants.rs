//! Grants: which origins the user approved, for which providers, until when.
//!
//! Invariants:
//! - an origin is a normalised `https://host[:port]` (plain http only for loopback
//!   hosts); opaque origins (`null`), extension, file and data URLs are never granted;
//! - a grant's nonce is fresh random whenever a grant is created, so revoking and
//!   re-approving kills every session key issued before (see [`crate::session`]);
//! - merging providers into a live grant keeps its nonce, so open pages keep working;
//! - an expired grant is treated exactly like no grant.
//!
//! Origins here come from the browser (`port.sender.origin`), never from a message.

use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::clients::{client_key, token_matches, ClientInfo, CLIENT_KEY_PREFIX};
use crate::metering::policy::{self, GrantPolicy};
use crate::providers::{self, truncate_for_message};
use crate::random::{make_bytes, RandomSource};
use crate::route::config::{validate_routes, Route};
use crate::session;
use crate::CoreError;

/// One approved origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Grant {
    pub origin: String,
    pub providers: Vec<String>,
    pub created_at_ms: u64,
    pub expires_at_ms: Option<u64>,
    /// Binds session keys to this grant (base64url of 16 random bytes).
    pub nonce: String,
    /// Budgets, model allow-list, gated surfaces, approval threshold (metering).
    #[serde(default)]
    pub policy: GrantPolicy,
    /// Providers that serve this site's calls to another provider
    /// ([`crate::route::config`]); stored grants from before routing have none.
    #[serde(default)]
    pub routes: Vec<Route>,
    /// For a local client's grant (keyed `client:<name>`): its name and token verifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientInfo>,
}

impl Grant {
    /// Whether the grant has not expired at `now_ms`.
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_none_or(|exp| now_ms < exp)
    }

    /// The route serving this site's calls to `provider`, if the user set one.
    pub fn route_from(&self, provider: &str) -> Option<&Route> {
        self.routes.iter().find(|r| r.from == provider)
    }

    /// Whether `provider` is among the granted providers.
    pub fn allows(&self, provider: &str) -> bool {
        self.providers.iter().any(|p| p == provider)
    }
}

/// All grants, keyed by normalised origin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantBook {
    #[serde(default)]
    grants: BTreeMap<String, Grant>,
}

/// Checks a grant key: a browser origin (normalised), or `client:<name>` for a local
/// client ([`crate::clients`]).
pub fn validate_grant_key(key: &str) -> Result<String, CoreError> {
    match key.strip_prefix(CLIENT_KEY_PREFIX) {
        Some(name) => client_key(name),
        None => validate_origin(key),
    }
}

/// Checks and normalises a browser origin.
pub fn validate_origin(origin: &str) -> Result<String, CoreError> {
    let refuse = |why: &str| {
        CoreError::InvalidInput(format!("origin {}: {why}", truncate_for_message(origin)))
    };
    if origin.is_empty() || origin.len() > 512 || !origin.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse("not a web origin"));
    }
    let url = url::Url::parse(origin).map_err(|_| refuse("not a web origin"))?;
    let Some(host) = url.host() else {
        return Err(refuse("opaque origins are not allowed"));
    };
    match url.scheme() {
        "https" => {}
        "http" if providers::url_safety::is_loopback(&host) => {}
        "http" => return Err(refuse("plain http is only allowed for localhost")),
        _ => return Err(refuse("only https sites can be approved")),
    }
    let serialised = url.origin().ascii_serialization();
    // Anything the parser would drop or rewrite (userinfo, path, query, fragment, a
    // default port, IDN, odd spellings) means the input was not an origin.
    if origin.eq_ignore_ascii_case(&serialised)
        || origin.eq_ignore_ascii_case(&format!("{serialised}/"))
    {
        Ok(serialised)
    } else {
        Err(refuse("must be scheme://host[:port] only"))
    }
}

impl GrantBook {
    /// The grant for `origin`, live or not.
    pub fn get(&self, origin: &str) -> Option<&Grant> {
        self.grants.get(&validate_grant_key(origin).ok()?)
    }

    /// Every grant, sorted by origin.
    pub fn list(&self) -> Vec<&Grant> {
        self.grants.values().collect()
    }

    /// Approves `providers` for `origin`: merged into a live grant (same nonce; the new
    /// expiry replaces the old one), or a new grant with a fresh nonce.
    pub fn approve(
        &mut self,
        origin: &str,
        providers: Vec<String>,
        now_ms: u64,
        expires_at_ms: Option<u64>,
        rng: &mut dyn RandomSource,
    ) -> Result<&Grant, CoreError> {
        let origin = validate_grant_key(origin)?;
        let providers = checked_providers(providers)?;
        if expires_at_ms.is_some_and(|exp| exp <= now_ms) {
            return Err(CoreError::InvalidInput("the expiry is in the past".into()));
        }
        let live = self.grants.get(&origin).is_some_and(|g| g.is_live(now_ms));
        let grant = match self.grants.entry(origin) {
            Entry::Occupied(entry) if live => {
                let grant = entry.into_mut();
                let merged = grant.providers.iter().cloned().chain(providers).collect();
                grant.providers = checked_providers(merged)?;
                grant.expires_at_ms = expires_at_ms;
                grant
            }
            entry => {
                let grant = Grant {
                    origin: entry.key().clone(),
                    providers,
                    created_at_ms: now_ms,
                    expires_at_ms,
                    nonce: make_grant_nonce(rng)?,
                    policy: GrantPolicy::default(),
                    routes: Vec::new(),
                    client: None,
                };
                match entry {
                    Entry::Occupied(old) => {
                        let slot = old.into_mut();
                        *slot = grant;
                        slot
                    }
                    Entry::Vacant(slot) => slot.insert(grant),
                }
            }
        };
        Ok(grant)
    }

    /// Removes the grant for `origin`; `true` if there was one.
    pub fn revoke(&mut self, origin: &str) -> bool {
        validate_grant_key(origin).is_ok_and(|o| self.grants.remove(&o).is_some())
    }

    /// Replaces the granted providers (at least one; revoke to remove them all).
    pub fn set_providers(&mut self, origin: &str, providers: Vec<String>) -> Result<(), CoreError> {
        let providers = checked_providers(providers)?;
        let key = validate_grant_key(origin).map_err(|_| CoreError::OriginNotApproved)?;
        let grant = self
            .grants
            .get_mut(&key)
            .ok_or(CoreError::OriginNotApproved)?;
        grant.providers = providers;
        // A route from a provider no longer granted could never be used.
        let granted = &grant.providers;
        grant.routes.retain(|r| granted.contains(&r.from));
        Ok(())
    }

    /// Replaces the routes of `origin`'s grant (checked first, against its providers).
    pub fn set_routes(&mut self, origin: &str, routes: Vec<Route>) -> Result<(), CoreError> {
        let key = validate_grant_key(origin)?;
        let grant = self
            .grants
            .get_mut(&key)
            .ok_or(CoreError::OriginNotApproved)?;
        validate_routes(&grant.providers, &routes)?;
        grant.routes = routes;
        Ok(())
    }

    /// Sets `routes` on `origin`'s grant, each replacing any route from the same
    /// provider and keeping the others (an approval adds routes; the popup replaces
    /// them all with [`Self::set_routes`]).
    pub fn merge_routes(&mut self, origin: &str, routes: Vec<Route>) -> Result<(), CoreError> {
        let kept = self
            .get(origin)
            .ok_or(CoreError::OriginNotApproved)?
            .routes
            .iter()
            .filter(|old| !routes.iter().any(|new| new.from == old.from))
            .cloned();
        let merged = kept.chain(routes.iter().cloned()).collect();
        self.set_routes(origin, merged)
    }

    /// The live grant for `origin` if it includes `provider`.
    /// Errors: `OriginNotApproved` (no grant, or expired), `ProviderNotGranted`.
    pub fn check(&self, origin: &str, provider: &str, now_ms: u64) -> Result<&Grant, CoreError> {
        let grant = self.get(origin).ok_or(CoreError::OriginNotApproved)?;
        policy::check_expiry(grant.expires_at_ms, now_ms)?;
        if grant.allows(provider) {
            Ok(grant)
        } else {
            Err(CoreError::ProviderNotGranted(truncate_for_message(
                provider,
            )))
        }
    }

    /// Replaces the metering policy of `origin`'s grant (checked first).
    pub fn set_policy(&mut self, origin: &str, policy: GrantPolicy) -> Result<(), CoreError> {
        policy.validate()?;
        let key = validate_grant_key(origin)?;
        let grant = self
            .grants
            .get_mut(&key)
            .ok_or(CoreError::OriginNotApproved)?;
        grant.policy = policy;
        Ok(())
    }

    /// The grant a proxied request may use: `origin`'s live grant covering `provider`, and
    /// a session key for it. The key comes from the page: a request that presents one for
    /// a grant that no longer exists (revoked) is `SessionInvalid`, so the app knows to
    /// reconnect; one that presents none is `OriginNotApproved`.
    pub fn authorise(
        &self,
        session_secret: &[u8; 32],
        origin: &str,
        provider: &str,
        presented: Option<&str>,
        now_ms: u64,
    ) -> Result<&Grant, CoreError> {
        let grant = match (self.check(origin, provider, now_ms), presented) {
            (Ok(grant), _) => grant,
            (Err(CoreError::OriginNotApproved), Some(_)) => return Err(CoreError::SessionInvalid),
            (Err(other), _) => return Err(other),
        };
        session::verify_session_key(
            session_secret,
            origin,
            &grant.nonce,
            presented.unwrap_or(""),
        )?;
        Ok(grant)
    }

    /// Records which client a `client:<name>` grant belongs to (its token verifier).
    pub fn set_client(&mut self, key: &str, client: ClientInfo) -> Result<(), CoreError> {
        let key = validate_grant_key(key)?;
        let grant = self
            .grants
            .get_mut(&key)
            .ok_or(CoreError::OriginNotApproved)?;
        grant.client = Some(client);
        Ok(())
    }

    /// The client grant whose token `presented` is, live or not. Every client grant is
    /// checked, so the time taken says nothing about which one matched.
    pub fn client_by_token(&self, presented: &str) -> Option<&Grant> {
        let mut found = None;
        for grant in self.grants.values() {
            let matches = grant
                .client
                .as_ref()
                .is_some_and(|c| token_matches(presented, &c.token_verifier));
            if matches {
                found = Some(grant);
            }
        }
        found
    }

    /// Whether `origin` has a grant that has not expired.
    pub fn is_live(&self, origin: &str, now_ms: u64) -> bool {
        self.get(origin).is_some_and(|g| g.is_live(now_ms))
    }

    /// Drops expired grants; returns how many were removed.
    pub fn prune_expired(&mut self, now_ms: u64) -> usize {
        let before = self.grants.len();
        self.grants.retain(|_, g| g.is_live(now_ms));
        before - self.grants.len()
    }
}

/// Known provider ids, without duplicates, in registry order; at least one.
fn checked_providers(ids: Vec<String>) -> Result<Vec<String>, CoreError> {
    for id in &ids {
        providers::find(id)?;
    }
    let out: Vec<String> = providers::all()
        .iter()
        .filter(|p| ids.iter().any(|id| id == p.id))
        .map(|p| p.id.to_string())
        .collect();
    if out.is_empty() {
        return Err(CoreError::InvalidInput(
            "choose at least one provider".into(),
        ));
    }
    Ok(out)
}

/// A fresh grant nonce: base64url of 16 random bytes.
fn make_grant_nonce(rng: &mut dyn RandomSource) -> Result<String, CoreError> {
    Ok(URL_SAFE_NO_PAD.encode(make_bytes::<16>(rng)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;

    const SITE: &str = "https://app.example";

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn origins_are_validated_and_normalised() {
        for (raw, want) in [
            ("https://app.example", "https://app.example"),
            ("https://App.Example/", "https://app.example"),
            ("https://app.example:8443", "https://app.example:8443"),
            ("http://localhost:5173", "http://localhost:5173"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ] {
            assert_eq!(validate_origin(raw).as_deref(), Ok(want), "{raw}");
        }
        for raw in [
            "null",
            "",
            "https://app.example/path",
            "https://app.example/?q",
            "https://app.example#f",
            "https://user@app.example",
            "https://app.example:443",
            "http://app.example",
            "http://192.168.0.2",
            "chrome-extension://abcdefghijklmnop",
            "file:///etc/passwd",
            "data:text/html,x",
            "javascript:alert(1)",
            "https://app.example ",
            "https://аpp.example",
            "https:app.example",
        ] {
            assert!(
                matches!(validate_origin(raw), Err(CoreError::InvalidInput(_))),
                "{raw:?}"
            );
        }
    }

    /// Approves `providers` for SITE and returns a copy of the resulting grant.
    fn approve(
        book: &mut GrantBook,
        providers: &[&str],
        now_ms: u64,
        expires_at_ms: Option<u64>,
    ) -> Result<Grant, CoreError> {
        let mut rng = TestRandom(now_ms);
        book.approve(SITE, ids(providers), now_ms, expires_at_ms, &mut rng)
            .cloned()
    }

    fn check(book: &GrantBook, origin: &str, provider: &str, now_ms: u64) -> Result<(), CoreError> {
        book.check(origin, provider, now_ms).map(|_| ())
    }

    #[test]
    fn approve_creates_then_merges_keeping_the_nonce() {
        let mut book = GrantBook::default();
        let first = approve(&mut book, &["openai"], 1_000, None).expect("ok");
        assert_eq!(first.nonce.len(), 22);
        let merged = approve(&mut book, &["anthropic", "openai"], 2_000, None).expect("ok");
        assert_eq!(merged.nonce, first.nonce);
        assert_eq!(merged.created_at_ms, 1_000);
        assert_eq!(merged.providers, ids(&["anthropic", "openai"]));
        let mut rng = TestRandom(9);
        let via_slash = book.approve(
            "https://app.example/",
            ids(&["gemini"]),
            3_000,
            None,
            &mut rng,
        );
        assert_eq!(via_slash.map(|g| g.nonce.clone()), Ok(first.nonce));
        assert_eq!(book.list().len(), 1);
    }

    #[test]
    fn check_reports_the_right_error() {
        let mut book = GrantBook::default();
        assert_eq!(
            check(&book, SITE, "openai", 0),
            Err(CoreError::OriginNotApproved)
        );
        approve(&mut book, &["openai"], 0, Some(100)).expect("ok");
        assert_eq!(check(&book, SITE, "openai", 99), Ok(()));
        assert_eq!(
            check(&book, SITE, "anthropic", 99),
            Err(CoreError::ProviderNotGranted("anthropic".into()))
        );
        assert_eq!(
            check(&book, SITE, "openai", 100),
            Err(CoreError::GrantExpired)
        );
        let other = "https://other.example";
        assert_eq!(
            check(&book, other, "openai", 0),
            Err(CoreError::OriginNotApproved)
        );
        assert!(!book.is_live(SITE, 100) && book.is_live(SITE, 0));
    }

    #[test]
    fn an_expired_grant_is_replaced_with_a_fresh_nonce() {
        let mut book = GrantBook::default();
        let old = approve(&mut book, &["openai", "gemini"], 0, Some(10)).expect("ok");
        let new = approve(&mut book, &["anthropic"], 20, None).expect("ok");
        assert_ne!(new.nonce, old.nonce);
        assert_eq!(new.providers, ids(&["anthropic"]));
        assert_eq!(new.created_at_ms, 20);
    }

    #[test]
    fn revoke_then_approve_gives_a_new_nonce() {
        let mut book = GrantBook::default();
        let old = approve(&mut book, &["openai"], 0, None).expect("ok");
        assert!(book.revoke(SITE));
        assert!(!book.revoke(SITE));
        assert_eq!(book.get(SITE), None);
        let new = approve(&mut book, &["openai"], 1, None).expect("ok");
        assert_ne!(old.nonce, new.nonce);
    }

    #[test]
    fn bad_approvals_are_refused() {
        let mut book = GrantBook::default();
        let mut rng = TestRandom(1);
        let res = book.approve("null", ids(&["openai"]), 0, None, &mut rng);
        assert!(matches!(res, Err(CoreError::InvalidInput(_))));
        assert_eq!(
            approve(&mut book, &["openai", "nope"], 0, None),
            Err(CoreError::UnknownProvider("nope".into()))
        );
        assert!(matches!(
            approve(&mut book, &[], 0, None),
            Err(CoreError::InvalidInput(_))
        ));
        let past = approve(&mut book, &["openai"], 5, Some(5));
        assert!(matches!(past, Err(CoreError::InvalidInput(_))));
        assert!(book.list().is_empty());
    }

    #[test]
    fn set_providers_replaces_and_validates() {
        let mut book = GrantBook::default();
        let res = book.set_providers(SITE, ids(&["openai"]));
        assert_eq!(res, Err(CoreError::OriginNotApproved));
        approve(&mut book, &["openai", "gemini"], 0, None).expect("ok");
        book.set_providers(SITE, ids(&["gemini", "gemini"]))
            .expect("ok");
        assert_eq!(
            book.get(SITE).map(|g| g.providers.clone()),
            Some(ids(&["gemini"]))
        );
        assert!(book.set_providers(SITE, ids(&["x"])).is_err());
        assert!(book.set_providers(SITE, vec![]).is_err());
        assert_eq!(
            check(&book, SITE, "openai", 0),
            Err(CoreError::ProviderNotGranted("openai".into()))
        );
    }

    #[test]
    fn the_book_round_trips_through_json_and_prunes() {
        let mut book = GrantBook::default();
        approve(&mut book, &["openai"], 0, Some(10)).expect("ok");
        let mut rng = TestRandom(1);
        let local = "http://localhost:5173";
        book.approve(local, ids(&["anthropic"]), 0, None, &mut rng)
            .expect("ok");
        let json = serde_json::to_string(&book).expect("serialises");
        assert!(json.contains("\"expiresAtMs\":10"), "{json}");
        let back: GrantBook = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, book);
        assert_eq!(book.prune_expired(10), 1);
        assert_eq!(book.list().len(), 1);
        let empty: Result<GrantBook, _> = serde_json::from_str("{}");
        assert_eq!(empty.map(|b| b.list().len()).ok(), Some(0));
    }

    #[test]
    fn routes_are_validated_kept_to_granted_providers_and_optional_when_stored() {
        let mut book = GrantBook::default();
        let to_openai = Route {
            from: "anthropic".into(),
            to: "openai".into(),
            models: Vec::new(),
            via: None,
        };
        let res = book.set_routes(SITE, vec![to_openai.clone()]);
        assert_eq!(res, Err(CoreError::OriginNotApproved));
        approve(&mut book, &["anthropic", "gemini"], 0, None).expect("ok");
        book.set_routes(SITE, vec![to_openai.clone()])
            .expect("valid");
        let grant = book.get(SITE).expect("grant");
        assert_eq!(grant.route_from("anthropic"), Some(&to_openai));
        assert_eq!(grant.route_from("gemini"), None);
        let self_route = Route {
            to: "anthropic".into(),
            ..to_openai.clone()
        };
        assert!(book.set_routes(SITE, vec![self_route]).is_err());
        assert_eq!(book.get(SITE).map(|g| g.routes.len()), Some(1));
        book.set_providers(SITE, ids(&["gemini"])).expect("ok");
        assert_eq!(book.get(SITE).map(|g| g.routes.len()), Some(0));
        let stored = r#"{"grants":{"https://app.example":{"origin":"https://app.example",
            "providers":["openai"],"createdAtMs":1,"expiresAtMs":null,"nonce":"n"}}}"#;
        let book: GrantBook = serde_json::from_str(stored).expect("loads");
        assert_eq!(book.get(SITE).map(|g| g.routes.is_empty()), Some(true));
    }

    #[test]
    fn merged_routes_replace_the_same_from_and_keep_the_rest() {
        let mut book = GrantBook::default();
        let route = |from: &str, to: &str, model: &str| Route {
            from: from.into(),
            to: to.into(),
            models: vec![crate::route::config::ModelRule {
                pattern: "*".into(),
                model: model.into(),
            }],
            via: None,
        };
        approve(&mut book, &["anthropic", "gemini"], 0, None).expect("ok");
        book.set_routes(
            SITE,
            vec![
                route("anthropic", "openai", "a"),
                route("gemini", "openai", "g"),
            ],
        )
        .expect("valid");
        book.merge_routes(SITE, vec![route("anthropic", "mistral", "b")])
            .expect("valid");
        let routes = &book.get(SITE).expect("grant").routes;
        assert_eq!(
            routes,
            &vec![
                route("gemini", "openai", "g"),
                route("anthropic", "mistral", "b")
            ]
        );
        let bad = book.merge_routes(SITE, vec![route("openai", "anthropic", "c")]);
        assert_eq!(bad, Err(CoreError::ProviderNotGranted("openai".into())));
        assert_eq!(
            book.get(SITE).map(|g| g.routes.len()),
            Some(2),
            "a refused merge changed nothing"
        );
    }

    #[test]
    fn authorise_needs_a_live_grant_and_its_session_key() {
        let secret = [9u8; 32];
        let mut book = GrantBook::default();
        let none = book.authorise(&secret, SITE, "openai", None, 0).map(|_| ());
        assert_eq!(none, Err(CoreError::OriginNotApproved));
        let stale = book
            .authorise(&secret, SITE, "openai", Some("kfs_old"), 0)
            .map(|_| ());
        assert_eq!(stale, Err(CoreError::SessionInvalid));
        approve(&mut book, &["openai"], 0, Some(100)).expect("ok");
        let nonce = book.get(SITE).expect("grant").nonce.clone();
        let key = session::derive_session_key(&secret, SITE, &nonce);
        assert!(book
            .authorise(&secret, SITE, "openai", Some(&key), 1)
            .is_ok());
        let wrong = book
            .authorise(&secret, SITE, "openai", Some("kfs_wrong"), 1)
            .map(|_| ());
        assert_eq!(wrong, Err(CoreError::SessionInvalid));
        let missing = book.authorise(&secret, SITE, "openai", None, 1).map(|_| ());
        assert_eq!(missing, Err(CoreError::SessionInvalid));
        let other = book
            .authorise(&secret, SITE, "anthropic", Some(&key), 1)
            .map(|_| ());
        assert_eq!(
            other,
            Err(CoreError::ProviderNotGranted("anthropic".into()))
        );
        let expired = book
            .authorise(&secret, SITE, "openai", Some(&key), 100)
            .map(|_| ());
        assert_eq!(expired, Err(CoreError::GrantExpired));
    }
}

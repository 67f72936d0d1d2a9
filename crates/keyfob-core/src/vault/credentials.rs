//! Adding, finding and editing credentials in an unlocked [`Vault`], and the input rules
//! every written value must pass.
//!
//! - A secret is trimmed and must be printable ASCII: it ends up in an HTTP header, where
//!   a newline or a non-Latin-1 character would break or smuggle the request.
//! - A base URL must be `https` (or `http` to a loopback host), carry no user info, query
//!   or fragment, and is stored normalised without a trailing slash.
//! - Error messages name the rule, never the value.

use url::{Host, Url};

use super::contents::{Credential, CredentialInfo, NewCredential};
use super::Vault;
use crate::random::{make_bytes, RandomSource};
use crate::secret::{ExposeSecret, SecretString};
use crate::CoreError;

const MAX_CREDENTIALS: usize = 1000;
const MAX_LABEL_CHARS: usize = 100;
const MAX_PROVIDER_CHARS: usize = 64;
const MAX_SECRET_BYTES: usize = 8 * 1024;
const MAX_URL_BYTES: usize = 2048;

impl Vault {
    /// Every credential, without secrets, in the order they were added.
    pub fn credentials(&self) -> Vec<CredentialInfo> {
        self.contents
            .credentials
            .iter()
            .map(Credential::info)
            .collect()
    }

    /// One credential by id.
    pub fn credential(&self, id: &str) -> Result<&Credential, CoreError> {
        self.contents
            .credentials
            .iter()
            .find(|c| c.id == id)
            .ok_or(CoreError::CredentialNotFound)
    }

    /// The most recently updated credential for `provider` (ties: the one added last).
    pub fn credential_for_provider(&self, provider: &str) -> Option<&Credential> {
        self.contents
            .credentials
            .iter()
            .filter(|c| c.provider == provider)
            .max_by_key(|c| c.updated_at_ms)
    }

    /// Adds a credential under a fresh random id (`cred_` + 16 hex digits) and returns it.
    pub fn add_credential(
        &mut self,
        new: NewCredential,
        now_ms: u64,
        rng: &mut dyn RandomSource,
    ) -> Result<String, CoreError> {
        if self.contents.credentials.len() >= MAX_CREDENTIALS {
            return Err(CoreError::InvalidInput("too many credentials".into()));
        }
        let provider = valid_provider(new.provider)?;
        let label = valid_label(label_or_provider(new.label, &provider))?;
        let secret = valid_secret(new.secret)?;
        let base_url = valid_base_url(new.base_url)?;
        let id = loop {
            let id = make_credential_id(rng)?;
            if self.credential(&id).is_err() {
                break id;
            }
        };
        self.contents.credentials.push(Credential {
            id: id.clone(),
            provider,
            label,
            secret,
            base_url,
            created_at_ms: now_ms,
            updated_at_ms: now_ms,
            last_used_ms: None,
        });
        Ok(id)
    }

    /// Renames a credential.
    pub fn rename_credential(
        &mut self,
        id: &str,
        label: String,
        now_ms: u64,
    ) -> Result<(), CoreError> {
        let label = valid_label(label)?;
        let c = self.credential_mut(id)?;
        c.label = label;
        c.updated_at_ms = now_ms;
        Ok(())
    }

    /// Replaces the stored key (e.g. after rotating it at the provider).
    pub fn replace_secret(
        &mut self,
        id: &str,
        secret: SecretString,
        now_ms: u64,
    ) -> Result<(), CoreError> {
        let secret = valid_secret(secret)?;
        let c = self.credential_mut(id)?;
        c.secret = secret;
        c.updated_at_ms = now_ms;
        Ok(())
    }

    /// Sets or clears the base URL. An empty string clears it.
    pub fn set_base_url(
        &mut self,
        id: &str,
        base_url: Option<String>,
        now_ms: u64,
    ) -> Result<(), CoreError> {
        let base_url = valid_base_url(base_url)?;
        let c = self.credential_mut(id)?;
        c.base_url = base_url;
        c.updated_at_ms = now_ms;
        Ok(())
    }

    /// Deletes a credential (its secret is zeroized as it drops).
    pub fn remove_credential(&mut self, id: &str) -> Result<(), CoreError> {
        let before = self.contents.credentials.len();
        self.contents.credentials.retain(|c| c.id != id);
        if self.contents.credentials.len() == before {
            return Err(CoreError::CredentialNotFound);
        }
        Ok(())
    }

    /// Records a use. An unknown id is ignored (the credential may have just been removed).
    pub fn mark_used(&mut self, id: &str, now_ms: u64) {
        if let Ok(c) = self.credential_mut(id) {
            c.last_used_ms = Some(now_ms);
        }
    }

    fn credential_mut(&mut self, id: &str) -> Result<&mut Credential, CoreError> {
        self.contents
            .credentials
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or(CoreError::CredentialNotFound)
    }
}

/// A fresh credential id: `cred_` + 16 lowercase hex digits (64 random bits).
pub(super) fn make_credential_id(rng: &mut dyn RandomSource) -> Result<String, CoreError> {
    let bytes = make_bytes::<8>(rng)?;
    let mut id = String::with_capacity(21);
    id.push_str("cred_");
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    Ok(id)
}

fn invalid(why: &str) -> CoreError {
    CoreError::InvalidInput(why.to_string())
}

fn label_or_provider(label: String, provider: &str) -> String {
    if label.trim().is_empty() {
        provider.to_string()
    } else {
        label
    }
}

fn valid_provider(provider: String) -> Result<String, CoreError> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
    if provider.is_empty() || provider.len() > MAX_PROVIDER_CHARS || !provider.chars().all(ok_char)
    {
        return Err(invalid(
            "the provider id must be lowercase letters, digits, '-' or '_'",
        ));
    }
    Ok(provider)
}

fn valid_label(label: String) -> Result<String, CoreError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(invalid("the label must not be empty"));
    }
    if label.chars().count() > MAX_LABEL_CHARS || label.chars().any(char::is_control) {
        return Err(invalid(
            "the label must be at most 100 printable characters",
        ));
    }
    Ok(label.to_string())
}

fn valid_secret(secret: SecretString) -> Result<SecretString, CoreError> {
    // EXPOSE: checked for length and character set only; nothing of it is reported.
    let raw = secret.expose_secret();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(invalid("the key must not be empty"));
    }
    if trimmed.len() > MAX_SECRET_BYTES {
        return Err(invalid("the key is too long"));
    }
    if !trimmed.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(invalid("the key must be printable ASCII text"));
    }
    if trimmed.len() == raw.len() {
        Ok(secret)
    } else {
        Ok(SecretString::from(trimmed))
    }
}

fn valid_base_url(base_url: Option<String>) -> Result<Option<String>, CoreError> {
    let Some(raw) = base_url else { return Ok(None) };
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    if raw.len() > MAX_URL_BYTES {
        return Err(invalid("the base URL is too long"));
    }
    if let Some((_, rest)) = raw.split_once("://") {
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if authority.contains(['%', '@']) {
            return Err(invalid("the base URL host may not contain '%' or '@'"));
        }
    }
    let url = Url::parse(raw).map_err(|_| invalid("the base URL is not a valid absolute URL"))?;
    let loopback = match url.host() {
        Some(Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Err(invalid("the base URL needs a host")),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => {
            return Err(invalid(
                "the base URL must use https (http only for localhost)",
            ))
        }
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the base URL must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("the base URL must not contain a query or fragment"));
    }
    Ok(Some(url.as_str().trim_end_matches('/').to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::TestRandom;
    use crate::secret::secret_string;

    fn new(provider: &str, label: &str, secret: &str, base_url: Option<&str>) -> NewCredential {
        NewCredential {
            provider: provider.into(),
            label: label.into(),
            secret: secret_string(secret.into()),
            base_url: base_url.map(Into::into),
        }
    }

    #[test]
    fn add_find_edit_remove() {
        let mut v = Vault::empty();
        let mut rng = TestRandom(5);
        let a = v.add_credential(
            new("openai", " Work ", " sk-one-0000000000 \n", None),
            10,
            &mut rng,
        );
        let a = a.expect("add a");
        let b = v
            .add_credential(new("openai", "", "sk-two-1111111111", None), 20, &mut rng)
            .expect("b");
        assert!(a.starts_with("cred_") && a.len() == 21 && a != b, "{a} {b}");
        assert_eq!(v.credential(&a).expect("a").label(), "Work");
        assert_eq!(v.credential(&b).expect("b").label(), "openai");
        // EXPOSE: test asserts trimming of the stored value.
        assert_eq!(
            v.credential(&a).expect("a").secret().expose_secret(),
            "sk-one-0000000000"
        );
        assert_eq!(v.credential_for_provider("openai").expect("one").id(), b);

        v.rename_credential(&a, "Personal".into(), 30)
            .expect("rename");
        assert_eq!(v.credential_for_provider("openai").expect("one").id(), a);
        v.replace_secret(&b, secret_string("sk-new-2222222222".into()), 40)
            .expect("replace");
        assert_eq!(v.credential_for_provider("openai").expect("one").id(), b);
        v.mark_used(&a, 50);
        v.mark_used("cred_missing", 50);
        assert_eq!(v.credential(&a).expect("a").last_used_ms(), Some(50));
        assert_eq!(v.credential(&a).expect("a").updated_at_ms(), 30);

        v.remove_credential(&a).expect("remove");
        assert_eq!(v.remove_credential(&a), Err(CoreError::CredentialNotFound));
        assert_eq!(v.credentials().len(), 1);
        assert!(v.credential_for_provider("anthropic").is_none());
        assert_eq!(
            v.rename_credential(&a, "x".into(), 1),
            Err(CoreError::CredentialNotFound)
        );
    }

    #[test]
    fn rejects_bad_input_without_echoing_it() {
        let mut v = Vault::empty();
        let mut rng = TestRandom(9);
        let cases = [
            new("OpenAI", "l", "sk-aaaaaaaaaaaa", None),
            new("", "l", "sk-aaaaaaaaaaaa", None),
            new("openai", "l", "   ", None),
            new("openai", "l", "sk-bad\nINJECTED: header", None),
            new("openai", "l", "sk-ünicode-aaaaa", None),
            new("openai", "l\u{7}", "sk-aaaaaaaaaaaa", None),
            new(
                "openai",
                "l",
                "sk-aaaaaaaaaaaa",
                Some("http://evil.example"),
            ),
            new(
                "openai",
                "l",
                "sk-aaaaaaaaaaaa",
                Some("https://u:p@host.example"),
            ),
            new(
                "openai",
                "l",
                "sk-aaaaaaaaaaaa",
                Some("https://host.example/?k=1"),
            ),
            new("openai", "l", "sk-aaaaaaaaaaaa", Some("not a url")),
            new("openai", "l", "sk-aaaaaaaaaaaa", Some("file:///etc/passwd")),
        ];
        for c in cases {
            match v.add_credential(c, 1, &mut rng) {
                Err(CoreError::InvalidInput(msg)) => {
                    assert!(!msg.contains("INJECTED") && !msg.contains("evil"), "{msg}")
                }
                other => panic!("expected InvalidInput, got {other:?}"),
            }
        }
        assert!(v.credentials().is_empty(), "nothing was added");
    }

    #[test]
    fn base_urls_are_normalised() {
        let ok = |s: &str| valid_base_url(Some(s.into())).expect(s);
        assert_eq!(
            ok("https://Res.OpenAI.Azure.com/"),
            Some("https://res.openai.azure.com".into())
        );
        assert_eq!(
            ok("https://host.example/v1/"),
            Some("https://host.example/v1".into())
        );
        assert_eq!(
            ok("http://127.0.0.1:11434/v1"),
            Some("http://127.0.0.1:11434/v1".into())
        );
        assert_eq!(
            ok("http://localhost:8080"),
            Some("http://localhost:8080".into())
        );
        assert_eq!(ok("http://[::1]:8080/"), Some("http://[::1]:8080".into()));
        assert_eq!(ok("  "), None);
        assert_eq!(valid_base_url(None).expect("none"), None);
    }

    #[test]
    fn set_base_url_updates_and_clears() {
        let mut v = Vault::empty();
        let mut rng = TestRandom(11);
        let id = v
            .add_credential(new("azure", "a", "k-aaaaaaaaaaaaaaa", None), 1, &mut rng)
            .expect("add");
        v.set_base_url(&id, Some("https://x.example/".into()), 2)
            .expect("set");
        assert_eq!(
            v.credential(&id).expect("c").base_url(),
            Some("https://x.example")
        );
        v.set_base_url(&id, None, 3).expect("clear");
        assert_eq!(v.credential(&id).expect("c").base_url(), None);
        assert_eq!(v.credential(&id).expect("c").updated_at_ms(), 3);
    }
}

//! Who is asking. The caller always comes from the transport, never from a message: a
//! page's origin is its port's sender, as the browser reports it.
//!
//! Every rule of the wallet takes a [`Caller`], so a new kind of caller (a local client
//! the bridge authenticated by its token, a backend relayed through a page) is one more
//! variant with its own grant key and audit label, not a second path through the rules.

use crate::grants::validate_origin;
use crate::CoreError;

/// A caller the wallet serves.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Caller {
    /// A web page, by its normalised origin.
    Site { origin: String },
    /// A local client whose token the wallet verified ([`crate::clients`]).
    Client(ClientCaller),
}

/// A local client, as only [`super::Wallet::client_caller`] makes one: holding a value
/// of this type means the client's token was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCaller {
    /// `client:<name>`.
    key: String,
}

impl ClientCaller {
    pub(crate) fn verified(key: String) -> Self {
        Self { key }
    }

    /// The name the user approved.
    pub fn name(&self) -> &str {
        crate::clients::client_name_of(&self.key).unwrap_or_default()
    }
}

impl Caller {
    /// A page, from what the browser says about its port's sender: `sender.origin`, else
    /// the origin of `sender.url`. Opaque origins and anything but http(s) are refused.
    pub fn from_sender(origin: Option<&str>, url: Option<&str>) -> Result<Caller, CoreError> {
        let derived = match (origin, url) {
            (Some(origin), _) => origin.to_string(),
            (None, Some(url)) => url::Url::parse(url)
                .map(|u| u.origin().ascii_serialization())
                .map_err(|_| CoreError::OriginNotApproved)?,
            (None, None) => return Err(CoreError::OriginNotApproved),
        };
        Ok(Caller::Site {
            origin: validate_origin(&derived)?,
        })
    }

    /// The key of this caller's grant.
    pub fn grant_key(&self) -> &str {
        match self {
            Caller::Site { origin } => origin,
            Caller::Client(client) => &client.key,
        }
    }

    /// Whether the caller is a local client (authenticated by its token, not a session key).
    pub fn is_client(&self) -> bool {
        matches!(self, Caller::Client(_))
    }

    /// How the caller is named in the audit log and the approval window.
    pub fn label(&self) -> &str {
        self.grant_key()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_origin_wins_and_urls_are_reduced_to_their_origin() {
        let site = |o: &str| Caller::Site { origin: o.into() };
        assert_eq!(
            Caller::from_sender(Some("https://app.example"), Some("https://evil.example/x")),
            Ok(site("https://app.example"))
        );
        assert_eq!(
            Caller::from_sender(None, Some("https://app.example:8443/page?q#f")),
            Ok(site("https://app.example:8443"))
        );
    }

    #[test]
    fn opaque_and_foreign_origins_are_refused() {
        for (origin, url) in [
            (Some("null"), None),
            (None, Some("data:text/html,hi")),
            (None, Some("about:blank")),
            (None, Some("file:///etc/passwd")),
            (Some("chrome-extension://abc"), None),
            (None, None),
            (None, Some("not a url")),
        ] {
            assert!(
                Caller::from_sender(origin, url).is_err(),
                "{origin:?} {url:?}"
            );
        }
    }
}

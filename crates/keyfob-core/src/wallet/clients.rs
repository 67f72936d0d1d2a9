//! Local clients through the bridge: login, who is asking, status, logout.
//!
//! A client logs in with a name and the providers it wants; the user decides in the same
//! approval window a site gets, with the same providers, expiry and limits. The token is
//! minted before the window opens and handed to the glue, which gives it to the waiting
//! client only if the user approves; the wallet keeps its verifier alone (in the pending
//! approval, then in the grant). From then on a request whose token matches is a
//! [`Caller::Client`], and every rule of the request path runs for it as for a page.

use serde::{Deserialize, Serialize};

use super::caller::{Caller, ClientCaller};
use super::connect::{ConnectStep, RequestedProvider, MAX_REQUESTED_PROVIDERS};
use super::{Wallet, WalletState};
use crate::clients::{client_key, make_client_token, validate_client_name, ClientInfo};
use crate::grants::Grant;
use crate::metering::LocalClock;
use crate::providers;
use crate::route::config::Route;
use crate::secret::SecretString;
use crate::session::session_key_from_headers;
use crate::CoreError;

/// A login waiting for the user: its approval, and the token to give on approve.
#[derive(Debug)]
pub struct Login {
    pub approval: String,
    /// Opens the approval window unless it is already open.
    pub open_window: bool,
    pub token: SecretString,
}

/// A client as the CLI and the popup see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientView {
    pub name: String,
    pub providers: Vec<String>,
    pub created_at_ms: u64,
    pub expires_at_ms: Option<u64>,
    pub expired: bool,
    pub routes: Vec<Route>,
}

/// What `keyfob status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BridgeStatus {
    pub wallet: WalletState,
    /// The presenting client's grant, when its token is good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientView>,
}

/// A bridge command's arguments (`docs/bridge.md`): a login's name and providers.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BridgeArgs {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub providers: Vec<String>,
}

/// What the glue does for a bridge command.
#[derive(Debug)]
pub enum BridgeStep {
    /// Wait until the grants are stored if `stored_grants`, then answer `json`.
    Answer {
        json: serde_json::Value,
        stored_grants: bool,
    },
    /// Ask the user (open the approval window unless open, wait), then call
    /// [`Wallet::client_login_decided`] with `name`; give the token only on approve.
    Login { login: Login, name: String },
}

fn to_json(value: &impl Serialize) -> Result<serde_json::Value, CoreError> {
    serde_json::to_value(value).map_err(|e| CoreError::Internal(e.to_string()))
}

impl ClientView {
    fn of(grant: &Grant, now: u64) -> Option<Self> {
        Some(Self {
            name: grant.client.as_ref()?.name.clone(),
            providers: grant.providers.clone(),
            created_at_ms: grant.created_at_ms,
            expires_at_ms: grant.expires_at_ms,
            expired: !grant.is_live(now),
            routes: grant.routes.clone(),
        })
    }
}

impl Wallet {
    /// The client whose token a request or command carries (in its usual auth header).
    /// Errors: `ClientTokenInvalid` for no token, a wrong one or a revoked client.
    pub fn client_caller(&self, headers: &[(String, String)]) -> Result<Caller, CoreError> {
        let token = session_key_from_headers(headers).ok_or(CoreError::ClientTokenInvalid)?;
        self.client_by_token(token)
    }

    /// The client whose token is `token`.
    pub fn client_by_token(&self, token: &str) -> Result<Caller, CoreError> {
        let grant = self
            .grants
            .client_by_token(token)
            .ok_or(CoreError::ClientTokenInvalid)?;
        Ok(Caller::Client(ClientCaller::verified(grant.origin.clone())))
    }

    /// A client asks to log in as `name` for `wanted` providers: the user is asked.
    /// Each provider is optional, so the user may approve some of them.
    pub fn client_login(
        &mut self,
        name: &str,
        wanted: &[String],
        clock: &LocalClock,
    ) -> Result<Login, CoreError> {
        self.tick(clock);
        let key = client_key(validate_client_name(name)?)?;
        if wanted.is_empty() || wanted.len() > MAX_REQUESTED_PROVIDERS {
            return Err(CoreError::BadRequest(format!(
                "ask for between 1 and {MAX_REQUESTED_PROVIDERS} providers"
            )));
        }
        let mut requested: Vec<RequestedProvider> = Vec::new();
        for id in wanted {
            let id = providers::find(id)?.id.to_string();
            if !requested.iter().any(|r| r.id == id) {
                requested.push(RequestedProvider {
                    id,
                    required: false,
                });
            }
        }
        let (token, token_verifier) = make_client_token(&mut *self.rng)?;
        let client = ClientInfo {
            name: name.to_string(),
            token_verifier,
        };
        match self.open_approval(&key, &requested, Some(client), false, clock)? {
            ConnectStep::Ask {
                approval,
                open_window,
            } => Ok(Login {
                approval,
                open_window,
                token,
            }),
            ConnectStep::Connected(_) => Err(CoreError::Internal("a login never connects".into())),
        }
    }

    /// After the user decided a login: the client's grant, or `UserRejected`.
    pub fn client_login_decided(
        &mut self,
        name: &str,
        approved: bool,
        clock: &LocalClock,
    ) -> Result<ClientView, CoreError> {
        self.tick(clock);
        let key = client_key(name)?;
        let grant = self
            .grants
            .get(&key)
            .filter(|g| approved && g.is_live(clock.now_ms))
            .ok_or(CoreError::UserRejected)?;
        ClientView::of(grant, clock.now_ms).ok_or(CoreError::UserRejected)
    }

    /// A command from the bridge (`login`, `status`, `clients`, `logout`): who may run it
    /// and what it answers, decided here; the glue only waits and stores.
    pub fn bridge_command(
        &mut self,
        cmd: &str,
        token: Option<&str>,
        args: &BridgeArgs,
        clock: &LocalClock,
    ) -> Result<BridgeStep, CoreError> {
        let token = token.filter(|t| !t.is_empty());
        let now = clock.now_ms;
        let answer = |json, stored_grants| BridgeStep::Answer {
            json,
            stored_grants,
        };
        Ok(match cmd {
            "login" => BridgeStep::Login {
                login: self.client_login(&args.name, &args.providers, clock)?,
                name: args.name.clone(),
            },
            "status" => answer(to_json(&self.bridge_status(token, now))?, false),
            "clients" => {
                let caller = self.client_by_token(token.unwrap_or_default())?;
                let clients = self.clients(&caller, now)?;
                answer(serde_json::json!({ "clients": to_json(&clients)? }), false)
            }
            "logout" => {
                let caller = self.client_by_token(token.unwrap_or_default())?;
                let revoked = self.disconnect(&caller, now).is_some();
                answer(serde_json::json!({ "revoked": revoked }), revoked)
            }
            other => {
                return Err(CoreError::BadRequest(format!(
                    "unknown bridge command {:?}",
                    other.chars().take(40).collect::<String>()
                )))
            }
        })
    }

    /// The wallet's state and, for a good token, the client's grant.
    pub fn bridge_status(&self, token: Option<&str>, now: u64) -> BridgeStatus {
        let client = token
            .and_then(|t| self.grants.client_by_token(t))
            .and_then(|g| ClientView::of(g, now));
        BridgeStatus {
            wallet: self.state(),
            client,
        }
    }

    /// Whether the bridge should run: a local client has a live grant.
    pub fn wants_bridge(&self, now: u64) -> bool {
        self.grants
            .list()
            .into_iter()
            .any(|g| g.client.is_some() && g.is_live(now))
    }

    /// Every local client the user approved (for a client holding a good token).
    pub fn clients(&self, caller: &Caller, now: u64) -> Result<Vec<ClientView>, CoreError> {
        if !caller.is_client() {
            return Err(CoreError::ClientTokenInvalid);
        }
        Ok(self
            .grants
            .list()
            .into_iter()
            .filter_map(|g| ClientView::of(g, now))
            .collect())
    }
}

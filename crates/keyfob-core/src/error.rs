//! Every failure the core can report. Each variant has a stable `code()` (what JS and
//! pages branch on) and an HTTP status for errors that reach a page as a `Response`.
//! Messages never carry a secret, a password or vault contents.

/// An error from keyfob-core.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreError {
    // --- vault ---
    #[error("no wallet has been created yet")]
    VaultMissing,
    #[error("a wallet already exists; it is never overwritten")]
    VaultExists,
    #[error("wrong password")]
    WrongPassword,
    #[error("the wallet data is corrupted and cannot be opened")]
    VaultCorrupted,
    #[error("this wallet was written by a newer version of Keyfob")]
    VaultVersionUnsupported,
    #[error("the wallet is locked")]
    WalletLocked,
    #[error("too many failed unlock attempts; try again in {} s", retry_after_ms.div_ceil(1000))]
    UnlockBackoff { retry_after_ms: u64 },
    #[error("password too weak: {0}")]
    WeakPassword(&'static str),
    #[error("that file is not a Keyfob backup, or it is damaged")]
    BackupInvalid,
    #[error("credential not found")]
    CredentialNotFound,
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("the system random source failed")]
    RandomUnavailable,

    // --- request path ---
    #[error("session key is missing, expired or belongs to another site")]
    SessionInvalid,
    #[error("this site has not been approved in Keyfob")]
    OriginNotApproved,
    #[error("the client token is missing, wrong or revoked; run `keyfob login`")]
    ClientTokenInvalid,
    #[error("this site may not use provider {0}")]
    ProviderNotGranted(String),
    #[error("unknown provider {0}")]
    UnknownProvider(String),
    #[error("request not allowed: {0}")]
    UrlNotAllowed(String),
    #[error("no key stored for provider {0}")]
    ProviderKeyMissing(String),
    #[error("the user rejected the request")]
    UserRejected,
    #[error("an approval for this site is already waiting")]
    ApprovalPending,
    #[error("the user rejected this site's last approval; try again in {} s", retry_after_ms.div_ceil(1000))]
    ApprovalBackoff { retry_after_ms: u64 },
    #[error("this approval is no longer waiting")]
    ApprovalGone,
    #[error("invalid request: {0}")]
    BadRequest(String),
    #[error("could not reach the provider: {0}")]
    UpstreamUnreachable(String),
    #[error("the provider did not answer in time")]
    UpstreamTimeout,
    #[error("the Keyfob service worker restarted during the request")]
    WorkerRestarted,
    #[error("{0} is not available in this version of Keyfob")]
    Unavailable(String),
    #[error("budget exceeded: {0}")]
    BudgetExceeded(String),
    #[error("this site may not use model {0}")]
    ModelNotAllowed(String),
    #[error("this site's access has expired; approve it again in Keyfob")]
    GrantExpired,
    #[error("this site may not use {0}; allow it for this site in Keyfob")]
    AgentScopeMissing(String),
    #[error("invalid x-keyfob-reason or x-keyfob-context header: {0}")]
    InvalidContext(String),
    #[error("{0}")]
    StorageFailed(String),
    /// A routed request uses something the serving provider cannot express faithfully.
    #[error("this request cannot be routed to the chosen provider: {0}")]
    RouteUnsupported(String),
    /// A browser API the glue called failed underneath the wallet (its message as given).
    #[error("browser API failed: {0}")]
    BrowserApi(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl CoreError {
    /// The stable code pages and scripts branch on (never on the message).
    pub fn code(&self) -> &'static str {
        match self {
            Self::VaultMissing => "VAULT_MISSING",
            Self::VaultExists => "VAULT_EXISTS",
            Self::WrongPassword => "WRONG_PASSWORD",
            Self::VaultCorrupted => "VAULT_CORRUPTED",
            Self::VaultVersionUnsupported => "VAULT_VERSION_UNSUPPORTED",
            Self::WalletLocked => "WALLET_LOCKED",
            Self::UnlockBackoff { .. } => "UNLOCK_BACKOFF",
            Self::WeakPassword(_) => "WEAK_PASSWORD",
            Self::BackupInvalid => "BACKUP_INVALID",
            Self::CredentialNotFound => "CREDENTIAL_NOT_FOUND",
            Self::InvalidInput(_) => "INVALID_INPUT",
            Self::RandomUnavailable => "RANDOM_UNAVAILABLE",
            Self::SessionInvalid => "SESSION_INVALID",
            Self::OriginNotApproved => "ORIGIN_NOT_APPROVED",
            Self::ClientTokenInvalid => "CLIENT_TOKEN_INVALID",
            Self::ProviderNotGranted(_) => "PROVIDER_NOT_GRANTED",
            Self::UnknownProvider(_) => "UNKNOWN_PROVIDER",
            Self::UrlNotAllowed(_) => "URL_NOT_ALLOWED",
            Self::ProviderKeyMissing(_) => "PROVIDER_KEY_MISSING",
            Self::UserRejected => "USER_REJECTED",
            Self::ApprovalPending => "APPROVAL_PENDING",
            Self::ApprovalBackoff { .. } => "APPROVAL_BACKOFF",
            Self::ApprovalGone => "APPROVAL_GONE",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::UpstreamUnreachable(_) => "UPSTREAM_UNREACHABLE",
            Self::UpstreamTimeout => "UPSTREAM_TIMEOUT",
            Self::WorkerRestarted => "WORKER_RESTARTED",
            Self::Unavailable(_) => "UNAVAILABLE",
            Self::BudgetExceeded(_) => "BUDGET_EXCEEDED",
            Self::ModelNotAllowed(_) => "MODEL_NOT_ALLOWED",
            Self::GrantExpired => "GRANT_EXPIRED",
            Self::AgentScopeMissing(_) => "AGENT_SCOPE_MISSING",
            Self::InvalidContext(_) => "INVALID_CONTEXT",
            Self::StorageFailed(_) => "STORAGE_FAILED",
            Self::RouteUnsupported(_) => "ROUTE_UNSUPPORTED",
            Self::BrowserApi(_) => "BROWSER_API",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status a page sees when this error comes back as a `Response`.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::SessionInvalid
            | Self::WrongPassword
            | Self::GrantExpired
            | Self::ClientTokenInvalid => 401,
            Self::ProviderKeyMissing(_) | Self::BudgetExceeded(_) => 402,
            Self::OriginNotApproved
            | Self::ProviderNotGranted(_)
            | Self::UrlNotAllowed(_)
            | Self::UserRejected
            | Self::ModelNotAllowed(_)
            | Self::AgentScopeMissing(_) => 403,
            Self::UnknownProvider(_) | Self::CredentialNotFound | Self::VaultMissing => 404,
            Self::ApprovalPending | Self::VaultExists => 409,
            Self::ApprovalGone => 410,
            Self::WalletLocked => 423,
            Self::UnlockBackoff { .. } | Self::ApprovalBackoff { .. } => 429,
            Self::BadRequest(_)
            | Self::InvalidInput(_)
            | Self::WeakPassword(_)
            | Self::InvalidContext(_)
            | Self::RouteUnsupported(_) => 400,
            Self::BackupInvalid => 422,
            Self::UpstreamUnreachable(_) => 502,
            Self::Unavailable(_) => 501,
            Self::WorkerRestarted | Self::RandomUnavailable => 503,
            Self::UpstreamTimeout => 504,
            Self::StorageFailed(_) => 507,
            Self::VaultCorrupted
            | Self::VaultVersionUnsupported
            | Self::BrowserApi(_)
            | Self::Internal(_) => 500,
        }
    }

    /// The JSON body of a wallet-raised error response:
    /// `{"error":{"code","message","source":"keyfob"}}`.
    pub fn to_json_body(&self) -> String {
        serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string(), "source": "keyfob" }
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_has_code_message_and_source() {
        let body = CoreError::ProviderNotGranted("openai".into()).to_json_body();
        let v: serde_json::Value = serde_json::from_str(&body).expect("valid json");
        assert_eq!(v["error"]["code"], "PROVIDER_NOT_GRANTED");
        assert_eq!(v["error"]["source"], "keyfob");
        assert!(v["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("openai"));
    }

    #[test]
    fn statuses_match_the_documented_contract() {
        assert_eq!(CoreError::SessionInvalid.http_status(), 401);
        assert_eq!(CoreError::OriginNotApproved.http_status(), 403);
        assert_eq!(CoreError::UrlNotAllowed(String::new()).http_status(), 403);
        assert_eq!(
            CoreError::ProviderKeyMissing(String::new()).http_status(),
            402
        );
        assert_eq!(CoreError::WalletLocked.http_status(), 423);
        assert_eq!(
            CoreError::UpstreamUnreachable(String::new()).http_status(),
            502
        );
        assert_eq!(CoreError::UpstreamTimeout.http_status(), 504);
    }

    #[test]
    fn a_browser_failure_has_one_code_everywhere() {
        let error = CoreError::BrowserApi("QuotaExceededError".into());
        assert_eq!(error.code(), "BROWSER_API");
        let body: serde_json::Value =
            serde_json::from_str(&error.to_json_body()).expect("valid json");
        assert_eq!(
            body["error"]["code"], "BROWSER_API",
            "the Response body said otherwise"
        );
        assert!(error.to_string().contains("QuotaExceededError"));
    }
}

//! Cross-provider routing inside one exchange: an app that calls provider X is served
//! by provider Y because the site's grant routes X → Y ([`crate::route::config`]).
//!
//! Request side (driven from [`super::request`]):
//! - only a generation call of one of X's dialects is routed (the page's path, checked
//!   against X's rules first); any other call goes to X as usual if there is a key for
//!   X, else it is refused `ROUTE_UNSUPPORTED` naming the path;
//! - the served key is Y's (`PROVIDER_KEY_MISSING(Y)` without one); the body is
//!   buffered whole (at most [`MAX_ROUTED_BODY`]), decoded in X's dialect, given the
//!   route's model, and encoded in Y's; anything that cannot be said is refused before
//!   anything goes upstream;
//! - **policy follows the served request**: body facts, the model allow-list, surface
//!   gates, the estimate, approval and the budget reservation all read the encoded body
//!   on Y's path at Y's prices, exactly as if the app had called Y;
//! - the upstream request is planned against Y's own rules (URL, allow-list, headers,
//!   key set last); only the common headers go along, never X's own (`anthropic-*`,
//!   `openai-beta`, `x-goog-*`).
//!
//! Response side: [`super::route_reply`] (`Wallet::routed_head`, `routed_body`,
//! `routed_end`, `routed_status`).

use super::request::{ExchangeId, LocalAnswer, RequestHead};
use super::route_reply::Reply;
pub use super::route_reply::RoutedHead;
use super::Wallet;
use crate::metering::audit::{path_of, Routed};
use crate::metering::body_scan::BodyReader;
use crate::providers::url_safety::{check_query, parse_strict};
use crate::providers::{Endpoint, Provider};
use crate::request::{plan, PageRequest, UpstreamPlan, COMMON_HEADERS};
use crate::route::{self, ChatRequest, Dialect, Route};
use crate::CoreError;

/// A routed request body is buffered whole, up to this size.
pub const MAX_ROUTED_BODY: usize = 8 << 20;

/// A routed exchange's state.
pub(super) struct Routing {
    /// The provider the app called.
    pub(super) app: &'static Provider,
    pub(super) app_dialect: Dialect,
    /// The app's endpoint below its API root (with its query), as the decoder reads it.
    pub(super) app_endpoint: String,
    /// The app's path, as audited.
    pub(super) app_path: String,
    pub(super) served: &'static Provider,
    pub(super) served_dialect: Dialect,
    pub(super) route: Route,
    /// The page's headers that may go to the serving provider.
    pub(super) headers: Vec<(String, String)>,
    pub(super) body: Vec<u8>,
    pub(super) too_large: bool,
    /// The app's request as it asked (its model), once decoded.
    pub(super) request: Option<ChatRequest>,
    /// The encoded request, until it is sent.
    pub(super) encoded: Option<Vec<u8>>,
    pub(super) served_path: Option<String>,
    pub(super) reply: Reply,
    /// The status to give the page.
    pub(super) final_status: Option<u16>,
}

/// Where a call under a route goes.
pub(super) enum RouteCall {
    /// To the app's own provider, as if there were no route (it is not a generation
    /// call, and there is a key for that provider).
    Own,
    /// To the serving provider, translated.
    Routed(Box<Routing>, &'static Provider),
    /// Nowhere: the wallet answers it (the model list, when there is no key for the
    /// app's provider; [`route::models`]).
    Answered(LocalAnswer),
}

impl Wallet {
    /// A call from an app to `app` under `route`.
    pub(super) fn route_call(
        &self,
        head: &RequestHead<'_>,
        app: &'static Provider,
        route: &Route,
    ) -> Result<RouteCall, CoreError> {
        let vault = &self.open()?.vault;
        let app_key = vault.credential_for_provider(app.id);
        let page = PageRequest {
            method: head.method,
            url: head.url,
            headers: head.headers,
        };
        // The page's request must pass the called provider's own rules first.
        let method = match (app.endpoint, app_key) {
            (Endpoint::Fixed { .. }, _) => plan(app, None, &page)?.method,
            (_, Some(key)) => plan(app, key.base_url(), &page)?.method,
            (_, None) => {
                let url =
                    parse_strict(head.url, &["https", "http"]).map_err(CoreError::UrlNotAllowed)?;
                check_query(&url).map_err(CoreError::UrlNotAllowed)?;
                // As `fetch` reads it: no method is GET.
                let method = match head.method {
                    "" => "GET".to_string(),
                    m => m.to_ascii_uppercase(),
                };
                app.check_path(&method, url.path())?;
                method
            }
        };
        let url = url::Url::parse(head.url).map_err(|_| bad_url())?;
        let path = url.path().to_string();
        let Some((app_dialect, app_endpoint)) = app.generation_endpoint(&path, url.query()) else {
            let list = app.model_list_dialect(&method, &path);
            return match (app_key, list) {
                (Some(_), _) => Ok(RouteCall::Own),
                (None, Some(dialect)) => Ok(RouteCall::Answered(LocalAnswer {
                    status: 200,
                    content_type: "application/json",
                    body: route::models::model_list_body(dialect, route),
                })),
                (None, None) => Err(CoreError::RouteUnsupported(format!(
                    "{path} (only generation calls are routed, and there is no {} key)",
                    app.name
                ))),
            };
        };
        let served = route.served_by()?;
        if vault.credential_for_provider(served.id).is_none() {
            return Err(CoreError::ProviderKeyMissing(served.id.to_string()));
        }
        if method != "POST" {
            return Err(CoreError::RouteUnsupported(format!("{method} {path}")));
        }
        if !head.has_body {
            return Err(CoreError::RouteUnsupported(format!(
                "a request to {path} without a body"
            )));
        }
        let served_dialect = route
            .via
            .and_then(|via| served.speaks(via))
            .or_else(|| served.speaks(app_dialect))
            .or_else(|| served.speaks.first())
            .map(|s| s.dialect)
            .ok_or_else(|| CoreError::RouteUnsupported(format!("{} serves", served.name)))?;
        let headers = head
            .headers
            .iter()
            .filter(|(name, _)| {
                let name = name.to_ascii_lowercase();
                name != "content-type" && COMMON_HEADERS.contains(&name.as_str())
            })
            .cloned()
            .chain([("content-type".into(), "application/json".into())])
            .collect();
        let routing = Routing {
            app,
            app_dialect,
            app_endpoint,
            app_path: path,
            served,
            served_dialect,
            route: route.clone(),
            headers,
            body: Vec::new(),
            too_large: false,
            request: None,
            encoded: None,
            served_path: None,
            reply: Reply::Waiting,
            final_status: None,
        };
        Ok(RouteCall::Routed(Box::new(routing), served))
    }

    /// For a routed exchange: translates the buffered body, plans the served request
    /// and hands the body reader the encoded body. Returns the encoded size, or `None`
    /// when the exchange is not routed.
    pub(super) fn translate_routed(&mut self, id: ExchangeId) -> Result<Option<u64>, CoreError> {
        let Some(routing) = self
            .exchanges
            .open
            .get(&id)
            .and_then(|ex| ex.routing.as_ref())
        else {
            return Ok(None);
        };
        let served = routing.served;
        let base = self
            .open()?
            .vault
            .credential_for_provider(served.id)
            .ok_or_else(|| CoreError::ProviderKeyMissing(served.id.to_string()))?
            .base_url()
            .map(str::to_string);
        let Some(ex) = self.exchanges.open.get_mut(&id) else {
            return Ok(None);
        };
        let Some(routing) = ex.routing.as_mut() else {
            return Ok(None);
        };
        let (planned, encoded) = routing.translate(base.as_deref())?;
        let size = encoded.len() as u64;
        let mut reader = BodyReader::new(Some("application/json"));
        reader.feed(&encoded);
        let path = path_of(&planned.url);
        routing.served_path = Some(path.clone());
        routing.encoded = Some(encoded);
        ex.set_served(planned, path, reader);
        Ok(Some(size))
    }
}

fn bad_url() -> CoreError {
    CoreError::UrlNotAllowed("the URL does not parse".into())
}

impl Routing {
    pub(super) fn wants_body(&self) -> bool {
        !self.too_large
    }

    /// The next piece of the page's body (kept whole, up to the bound).
    pub(super) fn body(&mut self, chunk: &[u8]) {
        if self.too_large {
            return;
        }
        if self.body.len() + chunk.len() > MAX_ROUTED_BODY {
            self.too_large = true;
            self.body = Vec::new();
        } else {
            self.body.extend_from_slice(chunk);
        }
    }

    /// The app's request, read in its dialect, given the route's model and written in
    /// the serving provider's; and the served request planned against its rules.
    fn translate(&mut self, base_url: Option<&str>) -> Result<(UpstreamPlan, Vec<u8>), CoreError> {
        if self.too_large {
            return Err(CoreError::RouteUnsupported("a body over 8 MiB".into()));
        }
        let body = std::mem::take(&mut self.body);
        let asked = route::decode_request(self.app_dialect, &self.app_endpoint, &body)?;
        drop(body);
        self.request = Some(asked.clone());
        let mut served = asked;
        served.model = self.route.served_model(&served.model);
        let encoded = route::encode_request(self.served_dialect, &served)?;
        let speaks = self
            .served
            .speaks(self.served_dialect)
            .ok_or_else(|| CoreError::Internal("a served dialect without a root".into()))?;
        // Planned like a page request to the serving provider: its origin (or the
        // credential's base URL), its allow-list, its headers, its key last.
        let origin = match self.served.endpoint {
            Endpoint::Fixed { origin } => origin,
            Endpoint::CredentialBaseUrl { .. } => "https://keyfob.invalid",
        };
        let url = format!("{origin}{}{}", speaks.root, encoded.endpoint);
        let page = PageRequest {
            method: "POST",
            url: &url,
            headers: &self.headers,
        };
        let planned = plan(self.served, base_url, &page)?;
        Ok((planned, encoded.body))
    }

    /// What the app asked for (its provider, and its model once the body was read).
    pub(super) fn requested(&self) -> super::request::Requested {
        super::request::Requested {
            provider: self.app.id.to_string(),
            model: self.request.as_ref().map(|r| r.model.clone()),
        }
    }

    /// What the audit record says: the app's provider, model and path, and where the
    /// request was served.
    pub(super) fn audited(
        &self,
        served: &Provider,
        served_model: Option<String>,
    ) -> (String, Option<String>, String, Option<Routed>) {
        let routed = Routed {
            provider: served.id.to_string(),
            model: served_model,
            path: self.served_path.clone().unwrap_or_default(),
        };
        (
            self.app.id.to_string(),
            self.request.as_ref().map(|r| r.model.clone()),
            self.app_path.clone(),
            Some(routed),
        )
    }
}

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
//! Response side ([`Wallet::routed_head`], [`Wallet::routed_body`],
//! [`Wallet::routed_end`]): the meter still reads Y's raw bytes
//! ([`Wallet::response_body`]); the page gets the translation: a stream as it arrives,
//! a whole answer (at most [`MAX_ROUTED_ANSWER`]) at the end, an error status's body as
//! X's error body. The app is told the model it asked for. Nothing of Y's wire format
//! reaches the page: a translation that fails ends in X's own error body.

use super::request::{ExchangeId, RequestHead};
use super::Wallet;
use crate::metering::audit::{path_of, Routed};
use crate::metering::body_scan::BodyReader;
use crate::providers::url_safety::{check_query, parse_strict};
use crate::providers::{Endpoint, Provider};
use crate::request::{plan, PageRequest, UpstreamPlan, COMMON_HEADERS};
use crate::route::ir::{ErrorKind, ProviderError};
use crate::route::{self, ChatRequest, Dialect, Route, StreamTranslator};
use crate::CoreError;

/// A routed request body is buffered whole, up to this size.
pub const MAX_ROUTED_BODY: usize = 8 << 20;
/// A routed whole answer (or error body) is buffered, up to this size.
pub const MAX_ROUTED_ANSWER: usize = 16 << 20;

/// A routed exchange's state.
pub(super) struct Routing {
    /// The provider the app called.
    pub(super) app: &'static Provider,
    app_dialect: Dialect,
    /// The app's endpoint below its API root (with its query), as the decoder reads it.
    app_endpoint: String,
    /// The app's path, as audited.
    pub(super) app_path: String,
    served: &'static Provider,
    served_dialect: Dialect,
    route: Route,
    /// The page's headers that may go to the serving provider.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    too_large: bool,
    /// The app's request as it asked (its model), once decoded.
    request: Option<ChatRequest>,
    /// The encoded request, until it is sent.
    pub(super) encoded: Option<Vec<u8>>,
    served_path: Option<String>,
    reply: Reply,
    /// The status to give the page.
    final_status: Option<u16>,
}

/// What the page is sent in place of the provider's answer.
enum Reply {
    /// No response yet.
    Waiting,
    Stream(Box<StreamTranslator>),
    /// A whole answer, translated at the end.
    Whole {
        body: Vec<u8>,
        too_large: bool,
    },
    /// An error status: its body becomes the app's error body.
    Failed {
        body: Vec<u8>,
        too_large: bool,
    },
    /// The answer does not fit what the app asked for (a stream for a whole answer, or
    /// the other way round): the page gets this error.
    Mismatch(&'static str),
    /// The page has had everything.
    Done,
}

/// The head to give the page for a routed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoutedHead {
    pub content_type: &'static str,
    /// The status to give the page (the provider's, unless the answer cannot be given).
    pub status: u16,
    /// `true`: nothing is sent before [`Wallet::routed_end`] (a whole answer or an
    /// error), so the page's head may wait for it and take [`Wallet::routed_status`].
    pub whole: bool,
}

impl Wallet {
    /// A call from an app to `app` under `route`: `None` when it is not a generation
    /// call and goes to `app` itself (there is a key for it).
    pub(super) fn route_call(
        &self,
        head: &RequestHead<'_>,
        app: &'static Provider,
        route: &Route,
    ) -> Result<Option<(Routing, &'static Provider)>, CoreError> {
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
                let method = head.method.to_ascii_uppercase();
                app.check_path(&method, url.path())?;
                method
            }
        };
        let url = url::Url::parse(head.url).map_err(|_| bad_url())?;
        let path = url.path().to_string();
        let Some((app_dialect, app_endpoint)) = app.generation_endpoint(&path, url.query()) else {
            return match app_key {
                Some(_) => Ok(None),
                None => Err(CoreError::RouteUnsupported(format!(
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
        let served_dialect = served
            .speaks(app_dialect)
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
        Ok(Some((routing, served)))
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

    /// The provider's response head for a routed exchange: what to give the page, or
    /// `None` when the exchange is not routed (the provider's answer goes as it is).
    /// Call after [`Wallet::response_head`].
    pub fn routed_head(
        &mut self,
        id: ExchangeId,
        status: u16,
        content_type: Option<&str>,
    ) -> Option<RoutedHead> {
        self.routing_mut(id).map(|r| r.head(status, content_type))
    }

    /// The bytes to send the page for the next piece of the provider's body (empty
    /// while a whole answer is buffered). Call alongside [`Wallet::response_body`].
    pub fn routed_body(&mut self, id: ExchangeId, chunk: &[u8]) -> Vec<u8> {
        self.routing_mut(id)
            .map(|r| r.reply_body(chunk))
            .unwrap_or_default()
    }

    /// The provider's body ended: the page's last bytes. Call before
    /// [`Wallet::end_request`].
    pub fn routed_end(&mut self, id: ExchangeId) -> Vec<u8> {
        self.routing_mut(id).map(Routing::end).unwrap_or_default()
    }

    /// The status to give the page, final after [`Wallet::routed_end`] (`None` when the
    /// exchange is not routed or no answer arrived).
    pub fn routed_status(&self, id: ExchangeId) -> Option<u16> {
        let ex = self.exchanges.open.get(&id)?;
        let routing = ex.routing.as_ref()?;
        routing.final_status
    }

    fn routing_mut(&mut self, id: ExchangeId) -> Option<&mut Routing> {
        self.exchanges.open.get_mut(&id)?.routing.as_deref_mut()
    }
}

/// Buffers `chunk` into `body` up to [`MAX_ROUTED_ANSWER`]; past it, marks the answer
/// too large (and forgets what was kept if `forget`). Nothing goes to the page yet.
fn keep(body: &mut Vec<u8>, too_large: &mut bool, chunk: &[u8], forget: bool) -> Vec<u8> {
    if *too_large {
        return Vec::new();
    }
    if body.len() + chunk.len() <= MAX_ROUTED_ANSWER {
        body.extend_from_slice(chunk);
    } else {
        *too_large = true;
        if forget {
            *body = Vec::new();
        }
    }
    Vec::new()
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

    fn head(&mut self, status: u16, content_type: Option<&str>) -> RoutedHead {
        let sse = content_type.is_some_and(|c| {
            c.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });
        let streamed = self.request.as_ref().is_some_and(|r| r.stream);
        let json = "application/json";
        let (reply, head) = match (&self.request, status >= 400, sse, streamed) {
            (_, true, _, _) => (
                Reply::Failed {
                    body: Vec::new(),
                    too_large: false,
                },
                (json, status, true),
            ),
            (Some(asked), false, true, true) => {
                let translator =
                    StreamTranslator::new(self.served_dialect, self.app_dialect, asked)
                        .answering_as(asked.model.clone());
                (
                    Reply::Stream(Box::new(translator)),
                    ("text/event-stream", status, false),
                )
            }
            (Some(_), false, false, false) => (
                Reply::Whole {
                    body: Vec::new(),
                    too_large: false,
                },
                (json, status, true),
            ),
            (_, false, true, _) => (
                Reply::Mismatch("the provider streamed an answer the app asked for whole"),
                (json, 502, true),
            ),
            (_, false, false, _) => (
                Reply::Mismatch("the provider answered a streamed request whole"),
                (json, 502, true),
            ),
        };
        self.reply = reply;
        self.final_status = Some(head.1);
        RoutedHead {
            content_type: head.0,
            status: head.1,
            whole: head.2,
        }
    }

    fn reply_body(&mut self, chunk: &[u8]) -> Vec<u8> {
        match &mut self.reply {
            Reply::Stream(translator) => translator.feed(chunk),
            // A whole answer over the bound cannot be translated: it is dropped.
            Reply::Whole { body, too_large } => keep(body, too_large, chunk, true),
            // An error body keeps its start (enough to say what went wrong).
            Reply::Failed { body, too_large } => keep(body, too_large, chunk, false),
            Reply::Waiting | Reply::Mismatch(_) | Reply::Done => Vec::new(),
        }
    }

    fn end(&mut self) -> Vec<u8> {
        match std::mem::replace(&mut self.reply, Reply::Done) {
            Reply::Stream(translator) => translator.finish(),
            Reply::Whole {
                too_large: true, ..
            } => self.fail("the provider's answer is over 16 MiB"),
            Reply::Whole { body, .. } => match self.whole_answer(&body) {
                Ok(bytes) => bytes,
                Err(error) => self.fail(&format!("the provider's answer: {error}")),
            },
            Reply::Failed { body, .. } => {
                let status = self.final_status.unwrap_or(502);
                let error = route::decode_error(self.served_dialect, status, &body);
                route::encode_error(self.app_dialect, &error)
            }
            Reply::Mismatch(why) => self.fail(why),
            Reply::Waiting | Reply::Done => Vec::new(),
        }
    }

    /// The served whole answer in the app's dialect, naming the model the app asked for.
    fn whole_answer(&self, body: &[u8]) -> Result<Vec<u8>, route::RouteError> {
        let mut answer = route::decode_response(self.served_dialect, body)?;
        if let Some(asked) = &self.request {
            answer.model = asked.model.clone();
        }
        route::encode_response(self.app_dialect, &answer)
    }

    /// The app's own error body for a routed answer that cannot be given (status 502).
    fn fail(&mut self, why: &str) -> Vec<u8> {
        self.final_status = Some(502);
        let error = ProviderError {
            status: 502,
            kind: ErrorKind::Server,
            message: format!(
                "Keyfob could not translate {}'s answer: {why}",
                self.served.name
            ),
        };
        route::encode_error(self.app_dialect, &error)
    }
}

//! The answer to a routed exchange, as the page gets it (see [`super::route_step`]):
//! the serving provider's SSE translated as it arrives, a whole answer buffered (at
//! most [`MAX_ROUTED_ANSWER`]) and translated at the end, an error status's body
//! turned into the app dialect's error body. The app is told the model it asked for.
//! The meter still reads the provider's raw bytes ([`Wallet::response_body`]); nothing
//! of the provider's own wire format reaches the page: a translation that fails ends in
//! the app dialect's error body (status 502).

use super::request::ExchangeId;
use super::route_step::Routing;
use super::Wallet;
use crate::route::ir::{ErrorKind, ProviderError};
use crate::route::{self, StreamTranslator};

/// A routed whole answer (or error body) is buffered, up to this size.
pub const MAX_ROUTED_ANSWER: usize = 16 << 20;

/// What the page is sent in place of the provider's answer.
pub(super) enum Reply {
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

impl Routing {
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

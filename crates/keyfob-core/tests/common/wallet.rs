//! A wallet driven the way the service worker drives it, against an in-memory store,
//! with a fake provider answering each request.

use keyfob_core::metering::{AuditRecord, LocalClock};
use keyfob_core::secret::secret_string;
use keyfob_core::wallet::charge::End;
use keyfob_core::wallet::connect::{ConnectStep, Decision, RequestedProvider, Session};
use keyfob_core::wallet::request::{ExchangeId, RequestHead, Step, Upstream, UpstreamBody};
use keyfob_core::wallet::route_step::RoutedHead;
use keyfob_core::wallet::{Caller, MemoryStore, Wallet};
use keyfob_core::CoreError;

use super::{SystemRng, SMALL};

pub const SITE: &str = "https://app.example";
pub const OTHER: &str = "https://other.example";
/// 2026-01-01T00:00Z.
pub const T0: u64 = 20_454 * 86_400_000;
pub const PASSWORD: &str = "correct horse battery staple";
pub const OPENAI_KEY: &str = "sk-proj-real-openai-key-0001";
pub const ANTHROPIC_KEY: &str = "sk-ant-real-anthropic-key-0001";
pub const GEMINI_KEY: &str = "AIza-real-gemini-key-0001";

pub fn site(origin: &str) -> Caller {
    Caller::from_sender(Some(origin), None).expect("valid origin")
}

pub fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A request as a page sends it.
pub struct Call<'a> {
    pub provider: &'a str,
    pub method: &'a str,
    pub url: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: Option<&'a [u8]>,
}

impl<'a> Call<'a> {
    pub fn post(provider: &'a str, url: &'a str, body: &'a [u8]) -> Self {
        Self {
            provider,
            method: "POST",
            url,
            headers: headers(&[("content-type", "application/json")]),
            body: Some(body),
        }
    }

    pub fn get(provider: &'a str, url: &'a str) -> Self {
        Self {
            provider,
            method: "GET",
            url,
            headers: Vec::new(),
            body: None,
        }
    }
}

/// What the fake provider answers.
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: &'a str,
    pub body: &'a [u8],
    pub end: End,
}

impl<'a> Answer<'a> {
    pub fn json(body: &'a [u8]) -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body,
            end: End::Finished,
        }
    }
}

/// What went upstream: method, URL, headers, body.
pub type Sent = (String, String, Vec<(String, String)>, Vec<u8>);

/// How a routed call went: as [`Outcome`], plus what the page was sent in place of the
/// provider's answer (the glue's `routed_*` calls).
pub struct RoutedOutcome {
    pub outcome: Outcome,
    pub head: Option<RoutedHead>,
    /// The status the page gets (after the body ended).
    pub status: Option<u16>,
    pub page: Vec<u8>,
}

/// How a call went.
pub struct Outcome {
    /// What went upstream, if anything (method, url, headers, body bytes).
    pub sent: Option<Sent>,
    pub refused: Option<CoreError>,
    pub record: Option<AuditRecord>,
}

pub struct Harness {
    pub store: MemoryStore,
    pub wallet: Wallet,
    pub now: u64,
    pub session: Option<Session>,
}

impl Harness {
    /// A wallet with nothing stored.
    pub fn empty() -> Self {
        let store = MemoryStore::new();
        let wallet = load(&store, T0);
        Self {
            store,
            wallet,
            now: T0,
            session: None,
        }
    }

    /// A created, unlocked wallet with an OpenAI key and SITE approved for openai.
    pub fn connected() -> Self {
        let mut h = Self::empty();
        let clock = h.clock();
        h.wallet
            .create(&secret_string(PASSWORD.into()), &clock)
            .expect("create");
        h.wallet
            .add_credential(
                "openai",
                "Work".into(),
                secret_string(OPENAI_KEY.into()),
                None,
                h.now,
            )
            .expect("add key");
        h.session = Some(h.approve(SITE, &["openai"]));
        h.persist();
        h
    }

    /// Stores a key for `provider`.
    pub fn add_key(&mut self, provider: &str, key: &str) {
        let now = self.now;
        self.wallet
            .add_credential(
                provider,
                "Work".into(),
                secret_string(key.into()),
                None,
                now,
            )
            .expect("add key");
    }

    /// A whole call whose answer the glue passes through the routing calls as well as
    /// the meter, as the service worker does for a routed exchange.
    pub fn call_routed(&mut self, call: &Call<'_>, answer: &Answer<'_>) -> RoutedOutcome {
        let (id, step) = self.begin(call);
        let clock = self.clock();
        let upstream = match step {
            Step::Send(upstream) => upstream,
            Step::Refuse(error) => {
                return RoutedOutcome {
                    outcome: Outcome {
                        sent: None,
                        refused: Some(error),
                        record: None,
                    },
                    head: None,
                    status: None,
                    page: Vec::new(),
                }
            }
            other => panic!("unexpected step {other:?}"),
        };
        let sent = sent_of(&upstream, call.body);
        drop(upstream);
        let reading = self
            .wallet
            .response_head(id, answer.status, Some(answer.content_type));
        let head = self
            .wallet
            .routed_head(id, answer.status, Some(answer.content_type));
        let mut page = Vec::new();
        for piece in answer.body.chunks(13) {
            if reading {
                self.wallet.response_body(id, piece);
            }
            page.extend(self.wallet.routed_body(id, piece));
        }
        page.extend(self.wallet.routed_end(id));
        let status = self.wallet.routed_status(id);
        let record = self.wallet.end_request(id, answer.end, &clock);
        RoutedOutcome {
            outcome: Outcome {
                sent: Some(sent),
                refused: None,
                record,
            },
            head,
            status,
            page,
        }
    }

    pub fn clock(&self) -> LocalClock {
        LocalClock::utc(self.now)
    }

    pub fn advance(&mut self, ms: u64) {
        self.now += ms;
    }

    /// Writes whatever is due now, then what the glue's timer would write within the
    /// coalescing delay (retries of failed writes wait longer and are left alone).
    pub fn persist(&mut self) {
        let mut rounds = 0;
        loop {
            let next = self.wallet.persist(&mut self.store, self.now).next_in_ms;
            match next {
                Some(wait) if wait <= keyfob_core::wallet::persist::COALESCE_MS => {
                    rounds += 1;
                    assert!(rounds < 20, "persistence never settles");
                    self.now += wait;
                }
                _ => return,
            }
        }
    }

    /// The worker stops and a new one loads what was stored.
    pub fn restart_worker(&mut self) {
        self.persist();
        self.wallet = load(&self.store, self.now);
    }

    /// Connects `origin` and approves `providers` in the window.
    pub fn approve(&mut self, origin: &str, providers: &[&str]) -> Session {
        let caller = site(origin);
        let requested = requested(providers);
        let clock = self.clock();
        match self
            .wallet
            .connect(&caller, &requested, false, &clock)
            .expect("connect")
        {
            ConnectStep::Connected(session) => session,
            ConnectStep::Ask { approval, .. } => {
                let decision = Decision {
                    approve: true,
                    providers: providers.iter().map(|p| p.to_string()).collect(),
                    expires_in_ms: None,
                    routes: Vec::new(),
                };
                let decided = self
                    .wallet
                    .decide_approval(&approval, &decision, &clock)
                    .expect("decide");
                assert!(decided.approved);
                self.wallet
                    .connect_decided(&caller, &requested, true, &clock)
                    .expect("session")
            }
        }
    }

    pub fn session_key(&self) -> String {
        self.session
            .as_ref()
            .map(|s| s.session_key.clone())
            .unwrap_or_default()
    }

    /// Runs a call from SITE with its session key up to the point it would be sent.
    pub fn begin(&mut self, call: &Call<'_>) -> (ExchangeId, Step) {
        let key = self.session_key();
        self.begin_as(&site(SITE), Some(&key), call)
    }

    /// Runs a call from `caller` up to the point it would be sent.
    pub fn begin_as(
        &mut self,
        caller: &Caller,
        session_key: Option<&str>,
        call: &Call<'_>,
    ) -> (ExchangeId, Step) {
        let head = RequestHead {
            provider: call.provider,
            method: call.method,
            url: call.url,
            headers: &call.headers,
            session_key,
            has_body: call.body.is_some(),
        };
        let clock = self.clock();
        let (id, step) = self.wallet.begin_request(caller, &head, &clock);
        let step = match (step, call.body) {
            (Step::ReadBody, Some(body)) => {
                // Fed in uneven pieces, as the port delivers them.
                for piece in body.chunks(7_777) {
                    if !self.wallet.wants_body(id) {
                        break;
                    }
                    self.wallet.request_body(id, piece);
                }
                self.wallet.request_body_end(id, body.len() as u64, &clock)
            }
            (step, _) => step,
        };
        (id, step)
    }

    /// A whole call: sent (if allowed) and answered with `answer`.
    pub fn call(&mut self, call: &Call<'_>, answer: &Answer<'_>) -> Outcome {
        let (id, step) = self.begin(call);
        self.finish(id, step, call, answer)
    }

    pub fn finish(
        &mut self,
        id: ExchangeId,
        step: Step,
        call: &Call<'_>,
        answer: &Answer<'_>,
    ) -> Outcome {
        let clock = self.clock();
        match step {
            Step::Refuse(error) => Outcome {
                sent: None,
                refused: Some(error),
                record: None,
            },
            Step::Send(upstream) => {
                let sent = sent_of(&upstream, call.body);
                drop(upstream);
                if self
                    .wallet
                    .response_head(id, answer.status, Some(answer.content_type))
                {
                    for piece in answer.body.chunks(13) {
                        self.wallet.response_body(id, piece);
                    }
                }
                let record = self.wallet.end_request(id, answer.end, &clock);
                Outcome {
                    sent: Some(sent),
                    refused: None,
                    record,
                }
            }
            other => panic!("unexpected step {other:?}"),
        }
    }
}

fn sent_of(
    upstream: &Upstream,
    body: Option<&[u8]>,
) -> (String, String, Vec<(String, String)>, Vec<u8>) {
    let bytes = match &upstream.body {
        UpstreamBody::None => Vec::new(),
        UpstreamBody::AsReceived => body.unwrap_or_default().to_vec(),
        UpstreamBody::Replaced(b) => b.clone(),
    };
    (
        upstream.method.to_string(),
        upstream.url.clone(),
        upstream.headers.clone(),
        bytes,
    )
}

pub fn requested(providers: &[&str]) -> Vec<RequestedProvider> {
    providers
        .iter()
        .map(|p| RequestedProvider {
            id: p.to_string(),
            required: true,
        })
        .collect()
}

pub fn load(store: &MemoryStore, now: u64) -> Wallet {
    let mut wallet =
        Wallet::load(store, &LocalClock::utc(now), Box::new(SystemRng::new())).expect("load");
    wallet.set_kdf_params(SMALL);
    wallet
}

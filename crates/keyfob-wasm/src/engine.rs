//! The engine's one [`Wallet`], loaded once per service-worker life, and the loop that
//! stores what it says to store.
//!
//! The worker is single-threaded; the wallet sits in a thread-local `RefCell`, and a
//! borrow is never held across an `.await`: callers run one synchronous step inside
//! [`with`]. After every step the wallet's due writes are queued; a single flusher sends
//! them to `chrome.storage` in order and reports each outcome back to the wallet.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;

use js_sys::Promise;
use keyfob_core::wallet::{Batch, Record, Wallet};
use keyfob_core::CoreError;
use wasm_bindgen::JsValue;

use crate::chrome::{self, now_ms, Deferred};
use crate::chrome_store::{self, Outbox};
use crate::error::{EngineError, EngineResult};
use crate::random::BrowserRandom;

struct Engine {
    wallet: Wallet,
    outbox: Outbox,
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
    static LOADING: RefCell<Option<Promise>> = const { RefCell::new(None) };
    static FLUSHING: Cell<bool> = const { Cell::new(false) };
    /// Callers waiting for every queued write to be stored.
    static IDLE_WAITERS: RefCell<Vec<Deferred>> = const { RefCell::new(Vec::new()) };
    /// When the persistence timer fires next (ms since the epoch), if set.
    static TIMER_AT: Cell<Option<u64>> = const { Cell::new(None) };
    static TIMER: RefCell<Option<gloo_timers::callback::Timeout>> = const { RefCell::new(None) };
}

/// Loads the wallet once; concurrent callers await the same load. A failed load is
/// retried by the next caller.
pub async fn ready() -> EngineResult<()> {
    if ENGINE.with(|e| e.borrow().is_some()) {
        return Ok(());
    }
    let promise = LOADING.with(|l| {
        l.borrow_mut()
            .get_or_insert_with(|| {
                wasm_bindgen_futures::future_to_promise(async {
                    let result = load().await;
                    LOADING.with(|l| l.borrow_mut().take());
                    match result {
                        Ok(engine) => {
                            ENGINE.with(|e| *e.borrow_mut() = Some(engine));
                            after_step();
                            Ok(JsValue::UNDEFINED)
                        }
                        Err(e) => Err(e.to_js()),
                    }
                })
            })
            .clone()
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| EngineError::from_js_error(&e))
}

async fn load() -> EngineResult<Engine> {
    let snapshot = chrome_store::Snapshot::read().await?;
    let wallet = Wallet::load(&snapshot, &chrome::clock(), Box::new(BrowserRandom))
        .map_err(|e| CoreError::StorageFailed(format!("could not read Keyfob's storage: {e}")))?;
    Ok(Engine {
        wallet,
        outbox: Outbox::default(),
    })
}

/// Runs one step on the wallet (call [`ready`] first), then queues what it must store.
pub fn with<R>(f: impl FnOnce(&mut Wallet) -> Result<R, CoreError>) -> EngineResult<R> {
    let result = ENGINE.with(|e| match e.borrow_mut().as_mut() {
        Some(engine) => f(&mut engine.wallet).map_err(EngineError::from),
        None => Err(CoreError::Internal("the wallet is not loaded".into()).into()),
    });
    after_step();
    result
}

/// Waits until every write queued so far is stored (or failed), then reports whether
/// `record`'s last write failed: commands answer only once their change is stored.
pub async fn stored(record: Record) -> EngineResult<()> {
    if busy() {
        let waiter = Deferred::new();
        IDLE_WAITERS.with(|w| w.borrow_mut().push(waiter.clone()));
        chrome::settled(&waiter.promise).await;
    }
    match ENGINE.with(|e| {
        e.borrow()
            .as_ref()
            .and_then(|e| e.wallet.write_failed(record))
    }) {
        Some(error) => Err(error.into()),
        None => Ok(()),
    }
}

fn busy() -> bool {
    FLUSHING.with(Cell::get)
        || ENGINE.with(|e| e.borrow().as_ref().is_some_and(|e| !e.outbox.is_empty()))
}

/// Queues the writes that are due and makes sure they go out; sets the timer for the
/// ones due later.
fn after_step() {
    let next = ENGINE.with(|e| {
        let mut e = e.borrow_mut();
        let engine = e.as_mut()?;
        let Engine { wallet, outbox } = engine;
        wallet.persist(outbox, now_ms()).next_in_ms
    });
    if let Some(wait) = next {
        schedule(wait);
    }
    if busy() && !FLUSHING.with(|f| f.replace(true)) {
        wasm_bindgen_futures::spawn_local(flush());
    }
    if !busy() {
        wake_idle_waiters();
    }
}

/// Sends queued batches one after another, reporting each outcome to the wallet.
async fn flush() {
    loop {
        let batch: Option<Batch> =
            ENGINE.with(|e| e.borrow_mut().as_mut().and_then(|e| e.outbox.next()));
        let Some(batch) = batch else {
            break;
        };
        let result = chrome_store::write(&batch).await;
        ENGINE.with(|e| {
            if let Some(engine) = e.borrow_mut().as_mut() {
                engine.wallet.write_done(batch.id, result, now_ms());
                // A stored vault makes its key due: queue it in the same flush.
                let Engine { wallet, outbox } = engine;
                wallet.persist(outbox, now_ms());
            }
        });
    }
    FLUSHING.with(|f| f.set(false));
    wake_idle_waiters();
}

fn wake_idle_waiters() {
    let waiters: VecDeque<Deferred> = IDLE_WAITERS.with(|w| w.borrow_mut().drain(..).collect());
    for waiter in waiters {
        waiter.resolve(&JsValue::UNDEFINED);
    }
}

/// Runs a persistence step in `wait_ms` (or sooner, if a timer is already set sooner).
fn schedule(wait_ms: u64) {
    let at = now_ms().saturating_add(wait_ms);
    if TIMER_AT.with(Cell::get).is_some_and(|t| t <= at) {
        return;
    }
    TIMER_AT.with(|t| t.set(Some(at)));
    let ms = u32::try_from(wait_ms).unwrap_or(u32::MAX);
    // The step runs as its own task: it may replace this timer, which must not be
    // dropped while its callback is still running.
    let timeout = gloo_timers::callback::Timeout::new(ms, || {
        TIMER_AT.with(|t| t.set(None));
        wasm_bindgen_futures::spawn_local(async { after_step() });
    });
    TIMER.with(|t| *t.borrow_mut() = Some(timeout));
}

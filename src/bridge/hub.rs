//! The one place that writes to the browser and routes its answers.
//!
//! Invariants: stdout carries frames only, written whole under one mutex (interleaved
//! writes from two connection threads would corrupt the stream); every request gets an
//! id never used before while the host lives; a frame for an id nobody waits on any more
//! (an aborted request) is dropped.

use super::frames::{Incoming, Outgoing};
use super::framing::write_frame;
use crate::error::KeyfobError;
use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, MutexGuard, PoisonError};

pub struct Hub {
    out: Mutex<Box<dyn Write + Send>>,
    waiting: Mutex<HashMap<u64, Sender<Incoming>>>,
    next_id: AtomicU64,
}

/// A request's claim on its answers; dropping it forgets the id.
pub struct Ticket<'a> {
    hub: &'a Hub,
    pub id: u64,
    pub answers: Receiver<Incoming>,
}

impl Hub {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out: Mutex::new(out),
            waiting: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
        }
    }

    /// Writes one frame to the browser.
    pub fn send(&self, frame: &Outgoing) -> Result<(), KeyfobError> {
        let json = serde_json::to_vec(frame)
            .map_err(|e| KeyfobError::Frame(format!("encoding a frame: {e}")))?;
        write_frame(&mut *lock(&self.out), &json)
    }

    /// A fresh id, registered to receive its answers.
    pub fn open(&self) -> Ticket<'_> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = channel();
        lock(&self.waiting).insert(id, tx);
        Ticket {
            hub: self,
            id,
            answers: rx,
        }
    }

    /// Hands a browser frame to the request waiting on its id.
    pub fn route(&self, frame: Incoming) {
        let Some(id) = frame.id() else { return };
        let waiting = lock(&self.waiting);
        match waiting.get(&id) {
            Some(tx) => {
                // A send fails only when the connection thread just ended; then the frame
                // has nobody to go to, which is the same as an unknown id.
                let _ = tx.send(frame);
            }
            None => eprintln!("keyfob bridge: dropping a frame for finished request {id}"),
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        lock(&self.hub.waiting).remove(&self.id);
    }
}

/// A poisoned lock only means another connection thread panicked; the data (a writer
/// that writes whole frames, a map) is still consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::framing::read_frame;
    use std::io::Cursor;
    use std::sync::Arc;

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn ids_are_fresh_and_answers_reach_only_their_request() {
        let hub = Hub::new(Box::new(Shared::default()));
        let a = hub.open();
        let b = hub.open();
        assert_ne!(a.id, b.id);
        hub.route(Incoming::End { id: b.id });
        assert!(a.answers.try_recv().is_err());
        assert_eq!(b.answers.try_recv().unwrap(), Incoming::End { id: b.id });
        let old = a.id;
        drop(a);
        hub.route(Incoming::End { id: old }); // dropped, no panic
        assert!(hub.open().id > b.id);
    }

    #[test]
    fn frames_are_written_whole_from_many_threads() {
        let out = Shared::default();
        let hub = Arc::new(Hub::new(Box::new(out.clone())));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let hub = hub.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let b = "x".repeat(1000 * t + i);
                        hub.send(&Outgoing::Body { id: i as u64, b }).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let mut wire = Cursor::new(lock(&out.0).clone());
        let mut count = 0;
        while let Some(frame) = read_frame(&mut wire).unwrap() {
            let value: serde_json::Value = serde_json::from_slice(&frame).unwrap();
            assert_eq!(value["t"], "body");
            count += 1;
        }
        assert_eq!(count, 200);
    }
}

//! Routing replies to the callers waiting for them, by request id.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::error::{Error, Result};

/// What a waiting caller receives: the hook's value or why there is none.
pub type Outcome = Result<Value>;

/// The callers waiting for a reply, and whether replies can still come.
#[derive(Debug, Default)]
pub struct Replies {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    pending: HashMap<u64, Sender<Outcome>>,
    closed: Option<Error>,
}

impl Replies {
    /// Registers a caller waiting for reply `id`; fails with the closing error once closed.
    pub fn expect(&self, id: u64) -> Result<Receiver<Outcome>> {
        let mut inner = self.lock();
        if let Some(err) = &inner.closed {
            return Err(err.clone());
        }
        let (tx, rx) = mpsc::channel();
        inner.pending.insert(id, tx);
        Ok(rx)
    }

    /// Stops waiting for `id` (the caller gave up).
    pub fn forget(&self, id: u64) {
        self.lock().pending.remove(&id);
    }

    /// Hands the reply to its caller; a reply nobody waits for (it came too late) is dropped.
    pub fn deliver(&self, id: u64, outcome: Outcome) {
        if let Some(tx) = self.lock().pending.remove(&id) {
            // The caller may have just given up; then nobody needs the reply.
            let _ = tx.send(outcome);
        }
    }

    /// No more replies will come: every waiting caller, and every later one, gets `err`. The first
    /// reason given is kept.
    pub fn close(&self, err: Error) {
        let mut inner = self.lock();
        let err = inner.closed.get_or_insert(err).clone();
        for (_, tx) in inner.pending.drain() {
            let _ = tx.send(Err(err.clone()));
        }
    }

    /// Why replies stopped, if they did.
    pub fn closed(&self) -> Option<Error> {
        self.lock().closed.clone()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking caller cannot leave the map half-updated; keep serving the others.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use serde_json::json;

    #[test]
    fn replies_reach_their_caller_and_close_fails_the_rest() {
        let r = Replies::default();
        let a = r.expect(1).unwrap();
        let b = r.expect(2).unwrap();
        r.deliver(2, Ok(json!("two")));
        r.deliver(9, Ok(json!("nobody waits")));
        assert_eq!(b.try_recv().unwrap().unwrap(), json!("two"));
        r.close(Error::new(
            ErrorCode::ExtensionDied,
            "exited (exit status: 3)",
        ));
        r.close(Error::new(
            ErrorCode::ExtensionDied,
            "second reason is ignored",
        ));
        let e = a.try_recv().unwrap().unwrap_err();
        assert_eq!(e.code(), ErrorCode::ExtensionDied);
        assert!(e.message().contains("exit status: 3"));
        let later = r.expect(3).unwrap_err();
        assert!(later.message().contains("exit status: 3"));
        assert!(r.closed().is_some());
    }

    #[test]
    fn a_forgotten_caller_gets_nothing() {
        let r = Replies::default();
        let a = r.expect(1).unwrap();
        r.forget(1);
        r.deliver(1, Ok(json!(1)));
        assert!(a.try_recv().is_err());
    }
}

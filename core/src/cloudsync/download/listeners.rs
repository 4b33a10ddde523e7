//! The progress listeners of one instance (`CloudFileCache` / `Download` objects do not share
//! them: "data is not shared between instances").

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::task::lock;
use crate::cloudsync::progress::DownloadProgress;

/// A progress listener. It runs on a download thread and should not block.
pub type DownloadListener = Arc<dyn Fn(&DownloadProgress) + Send + Sync>;

/// One instance's listeners, by id.
#[derive(Default)]
pub(crate) struct Listeners {
    list: Mutex<Vec<(u64, DownloadListener)>>,
    next: AtomicU64,
}

impl Listeners {
    pub(crate) fn add(&self, f: DownloadListener) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        lock(&self.list).push((id, f));
        id
    }

    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut list = lock(&self.list);
        let before = list.len();
        list.retain(|(i, _)| *i != id);
        list.len() != before
    }

    pub(crate) fn clear(&self) {
        lock(&self.list).clear();
    }

    /// Calls every listener with `p`, outside the lock (a listener may subscribe or stop). A
    /// listener that panics is skipped: the download and the other listeners go on.
    pub(crate) fn deliver(&self, p: &DownloadProgress) {
        let now: Vec<DownloadListener> = lock(&self.list).iter().map(|(_, f)| f.clone()).collect();
        for f in now {
            let _ = catch_unwind(AssertUnwindSafe(|| f(p)));
        }
    }
}

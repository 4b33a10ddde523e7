//! What a session tells its client, and the one thread that tells it. Every event of a session
//! goes through a bounded queue to a single dispatcher thread, so events arrive in the order they
//! happened (per bundle: onBundleBegin → onProcess* → onFileReady* → onResultReport? →
//! onBundleEnd; then onAllBundlesEnd), the client's callbacks never run concurrently, and a slow
//! client slows the producers down instead of piling up open fds.

use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle, ThreadId};

use crate::error::Error;

/// How many events may wait for the client before producers block.
const QUEUE_DEPTH: usize = 16;

/// A file handed to the client (`File` of the docs): the fds are the client's to close.
#[derive(Debug)]
pub struct FileReady {
    /// The bundle.
    pub bundle_name: String,
    /// Its name (`part.1.tar`, a big file's name, `manage.json`).
    pub uri: String,
    /// The data (read it in backup; write it in restore).
    pub fd: OwnedFd,
    /// The manifest fd of restore and incremental sessions.
    pub manifest_fd: Option<OwnedFd>,
}

/// One callback of `GeneralCallbacks`.
#[derive(Debug)]
pub enum SessionEvent {
    /// `onFileReady(err, file)`.
    FileReady(Result<FileReady, Error>),
    /// `onBundleBegin(err, bundleName)`; an error carries the bundle as `data`.
    BundleBegin(Result<String, Error>),
    /// `onBundleEnd(err, bundleName)`.
    BundleEnd(Result<String, Error>),
    /// `onAllBundlesEnd(err)`.
    AllBundlesEnd(Result<(), Error>),
    /// `onBackupServiceDied()`.
    ServiceDied,
    /// `onResultReport(bundleName, result)`.
    ResultReport {
        /// The bundle.
        bundle: String,
        /// The text the app's hook returned, or an ErrorInfo JSON.
        result: String,
    },
    /// `onBackupSizeReport(reportInfo)` (getBackupDataSize).
    BackupSizeReport(String),
    /// `onProcess(bundleName, process)`.
    Process {
        /// The bundle.
        bundle: String,
        /// `{"processResult":{...}}`.
        process: String,
    },
}

/// Where a session's events go (the C face's callbacks, the Node face's JS functions).
pub trait EventSink: Send + Sync + 'static {
    /// Delivers one event; called only from the session's dispatcher thread, one at a time.
    fn deliver(&self, event: SessionEvent);
}

/// The sending side of a session's event queue.
pub struct EventQueue {
    sender: Mutex<Option<SyncSender<SessionEvent>>>,
    dispatcher: Mutex<Option<JoinHandle<()>>>,
    dispatcher_id: ThreadId,
    sink: Arc<dyn EventSink>,
    discard: Arc<AtomicBool>,
}

impl EventQueue {
    /// Starts the dispatcher thread that feeds `sink`.
    pub fn start(sink: Arc<dyn EventSink>) -> std::io::Result<EventQueue> {
        let (tx, rx): (SyncSender<SessionEvent>, Receiver<SessionEvent>) =
            sync_channel(QUEUE_DEPTH);
        let discard = Arc::new(AtomicBool::new(false));
        let (d, s) = (discard.clone(), sink.clone());
        let handle = thread::Builder::new()
            .name("ohfile-events".into())
            .spawn(move || {
                for event in rx {
                    // After release only the service's death notice still goes out.
                    if !d.load(Ordering::SeqCst) || matches!(event, SessionEvent::ServiceDied) {
                        s.deliver(event);
                    }
                }
            })?;
        let dispatcher_id = handle.thread().id();
        Ok(EventQueue {
            sender: Mutex::new(Some(tx)),
            dispatcher: Mutex::new(Some(handle)),
            dispatcher_id,
            sink,
            discard,
        })
    }

    /// Queues an event (blocking while the queue is full). From a callback (the dispatcher
    /// thread itself) it is delivered at once, since queueing there could wait for itself. After
    /// `close` the event is dropped, which closes any fds it carries.
    pub fn send(&self, event: SessionEvent) {
        if self.on_dispatcher_thread() {
            if !self.discard.load(Ordering::SeqCst) {
                self.sink.deliver(event);
            }
            return;
        }
        let tx = self.sender.lock().ok().and_then(|s| s.clone());
        if let Some(tx) = tx {
            let _ = tx.send(event);
        }
    }

    /// Drops every event not yet delivered, and all later ones except `ServiceDied`.
    pub fn discard_pending(&self) {
        self.discard.store(true, Ordering::SeqCst);
    }

    /// Whether the calling thread is the dispatcher (a callback calling back into the session).
    pub fn on_dispatcher_thread(&self) -> bool {
        thread::current().id() == self.dispatcher_id
    }

    /// Stops accepting events and waits until the queued ones were delivered (unless called from
    /// a callback, which must not wait for itself).
    pub fn close(&self) {
        if let Ok(mut s) = self.sender.lock() {
            s.take();
        }
        if self.on_dispatcher_thread() {
            return;
        }
        let handle = self.dispatcher.lock().ok().and_then(|mut h| h.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for EventQueue {
    fn drop(&mut self) {
        self.close();
    }
}

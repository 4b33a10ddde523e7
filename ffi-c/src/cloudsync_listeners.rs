//! The progress listeners of a cloud-sync handle: which C callbacks may still be called, and when
//! their user_data is released. Once a listener is removed no call of it starts, a call in
//! progress on another thread is waited for, and user_data_free runs exactly once, after the last
//! call has returned. No lock is held while a callback runs, so a callback may call back into the
//! library (remove itself, start a sync, …).

use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A finaliser for the user_data of a listener: called once, when the listener is removed (by
/// its _off_progress function, or when its handle is freed), after its last call has returned.
pub type ohf_user_data_free_cb = Option<unsafe extern "C" fn(user_data: *mut c_void)>;

thread_local! {
    /// How many progress callbacks (of any handle) this thread is inside now.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// Whether this thread is inside a progress callback of any handle.
pub(crate) fn in_any_callback() -> bool {
    DEPTH.with(|d| d.get() > 0)
}

/// Who is calling one listener, and whether it was removed.
#[derive(Default)]
struct Delivery {
    /// Calls in progress (more than one when events reach it on two threads at once, e.g. the
    /// replay on the registering thread and the syncer's worker).
    depth: usize,
    /// Removed: no call starts any more.
    closed: bool,
    /// user_data_free was called (or is being called).
    freed: bool,
    /// Threads in `close` waiting for the calls in progress to return; one of them frees.
    waiters: usize,
}

/// One C callback's registration.
pub(crate) struct Registration {
    user_data: *mut c_void,
    user_data_free: ohf_user_data_free_cb,
    delivery: Mutex<Delivery>,
    returned: Condvar,
}

// SAFETY: user_data is only handed back to the caller's own callbacks, on the threads the header
// documents; registering it is the caller's promise that this is fine.
unsafe impl Send for Registration {}
unsafe impl Sync for Registration {}

impl Registration {
    fn delivery(&self) -> MutexGuard<'_, Delivery> {
        self.delivery.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f(user_data)` unless the listener was removed. A panic inside is contained: it must
    /// not take the syncer's or downloader's thread down.
    pub fn call(&self, f: impl FnOnce(*mut c_void)) {
        {
            let mut d = self.delivery();
            if d.closed {
                return;
            }
            d.depth += 1;
        }
        DEPTH.with(|d| d.set(d.get() + 1));
        let _leave = Leave(self);
        let _ = catch_unwind(AssertUnwindSafe(|| f(self.user_data)));
    }

    fn leave(&self) {
        DEPTH.with(|d| d.set(d.get() - 1));
        let free_now = {
            let mut d = self.delivery();
            d.depth -= 1;
            if d.closed && d.depth == 0 {
                self.returned.notify_all();
                d.waiters == 0 && !std::mem::replace(&mut d.freed, true)
            } else {
                false
            }
        };
        if free_now {
            self.free_user_data();
        }
    }

    /// No call starts after this. Outside any progress callback it waits for calls in progress
    /// and then frees user_data; from inside a callback it returns at once and the last call in
    /// progress frees it when it returns (waiting there could wait for itself).
    fn close(&self) {
        let mut d = self.delivery();
        d.closed = true;
        if d.depth > 0 && !in_any_callback() {
            d.waiters += 1;
            while d.depth > 0 {
                d = self.returned.wait(d).unwrap_or_else(|p| p.into_inner());
            }
            d.waiters -= 1;
        }
        let free_now = d.depth == 0 && !std::mem::replace(&mut d.freed, true);
        drop(d);
        if free_now {
            self.free_user_data();
        }
    }

    fn free_user_data(&self) {
        if let Some(free) = self.user_data_free {
            // SAFETY: the caller's finaliser for its own user_data, called once.
            let _ = catch_unwind(AssertUnwindSafe(|| unsafe { free(self.user_data) }));
        }
    }
}

/// Leaves the call even if the callback's conversion panicked.
struct Leave<'a>(&'a Registration);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

/// One registered listener: our id (what C sees), the core's subscription id.
struct Entry {
    id: u64,
    core_id: u64,
    registration: Arc<Registration>,
}

#[derive(Default)]
struct Table {
    /// The last id handed out (ids start at 1; 0 means "every listener" to `remove`).
    last_id: u64,
    entries: Vec<Entry>,
}

/// The listeners of one handle.
#[derive(Default)]
pub(crate) struct Listeners {
    table: Mutex<Table>,
}

impl Listeners {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a listener: `subscribe` hands the registration to the core and returns the
    /// core's id. It runs without our lock held (the core may call back at once, on this thread).
    /// Returns the id for `remove` (never 0).
    pub fn add(
        &self,
        user_data: *mut c_void,
        user_data_free: ohf_user_data_free_cb,
        subscribe: impl FnOnce(Arc<Registration>) -> u64,
    ) -> u64 {
        let registration = Arc::new(Registration {
            user_data,
            user_data_free,
            delivery: Mutex::new(Delivery::default()),
            returned: Condvar::new(),
        });
        let core_id = subscribe(registration.clone());
        let mut table = self.table();
        table.last_id += 1;
        let id = table.last_id;
        table.entries.push(Entry {
            id,
            core_id,
            registration,
        });
        id
    }

    /// Removes the listener `id` (0: every listener), unsubscribing it from the core first, then
    /// closing it (see [`Registration::close`]). Returns how many were removed.
    pub fn remove(&self, id: u64, mut unsubscribe: impl FnMut(u64)) -> usize {
        let taken: Vec<Entry> = {
            let mut table = self.table();
            let (taken, kept) = std::mem::take(&mut table.entries)
                .into_iter()
                .partition(|e| id == 0 || e.id == id);
            table.entries = kept;
            taken
        };
        for e in &taken {
            unsubscribe(e.core_id);
            e.registration.close();
        }
        taken.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static FREED: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn count_free(user_data: *mut c_void) {
        assert_eq!(user_data as usize, 42);
        FREED.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn removal_from_inside_the_callback_frees_after_it_returns() {
        let listeners = Listeners::default();
        let slot: Mutex<Option<Arc<Registration>>> = Mutex::new(None);
        let id = listeners.add(42 as *mut c_void, Some(count_free), |r| {
            *slot.lock().unwrap() = Some(r);
            7
        });
        assert_eq!(id, 1);
        let reg = slot.lock().unwrap().clone().unwrap();
        let before = FREED.load(Ordering::SeqCst);
        let mut calls = 0;
        reg.call(|ud| {
            calls += 1;
            assert!(in_any_callback());
            let mut unsubscribed = vec![];
            assert_eq!(listeners.remove(id, |c| unsubscribed.push(c)), 1);
            assert_eq!(unsubscribed, vec![7]);
            // Still inside: not freed yet.
            assert_eq!(FREED.load(Ordering::SeqCst), before);
            assert_eq!(ud as usize, 42);
        });
        assert_eq!(FREED.load(Ordering::SeqCst), before + 1);
        reg.call(|_| calls += 1);
        assert_eq!(calls, 1, "no call after removal");
        assert!(!in_any_callback());
        assert_eq!(listeners.remove(0, |_| ()), 0);
    }

    #[test]
    fn removal_from_another_thread_waits_for_the_call_in_progress() {
        let listeners = Arc::new(Listeners::default());
        let slot: Mutex<Option<Arc<Registration>>> = Mutex::new(None);
        let id = listeners.add(std::ptr::null_mut(), None, |r| {
            *slot.lock().unwrap() = Some(r);
            1
        });
        let reg = slot.lock().unwrap().clone().unwrap();
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let done = Arc::new(AtomicUsize::new(0));
        let done2 = done.clone();
        let t = std::thread::spawn(move || {
            reg.call(|_| {
                entered_tx.send(()).unwrap();
                std::thread::sleep(std::time::Duration::from_millis(200));
                done2.store(1, Ordering::SeqCst);
            })
        });
        entered_rx.recv().unwrap();
        assert_eq!(listeners.remove(id, |_| ()), 1);
        assert_eq!(
            done.load(Ordering::SeqCst),
            1,
            "remove returned during the call"
        );
        t.join().unwrap();
    }
}

//! Per-bundle control shared by a bundle's worker, its watchdog and the client's calls: the
//! app-hook timer (`updateTimer`), the send-rate limiter (`updateSendRate`), and cancellation.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::backup::extension::Extension;
use crate::error::{Error, ErrorCode, Result};

/// Default app-hook timeout (OpenHarmony's DEFAULT_TIMEOUT: 15 minutes).
pub const DEFAULT_TIMEOUT_MS: u64 = 15 * 60 * 1000;
/// The largest timeout `updateTimer` accepts (4 hours).
pub const MAX_TIMEOUT_MS: i64 = 14_400_000;
/// Default fds per second.
pub const DEFAULT_SEND_RATE: u32 = 60;
/// The largest send rate; bigger values are clamped to it.
pub const MAX_SEND_RATE: i64 = 10_000;

/// Why a bundle stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The timer ran out (13500003).
    TimedOut,
    /// The session was released: no more events for this bundle.
    Released,
    /// The client cancelled the bundle: it ends with onBundleEnd(undefined, name).
    Cancelled,
}

#[derive(Debug)]
struct State {
    timeout_ms: u64,
    deadline: Option<Instant>,
    stop: Option<Stop>,
    send_rate: u32,
    window_start: Instant,
    sent_in_window: u32,
    running: bool,
    finished: bool,
    ext: Option<Arc<Extension>>,
}

/// The control block of one bundle in a session.
#[derive(Debug)]
pub struct BundleCtl {
    /// The bundle name.
    pub name: String,
    state: Mutex<State>,
    cond: Condvar,
}

impl BundleCtl {
    /// A bundle not yet started, with the default timeout.
    pub fn new(name: &str) -> BundleCtl {
        BundleCtl::with_timeout(name, DEFAULT_TIMEOUT_MS)
    }

    /// A bundle not yet started whose timer runs `timeout_ms` until `updateTimer` changes it.
    pub fn with_timeout(name: &str, timeout_ms: u64) -> BundleCtl {
        BundleCtl {
            name: name.to_string(),
            state: Mutex::new(State {
                timeout_ms,
                deadline: None,
                stop: None,
                send_rate: DEFAULT_SEND_RATE,
                window_start: Instant::now(),
                sent_in_window: 0,
                running: false,
                finished: false,
                ext: None,
            }),
            cond: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Marks the bundle running (its extension connected) and keeps the extension so the timer
    /// can stop a hook that hangs.
    pub fn set_running(&self, ext: Option<Arc<Extension>>) {
        let mut s = self.lock();
        s.running = true;
        s.ext = ext;
    }

    /// Whether the bundle is running (between onBundleBegin and onBundleEnd).
    pub fn is_running(&self) -> bool {
        let s = self.lock();
        s.running && !s.finished
    }

    /// Starts (or restarts) the timer with the bundle's timeout, at least `floor_ms`.
    pub fn start_timer(&self, floor_ms: u64) {
        let mut s = self.lock();
        let ms = s.timeout_ms.max(floor_ms);
        s.deadline = Some(Instant::now() + Duration::from_millis(ms));
        self.cond.notify_all();
    }

    /// `updateTimer`: stores the timeout and restarts a running timer from now; 0 ends it now.
    pub fn update_timer(&self, ms: u64) {
        let mut s = self.lock();
        s.timeout_ms = ms;
        if s.deadline.is_some() {
            s.deadline = Some(Instant::now() + Duration::from_millis(ms));
        }
        self.cond.notify_all();
    }

    /// `updateSendRate` (already clamped).
    pub fn update_send_rate(&self, rate: u32) {
        let mut s = self.lock();
        s.send_rate = rate;
        self.cond.notify_all();
    }

    /// Stops the bundle (timeout or release) and kills its extension, so a hook in progress
    /// returns at once.
    pub fn stop(&self, why: Stop) {
        let mut s = self.lock();
        if s.stop.is_none() && !s.finished {
            s.stop = Some(why);
            if let Some(ext) = &s.ext {
                ext.abort(); // pending hook calls return at once
            }
        }
        self.cond.notify_all();
    }

    /// Why the bundle was stopped, if it was.
    pub fn stopped(&self) -> Option<Stop> {
        self.lock().stop
    }

    /// Ok while the bundle may go on; the error it must end with otherwise.
    pub fn check(&self) -> Result<()> {
        match self.lock().stop {
            None => Ok(()),
            Some(Stop::TimedOut) => Err(Error::new(
                ErrorCode::ExtensionTimeout,
                format!("bundle {} timed out", self.name),
            )),
            Some(Stop::Released) => Err(Error::new(
                ErrorCode::InvalidArgument,
                "the session was released",
            )),
            Some(Stop::Cancelled) => Err(Error::new(
                ErrorCode::CancelNoTask,
                format!("bundle {} was cancelled", self.name),
            )),
        }
    }

    /// The time left before the timer fires (a long time when it is not running).
    pub fn remaining(&self) -> Duration {
        match self.lock().deadline {
            Some(d) => d.saturating_duration_since(Instant::now()),
            None => Duration::from_millis(MAX_TIMEOUT_MS as u64),
        }
    }

    /// Marks the bundle finished: the watchdog exits and later client calls see it gone.
    pub fn finish(&self) {
        let mut s = self.lock();
        s.finished = true;
        s.running = false;
        s.ext = None;
        self.cond.notify_all();
    }

    /// The watchdog loop (run on its own thread): fires `Stop::TimedOut` when the deadline passes.
    pub fn watch(&self) {
        let mut s = self.lock();
        loop {
            if s.finished || s.stop.is_some() {
                return;
            }
            match s.deadline {
                Some(d) if Instant::now() >= d => {
                    drop(s);
                    self.stop(Stop::TimedOut);
                    return;
                }
                Some(d) => {
                    let wait = d.saturating_duration_since(Instant::now());
                    s = self
                        .cond
                        .wait_timeout(s, wait)
                        .map(|r| r.0)
                        .unwrap_or_else(|p| p.into_inner().0);
                }
                None => s = self.cond.wait(s).unwrap_or_else(|p| p.into_inner()),
            }
        }
    }

    /// Waits for permission to hand one more fd to the client: at most `send_rate` per second,
    /// none while the rate is 0.
    pub fn acquire_send_slot(&self) -> Result<()> {
        let mut s = self.lock();
        loop {
            if s.stop.is_some() {
                drop(s);
                return self.check();
            }
            let now = Instant::now();
            if now.duration_since(s.window_start) >= Duration::from_secs(1) {
                s.window_start = now;
                s.sent_in_window = 0;
            }
            if s.send_rate > 0 && s.sent_in_window < s.send_rate {
                s.sent_in_window += 1;
                return Ok(());
            }
            let wait = if s.send_rate == 0 {
                Duration::from_millis(500)
            } else {
                (s.window_start + Duration::from_secs(1)).saturating_duration_since(now)
            };
            s = self
                .cond
                .wait_timeout(s, wait)
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Sleeps up to `d`, waking early when the bundle stops or finishes; false when it did.
    pub fn sleep(&self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        let mut s = self.lock();
        loop {
            if s.finished || s.stop.is_some() {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            s = self
                .cond
                .wait_timeout(s, deadline - now)
                .map(|r| r.0)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn update_timer_zero_times_out_now_and_restart_extends() {
        let c = Arc::new(BundleCtl::new("a.b"));
        c.start_timer(0);
        let w = {
            let c = c.clone();
            std::thread::spawn(move || c.watch())
        };
        assert!(c.check().is_ok());
        c.update_timer(0);
        w.join().unwrap();
        assert_eq!(c.check().unwrap_err().code(), ErrorCode::ExtensionTimeout);
    }

    #[test]
    fn send_rate_limits_per_second_and_zero_pauses() {
        let c = Arc::new(BundleCtl::new("a.b"));
        c.update_send_rate(5);
        let t0 = Instant::now();
        for _ in 0..6 {
            c.acquire_send_slot().unwrap();
        }
        assert!(
            t0.elapsed() >= Duration::from_millis(900),
            "the 6th fd waits for the next window"
        );
        c.update_send_rate(0);
        let c2 = c.clone();
        let h = std::thread::spawn(move || {
            let t = Instant::now();
            c2.acquire_send_slot().unwrap();
            t.elapsed()
        });
        std::thread::sleep(Duration::from_millis(1200));
        c.update_send_rate(10);
        assert!(
            h.join().unwrap() >= Duration::from_millis(1100),
            "paused until a positive rate"
        );
    }
}

//! One sync run: pull (cloud changes since the persisted cursor) then push (local changes up).
//!
//! A run holds `state/cloudsync/<ns>.lock` throughout, so one folder never has two runs at once,
//! across processes. It pulls, pushes, and when the push changed the cloud pulls and pushes again,
//! a bounded number of rounds: a compare-and-swap lost to another device is settled within the
//! run, and the run's own uploads are folded into the cursor, so the next run has nothing to
//! replay. Every decision is made from the row as it is inside the write transaction and from the
//! disk as it is now, so an interrupted run (stop, error, `kill -9`) leaves nothing the next run
//! cannot finish: files appear only complete, and a row says "in step" only once the file is in
//! place or the upload has returned.

pub mod folder;
mod pull;
mod push;
mod rows;

#[cfg(test)]
pub(crate) mod test_support;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use folder::{Entry, SyncedFolder};
#[cfg(test)]
pub(crate) use rows::cloud_only;
pub(crate) use rows::in_step;
pub use rows::mark_downloaded;

use super::backend::CloudBackend;
use super::conditions::Conditions;
use super::progress::{SyncErrorType, SyncState};
use super::scope::SyncScope;
use super::state_db::StateDb;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// How a caller steers a run.
pub struct RunControl<'a> {
    /// Set to stop the run at the next file or batch boundary.
    pub stop: &'a AtomicBool,
    /// Called with `Downloading` after each applied pull batch and `Uploading` after each pushed
    /// batch (never with a terminal state: the caller sends that).
    pub progress: &'a (dyn Fn(SyncState) + Sync),
}

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    /// Everything pulled and pushed.
    Completed,
    /// `stop` was set; what was done is recorded, a later run does the rest.
    Stopped,
    /// The run gave up: `state` is `UploadFailed` or `DownloadFailed` (the phase it was in).
    Failed {
        /// `UploadFailed` or `DownloadFailed`.
        state: SyncState,
        /// Why.
        error: SyncErrorType,
    },
}

/// A run's outcome with the error behind a failure (for logs and command-line tools).
#[derive(Clone, Debug)]
pub struct RunReport {
    /// How the run ended.
    pub outcome: RunOutcome,
    /// What went wrong, when the run failed.
    pub error: Option<Error>,
}

/// Runs one sync of `scope` against `cloud`. Never panics: an unexpected error is a failure with
/// `UnknownError` in the phase it happened in.
pub fn run_once(
    device: &Device,
    scope: &SyncScope,
    cloud: &dyn CloudBackend,
    ctl: &RunControl,
) -> RunOutcome {
    run_once_report(device, scope, cloud, ctl).outcome
}

/// [`run_once`], with the error behind a failure.
pub fn run_once_report(
    device: &Device,
    scope: &SyncScope,
    cloud: &dyn CloudBackend,
    ctl: &RunControl,
) -> RunReport {
    run_tuned(device, scope, cloud, ctl, &Tuning::default())
}

/// Sizes of a run's steps (tests shrink them to interrupt runs between batches).
pub(crate) struct Tuning {
    /// Changes per pull page, applied in one transaction.
    pub pull_page: usize,
    /// Files per push batch (status written before, results after, in one transaction each).
    pub push_batch: usize,
    /// Uploads in flight.
    pub workers: usize,
    /// Pull + push rounds at most: another round follows a push that changed the cloud.
    pub rounds: usize,
    /// Called after each successful put with the key (tests edit the file there).
    #[cfg(test)]
    pub after_put: Option<PutHook>,
}

/// A test hook called with the key after each successful put.
#[cfg(test)]
pub(crate) type PutHook = std::sync::Arc<dyn Fn(&str) + Send + Sync>;

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            pull_page: 500,
            push_batch: 256,
            workers: 4,
            rounds: 3,
            #[cfg(test)]
            after_put: None,
        }
    }
}

/// The phase a run is in, which names its failure state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Pull,
    Push,
}

impl Phase {
    fn failed_state(self) -> SyncState {
        match self {
            Phase::Pull => SyncState::DownloadFailed,
            Phase::Push => SyncState::UploadFailed,
        }
    }
}

/// Why a run ends early.
#[derive(Debug)]
enum Halt {
    Stopped,
    Failed {
        phase: Phase,
        error: SyncErrorType,
        cause: Option<Error>,
    },
}

impl Halt {
    /// A failure caused by `e`, classified by its code.
    fn from_error(phase: Phase, e: Error) -> Halt {
        let error = match e.code() {
            ErrorCode::NetworkUnavailable => SyncErrorType::NetworkUnavailable,
            ErrorCode::NoSpace => SyncErrorType::LocalStorageFull,
            ErrorCode::QuotaExceeded => SyncErrorType::CloudStorageFull,
            ErrorCode::BatteryLevelWarning => SyncErrorType::BatteryLevelLow,
            _ => SyncErrorType::UnknownError,
        };
        Halt::Failed {
            phase,
            error,
            cause: Some(e),
        }
    }

    /// A failure for a condition of the device (no network, low battery).
    fn condition(phase: Phase, error: SyncErrorType) -> Halt {
        Halt::Failed {
            phase,
            error,
            cause: None,
        }
    }
}

/// What a run works with.
struct Run<'a> {
    device: &'a Device,
    scope: &'a SyncScope,
    cloud: &'a dyn CloudBackend,
    ctl: &'a RunControl<'a>,
    tuning: &'a Tuning,
    folder: SyncedFolder,
    db: StateDb,
    /// The phase running now (names a failure).
    phase: Phase,
}

impl Run<'_> {
    fn ns(&self) -> &str {
        self.scope.namespace()
    }

    /// A failure caused by `e` in the current phase.
    fn fail(&self, e: Error) -> Halt {
        Halt::from_error(self.phase, e)
    }

    /// Between batches: a stop request, or a device condition that ends the run.
    fn check(&self) -> std::result::Result<(), Halt> {
        if self.ctl.stop.load(Ordering::Relaxed) {
            return Err(Halt::Stopped);
        }
        let conditions = Conditions::read(self.device, self.scope).map_err(|e| self.fail(e))?;
        match conditions.running_error() {
            Some(error) => Err(Halt::condition(self.phase, error)),
            None => Ok(()),
        }
    }
}

/// [`run_once_report`] with explicit step sizes.
pub(crate) fn run_tuned(
    device: &Device,
    scope: &SyncScope,
    cloud: &dyn CloudBackend,
    ctl: &RunControl,
    tuning: &Tuning,
) -> RunReport {
    let phase = std::cell::Cell::new(Phase::Pull);
    let result = catch_unwind(AssertUnwindSafe(|| {
        run_inner(device, scope, cloud, ctl, tuning, &phase)
    }));
    let halt = match result {
        Ok(Ok(())) => {
            return RunReport {
                outcome: RunOutcome::Completed,
                error: None,
            }
        }
        Ok(Err(halt)) => halt,
        Err(_) => Halt::Failed {
            phase: phase.get(),
            error: SyncErrorType::UnknownError,
            cause: Some(Error::new(
                ErrorCode::InnerError,
                "the sync run hit an internal error (panic)",
            )),
        },
    };
    match halt {
        Halt::Stopped => RunReport {
            outcome: RunOutcome::Stopped,
            error: None,
        },
        Halt::Failed {
            phase,
            error,
            cause,
        } => RunReport {
            outcome: RunOutcome::Failed {
                state: phase.failed_state(),
                error,
            },
            error: cause.or_else(|| Some(condition_error(error))),
        },
    }
}

/// The public error matching a device condition that ended a run.
fn condition_error(error: SyncErrorType) -> Error {
    match error {
        SyncErrorType::NetworkUnavailable => {
            Error::new(ErrorCode::NetworkUnavailable, "the network went away")
        }
        SyncErrorType::BatteryLevelLow => Error::new(
            ErrorCode::BatteryLevelWarning,
            "the battery is low and not charging",
        ),
        other => Error::new(ErrorCode::InnerError, format!("sync failed: {other:?}")),
    }
}

fn run_inner(
    device: &Device,
    scope: &SyncScope,
    cloud: &dyn CloudBackend,
    ctl: &RunControl,
    tuning: &Tuning,
    phase: &std::cell::Cell<Phase>,
) -> std::result::Result<(), Halt> {
    let pull_err = |e| Halt::from_error(Phase::Pull, e);
    let _lock = match RunLock::acquire(device, scope, ctl.stop).map_err(pull_err)? {
        Some(lock) => lock,
        None => return Err(Halt::Stopped),
    };
    let folder = SyncedFolder::open(device, scope).map_err(pull_err)?;
    let db = StateDb::open(device, scope).map_err(pull_err)?;
    let mut run = Run {
        device,
        scope,
        cloud,
        ctl,
        tuning,
        folder,
        db,
        phase: Phase::Pull,
    };
    for _ in 0..tuning.rounds.max(1) {
        run.phase = Phase::Pull;
        phase.set(Phase::Pull);
        run.pull()?;
        run.phase = Phase::Push;
        phase.set(Phase::Push);
        if !run.push()? {
            break;
        }
    }
    Ok(())
}

/// The exclusive `flock` on `state/cloudsync/<ns>.lock` for the life of a run.
struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock, waiting for another run while `stop` is unset (`None`: stopped first).
    fn acquire(device: &Device, scope: &SyncScope, stop: &AtomicBool) -> Result<Option<RunLock>> {
        let path = device
            .state_subdir("cloudsync")?
            .join(format!("{}.lock", scope.namespace()));
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(&e, format!("cannot open {}", path.display())))?;
        loop {
            // SAFETY: flock on an fd we own; the kernel drops it if this process dies.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(Some(RunLock { _file: file }));
            }
            let e = io::Error::last_os_error();
            if !matches!(
                e.raw_os_error(),
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR)
            ) {
                return Err(Error::io(&e, format!("cannot lock {}", path.display())));
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

//! An exclusive `flock` held for the life of a guard. Each guard opens its own file description,
//! so it excludes other threads of this process as well as other processes; the kernel drops it
//! when a holder dies, so a killed device never wedges the shared cloud.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;

/// A held exclusive lock on a lock file (created if missing); released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
}

impl FileLock {
    /// Blocks until the lock on `path` is ours.
    pub fn acquire(path: &Path) -> io::Result<FileLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        lock(&file, libc::LOCK_EX)?;
        Ok(FileLock { file })
    }

    /// Takes the lock on an already open file if nobody holds it; `None` when someone does.
    pub fn try_on(file: File) -> io::Result<Option<FileLock>> {
        match lock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(Some(FileLock { file })),
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // SAFETY: unlocking an fd we own (closing it would release the lock anyway).
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// `flock(op)` on `file`, retrying EINTR.
pub fn lock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock on an fd we own.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

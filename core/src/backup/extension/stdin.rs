//! The extension's stdin: a Unix stream socket rather than a pipe, so that writing to an
//! extension that died raises EPIPE instead of SIGPIPE (`MSG_NOSIGNAL`; a C host application may
//! not ignore SIGPIPE), and so that a write can give up at a deadline.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Why a request could not be written.
#[derive(Debug)]
pub enum SendError {
    /// Stdin is closed (by us, or the extension's end is gone).
    Closed(String),
    /// The extension did not read in time; `partial` when part of the line went out, which leaves
    /// the stream unusable.
    TimedOut {
        /// Some bytes were written.
        partial: bool,
    },
}

/// Creates the stdin socket: (our end, the child's end), both close-on-exec.
pub fn socket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let rc = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: socketpair succeeded, so both are fresh descriptors owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Our end of the extension's stdin; writers take turns so lines never interleave.
#[derive(Debug)]
pub struct RequestPipe {
    fd: Mutex<Option<OwnedFd>>,
}

impl RequestPipe {
    /// Wraps our end of the socket.
    pub fn new(fd: OwnedFd) -> RequestPipe {
        RequestPipe {
            fd: Mutex::new(Some(fd)),
        }
    }

    /// Writes all of `bytes`, giving up at `deadline`.
    pub fn send(&self, bytes: &[u8], deadline: Instant) -> Result<(), SendError> {
        let guard = self.lock();
        let Some(fd) = guard.as_ref() else {
            return Err(SendError::Closed("its stdin is closed".into()));
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            // SAFETY: `rest` is a valid buffer of `rest.len()` bytes; `fd` is open while we hold it.
            let n = unsafe {
                libc::send(
                    fd.as_raw_fd(),
                    rest.as_ptr().cast(),
                    rest.len(),
                    libc::MSG_NOSIGNAL | libc::MSG_DONTWAIT,
                )
            };
            if n >= 0 {
                rest = &rest[n as usize..];
                continue;
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EAGAIN) => {
                    if !wait_writable(fd, deadline) {
                        return Err(SendError::TimedOut {
                            partial: rest.len() < bytes.len(),
                        });
                    }
                }
                _ => {
                    return Err(SendError::Closed(format!(
                        "writing to its stdin failed: {err}"
                    )))
                }
            }
        }
        Ok(())
    }

    /// Closes our end: the extension reads end-of-file.
    pub fn close(&self) {
        self.lock().take();
    }

    fn lock(&self) -> MutexGuard<'_, Option<OwnedFd>> {
        self.fd.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Waits until `fd` can take more bytes; false when `deadline` passed first.
fn wait_writable(fd: &OwnedFd, deadline: Instant) -> bool {
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        let mut pfd = libc::pollfd {
            fd: fd.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        };
        // Round up so a sub-millisecond remainder does not spin.
        let ms = left.as_millis().saturating_add(1).min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        // Ready (or an error/hang-up, which the next send reports).
        if rc > 0 {
            return true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::time::Duration;

    #[test]
    fn writes_arrive_and_a_full_socket_times_out() {
        let (ours, theirs) = socket_pair().unwrap();
        let pipe = RequestPipe::new(ours);
        let soon = || Instant::now() + Duration::from_millis(100);
        pipe.send(b"hello\n", soon()).unwrap();
        let mut theirs = std::fs::File::from(theirs);
        let mut got = [0u8; 6];
        theirs.read_exact(&mut got).unwrap();
        assert_eq!(&got, b"hello\n");
        // Nobody reads: the socket buffer fills and the write gives up at the deadline.
        let big = vec![b'x'; 16 << 20];
        let started = Instant::now();
        match pipe.send(&big, soon()) {
            Err(SendError::TimedOut { partial: true }) => {}
            other => panic!("expected a partial timeout, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn writing_after_the_reader_is_gone_fails_as_closed() {
        let (ours, theirs) = socket_pair().unwrap();
        drop(theirs);
        let pipe = RequestPipe::new(ours);
        let far = Instant::now() + Duration::from_secs(5);
        assert!(matches!(pipe.send(b"x\n", far), Err(SendError::Closed(_))));
        pipe.close();
        match pipe.send(b"x\n", far) {
            Err(SendError::Closed(why)) => assert!(why.contains("closed")),
            other => panic!("{other:?}"),
        }
    }
}

//! A small file the store consults on many operations (`device.json`, an app's `bundle.json`),
//! parsed again only when it may have changed.
//!
//! Where the kernel reports changes along the path ([`changes`]), a read that finds no change since
//! the file was last looked at makes no system call of its own. Otherwise every read takes one
//! `stat` of the path and compares the file's identity, size, mtime and ctime (nanoseconds) with
//! those of the parsed copy; a difference means "read it again". Equal stamps prove nothing while
//! the file is young, though: file times are coarse (a kernel tick, whole seconds on some file
//! systems), so a same-size write within the tick of the last one leaves the stamp as it was. Until
//! the file has been untouched for [`SETTLE_SECS`], an equal stamp is therefore confirmed by reading
//! the bytes again through the descriptor kept from the last read (one `pread`) and comparing them
//! with the parsed ones. Afterwards the stamp alone decides: any later write sets the times to
//! "now", which differs from times that old. Either way a change is always seen.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use super::changes;
use crate::error::{Error, Result};

/// How long a file must have been untouched before its stamp alone is trusted.
const SETTLE_SECS: i64 = 2;

/// What identifies one version of a file without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    /// The stamp of `path` now; `None` when there is no such file.
    fn of(path: &Path) -> io::Result<Option<FileStamp>> {
        match fs::metadata(path) {
            Ok(m) => Ok(Some(FileStamp {
                dev: m.dev(),
                ino: m.ino(),
                size: m.size(),
                mtime: (m.mtime(), m.mtime_nsec()),
                ctime: (m.ctime(), m.ctime_nsec()),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the file was last touched long enough ago for the stamp to be trusted alone.
    fn settled(stamp: Option<FileStamp>) -> bool {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        stamp.is_none_or(|s| now - s.mtime.0.max(s.ctime.0) >= SETTLE_SECS)
    }
}

/// The parsed copy of one version of the file.
struct Seen<T> {
    stamp: Option<FileStamp>,
    /// The bytes `value` was parsed from (`None`: there was no file) and the descriptor they were
    /// read through, kept while the stamp alone is not trusted.
    bytes: Option<Vec<u8>>,
    file: Option<File>,
    settled: bool,
    /// The change-notification generation armed before the file was last looked at: while it is
    /// current, nothing about the file changed.
    armed: Option<u64>,
    value: T,
}

impl<T> Seen<T> {
    /// Whether the file still holds the bytes `value` was parsed from (the stamp being equal, the
    /// path names the same inode as `file`).
    fn same_bytes(&self) -> bool {
        let (Some(file), Some(bytes)) = (&self.file, &self.bytes) else {
            return false;
        };
        // One byte more than expected tells a grown file apart. Small files (the usual) are read
        // into the stack.
        let mut small = [0u8; 512];
        let mut large = Vec::new();
        let now: &mut [u8] = if bytes.len() < small.len() {
            &mut small[..bytes.len() + 1]
        } else {
            large.resize(bytes.len() + 1, 0);
            &mut large
        };
        let mut got = 0;
        while got < now.len() {
            match file.read_at(&mut now[got..], got as u64) {
                Ok(0) => break,
                // A short read of a regular file is its end: no second call to learn that.
                Ok(n) if got + n < now.len() => {
                    got += n;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return false,
            }
        }
        now[..got] == bytes[..]
    }
}

/// A file parsed into a `T`, re-parsed only when it may have changed (see the module docs).
pub(crate) struct Watched<T> {
    path: PathBuf,
    seen: Mutex<Option<Seen<T>>>,
    /// Set once arming change notification for the path failed (it would fail again).
    unwatchable: AtomicBool,
}

impl<T: Clone> Watched<T> {
    /// Watches `path` (nothing is read yet).
    pub fn new(path: PathBuf) -> Watched<T> {
        Watched {
            path,
            seen: Mutex::new(None),
            unwatchable: AtomicBool::new(false),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The value of the file as it is now: the cached one when the file provably did not change,
    /// else `parse` of its bytes (`None` when there is no file). A parse error is returned and
    /// nothing is cached.
    pub fn get(&self, parse: impl FnOnce(Option<&[u8]>) -> Result<T>) -> Result<T> {
        let generation = changes::generation();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let (Some(g), Some(s)) = (generation, seen.as_ref()) {
            if s.armed == Some(g) {
                return Ok(s.value.clone());
            }
        }
        // Armed before looking: a change after the look is an event.
        let armed = match generation.is_some() && !self.unwatchable.load(Ordering::Relaxed) {
            true => {
                let armed = changes::watch(&self.path, false);
                self.unwatchable.store(armed.is_none(), Ordering::Relaxed);
                armed
            }
            false => None,
        };
        let stamp = FileStamp::of(&self.path)
            .map_err(|e| Error::io(&e, format!("cannot read {}", self.path.display())))?;
        if let Some(s) = seen.as_mut() {
            if s.stamp == stamp && (s.settled || s.same_bytes()) {
                s.armed = armed;
                if !s.settled && FileStamp::settled(stamp) {
                    s.settled = true;
                    s.file = None;
                    s.bytes = None;
                }
                return Ok(s.value.clone());
            }
        }
        let (file, bytes) = match File::open(&self.path) {
            Ok(mut f) => {
                let mut b = Vec::new();
                io::Read::read_to_end(&mut f, &mut b)
                    .map_err(|e| Error::io(&e, format!("cannot read {}", self.path.display())))?;
                (Some(f), Some(b))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (None, None),
            Err(e) => {
                return Err(Error::io(
                    &e,
                    format!("cannot read {}", self.path.display()),
                ))
            }
        };
        let value = parse(bytes.as_deref())?;
        // The stamp was taken before the read: if the file changed in between, the next stamp
        // differs from this one (or, within the same tick, the bytes do) and it is read again.
        let settled = FileStamp::settled(stamp) && bytes.is_some() == stamp.is_some();
        *seen = Some(Seen {
            stamp,
            bytes: if settled { None } else { bytes },
            file: if settled { None } else { file },
            settled,
            armed,
            value: value.clone(),
        });
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_parses(w: &Watched<String>, calls: &std::cell::Cell<u32>) -> String {
        w.get(|b| {
            calls.set(calls.get() + 1);
            Ok(b.map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default())
        })
        .unwrap()
    }

    /// Runs `f` with change notification (where the file system has it) and with `stat`s only.
    fn both_ways(f: impl Fn()) {
        f();
        changes::OFF.with(|o| o.set(true));
        f();
        changes::OFF.with(|o| o.set(false));
    }

    #[test]
    fn a_young_file_is_compared_byte_for_byte_and_every_change_is_seen() {
        both_ways(young_file_changes);
    }

    fn young_file_changes() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("f.json");
        let w = Watched::new(path.clone());
        let calls = std::cell::Cell::new(0);
        assert_eq!(count_parses(&w, &calls), "", "no file");
        fs::write(&path, "aaaa").unwrap();
        assert_eq!(count_parses(&w, &calls), "aaaa");
        assert_eq!(count_parses(&w, &calls), "aaaa");
        assert_eq!(calls.get(), 2, "unchanged young file: not parsed again");
        // Same size, same inode, written at once: the stamp may well be equal; the bytes are not.
        fs::write(&path, "bbbb").unwrap();
        assert_eq!(count_parses(&w, &calls), "bbbb");
        fs::write(&path, "bbbbb").unwrap();
        assert_eq!(count_parses(&w, &calls), "bbbbb");
        let tmp = t.path().join("g.json");
        fs::write(&tmp, "ccccc").unwrap();
        fs::rename(&tmp, &path).unwrap();
        assert_eq!(count_parses(&w, &calls), "ccccc", "replaced by rename");
        fs::remove_file(&path).unwrap();
        assert_eq!(count_parses(&w, &calls), "", "removed");
    }

    #[test]
    fn a_parse_error_is_reported_every_time_and_not_cached() {
        both_ways(parse_errors);
    }

    fn parse_errors() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("f.json");
        fs::write(&path, "bad").unwrap();
        let w: Watched<u32> = Watched::new(path.clone());
        let parse = |b: Option<&[u8]>| match b {
            Some(b"bad") => Err(Error::new(crate::error::ErrorCode::InvalidArgument, "bad")),
            _ => Ok(1),
        };
        assert!(w.get(parse).is_err());
        assert!(w.get(parse).is_err());
        fs::write(&path, "good").unwrap();
        assert_eq!(w.get(parse).unwrap(), 1);
    }
}

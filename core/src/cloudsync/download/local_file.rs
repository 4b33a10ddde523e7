//! Evicting a local file safely: it is moved aside under a temp name (which the scan skips)
//! before its row changes, checked once out of reach, and deleted only after the row's change is
//! committed; if the change does not commit it goes back. Paths are resolved beneath the synced
//! folder without following symlinks ([`SyncedFolder`]).

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use crate::backup::archive::beneath::TEMP_PREFIX;
use crate::cloudsync::engine::SyncedFolder;
use crate::cloudsync::state_db::LocalStat;
use crate::error::{Error, ErrorCode, Result};

fn cstring(s: &str) -> Result<CString> {
    CString::new(s)
        .map_err(|_| Error::new(ErrorCode::InvalidArgument, format!("{s:?} has a NUL byte")))
}

fn fstatat(dir: &OwnedFd, name: &CString) -> io::Result<libc::stat> {
    // SAFETY: all-zero is a valid `stat`; it is only read after fstatat filled it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `dir` is an open fd, `name` a valid C string, `st` writable.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r == 0 {
        Ok(st)
    } else {
        Err(io::Error::last_os_error())
    }
}

fn rename_noreplace(dir: &OwnedFd, from: &CString, to: &CString) -> io::Result<()> {
    // SAFETY: a valid fd and C strings; RENAME_NOREPLACE never clobbers what is at `to`.
    let r = unsafe {
        libc::renameat2(
            dir.as_raw_fd(),
            from.as_ptr(),
            dir.as_raw_fd(),
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// A file moved aside for eviction: [`Parked::finish`] deletes it; dropping it unfinished puts
/// it back under its name (the row change it waited for did not commit).
pub(crate) struct Parked {
    dir: OwnedFd,
    name: CString,
    temp: CString,
    done: bool,
}

impl Parked {
    /// Moves the regular file `key` aside, provided its stat is still `expect` once it is out of
    /// reach (an edit that raced in keeps the file where it was: 13900001).
    pub(crate) fn park(folder: &SyncedFolder, key: &str, expect: &LocalStat) -> Result<Parked> {
        let gone = || Error::new(ErrorCode::NoSuchFile, format!("{key}: no local file"));
        let (parent, name) = match key.rsplit_once('/') {
            Some((p, n)) => (p, n),
            None => ("", key),
        };
        let dir = if parent.is_empty() {
            folder.root_dir()
        } else {
            folder.beneath().open_dir(Path::new(&folder.rel(parent)))
        };
        let dir = match dir {
            Ok(d) => d,
            Err(e) if matches!(e.code(), ErrorCode::NoSuchFile | ErrorCode::NotADirectory) => {
                return Err(gone())
            }
            Err(e) => return Err(e),
        };
        let temp = cstring(&format!(
            "{TEMP_PREFIX}evict-{}-{:x}",
            std::process::id(),
            next_serial()
        ))?;
        let name = cstring(name)?;
        rename_noreplace(&dir, &name, &temp).map_err(|e| {
            if e.raw_os_error() == Some(libc::ENOENT) {
                gone()
            } else {
                Error::io(&e, format!("cannot move {key} aside"))
            }
        })?;
        let parked = Parked {
            dir,
            name,
            temp,
            done: false,
        };
        // Checked after the move: from here on no one can open the file by its name.
        let st = fstatat(&parked.dir, &parked.temp)
            .map_err(|e| Error::io(&e, format!("cannot stat {key}")))?;
        let same = st.st_mode & libc::S_IFMT == libc::S_IFREG
            && crate::cloudsync::engine::folder::stat_of(&st) == *expect;
        if !same {
            return Err(Error::new(
                ErrorCode::OperationNotPermitted,
                format!("{key} has changes not uploaded yet"),
            )); // `parked` is dropped: the file goes back
        }
        Ok(parked)
    }

    /// Deletes the parked file.
    pub(crate) fn finish(mut self) -> Result<()> {
        self.done = true;
        // SAFETY: a valid fd and C string.
        if unsafe { libc::unlinkat(self.dir.as_raw_fd(), self.temp.as_ptr(), 0) } == 0 {
            Ok(())
        } else {
            let e = io::Error::last_os_error();
            Err(Error::io(&e, "cannot delete the evicted file"))
        }
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        if !self.done {
            // NOREPLACE: a file created under the name meanwhile wins; ours then stays under the
            // temp name, which the scan skips (its content is the cloud's, so nothing is lost).
            let _ = rename_noreplace(&self.dir, &self.temp, &self.name);
        }
    }
}

fn next_serial() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    SERIAL.fetch_add(1, Ordering::Relaxed)
}

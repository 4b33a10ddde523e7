//! The synced folder as the engine touches it: every path is a cloud key resolved beneath the
//! folder's anchor without following symlinks ([`Beneath`]), so neither a pull nor a scan can
//! reach outside it, whatever the app planted in its sandbox.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::rc::Rc;

use sha2::{Digest, Sha256};

use crate::backup::archive::beneath::TEMP_PREFIX;
use crate::backup::archive::Beneath;
use crate::cloudsync::scope::{SyncScope, APP_CLOUD_DIR};
use crate::cloudsync::state_db::LocalStat;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// What is at a key's path in the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// Nothing (also when a parent is missing or is not a directory).
    Absent,
    /// A regular file with this stat.
    File(LocalStat),
    /// A directory, symlink or special file: never synced, never replaced.
    Other,
}

/// One synced folder, opened for safe access by key.
#[derive(Debug)]
pub struct SyncedFolder {
    /// The anchor: the app's sandbox (which the app controls, so nothing below it is trusted) or
    /// the gallery folder itself.
    beneath: Beneath,
    /// The folder relative to the anchor, with a trailing `/` (empty for the gallery).
    prefix: String,
}

impl SyncedFolder {
    /// Opens the folder of `scope` on `device`, creating it when missing.
    pub fn open(device: &Device, scope: &SyncScope) -> Result<SyncedFolder> {
        match scope {
            SyncScope::App(_) => {
                // scope.local_dir = <sandbox>/data/storage/el2/cloud: anchor at the sandbox.
                let local = scope.local_dir(device);
                let depth = APP_CLOUD_DIR.trim_matches('/').split('/').count();
                let sandbox = local.ancestors().nth(depth).ok_or_else(|| {
                    Error::new(
                        ErrorCode::InvalidArgument,
                        "app cloud folder has no sandbox",
                    )
                })?;
                let beneath = Beneath::open(sandbox)?;
                let rel = APP_CLOUD_DIR.trim_matches('/');
                beneath.mkdirs(Path::new(rel), 0o755)?;
                Ok(SyncedFolder {
                    beneath,
                    prefix: format!("{rel}/"),
                })
            }
            SyncScope::Gallery => {
                let dir = scope.local_dir(device);
                std::fs::create_dir_all(&dir)
                    .map_err(|e| Error::io(&e, format!("cannot create {}", dir.display())))?;
                Ok(SyncedFolder {
                    beneath: Beneath::open(&dir)?,
                    prefix: String::new(),
                })
            }
        }
    }

    /// The anchor (for [`Beneath::move_into`] and friends).
    pub fn beneath(&self) -> &Beneath {
        &self.beneath
    }

    /// The path of `key` relative to the anchor.
    pub fn rel(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The folder's own directory, as a new open file (never a `dup`: a `dup` shares the read
    /// offset, and a second listing through it would start at the end and see nothing).
    pub fn root_dir(&self) -> Result<OwnedFd> {
        if self.prefix.is_empty() {
            open_subdir(self.beneath.root_fd(), c".")
                .map_err(|e| Error::io(&e, "cannot open the synced folder"))
        } else {
            self.beneath.open_dir(Path::new(&self.prefix))
        }
    }

    /// The directory holding `key` and the key's last component; `None` when that directory does
    /// not exist (or a file is in its place). A symlink on the way is an error, never followed.
    fn parent_of<'k>(&self, key: &'k str) -> Result<Option<(OwnedFd, &'k str)>> {
        let (parent, name) = match key.rfind('/') {
            Some(i) => (&key[..i], &key[i + 1..]),
            None => ("", key),
        };
        check_name(key, name)?;
        let dir = if parent.is_empty() {
            self.root_dir()
        } else {
            self.beneath.open_dir(Path::new(&self.rel(parent)))
        };
        match dir {
            Ok(fd) => Ok(Some((fd, name))),
            Err(e) if matches!(e.code(), ErrorCode::NoSuchFile | ErrorCode::NotADirectory) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// What is at `key` now.
    pub fn entry(&self, key: &str) -> Result<Entry> {
        let Some((dir, name)) = self.parent_of(key)? else {
            return Ok(Entry::Absent);
        };
        match fstatat_nofollow(dir.as_fd(), &cstr(name)?) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => Ok(Entry::File(stat_of(&st))),
            Ok(_) => Ok(Entry::Other),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(Entry::Absent),
            Err(e) => Err(Error::io(&e, format!("cannot stat {key}"))),
        }
    }

    /// Opens the regular file `key` for reading, with its stat; `None` when it is not there.
    pub fn open_file(&self, key: &str) -> Result<Option<(File, LocalStat)>> {
        match self.beneath.open_file_stat(Path::new(&self.rel(key))) {
            Ok((f, st)) => Ok(Some((f, stat_of(&st)))),
            Err(e) if matches!(e.code(), ErrorCode::NoSuchFile | ErrorCode::NotADirectory) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The upper-case hex SHA-256 of the regular file `key` and the stat it had when opened;
    /// `None` when it is not there.
    pub fn sha256_of(&self, key: &str) -> Result<Option<(String, LocalStat)>> {
        let Some((mut file, stat)) = self.open_file(key)? else {
            return Ok(None);
        };
        let mut hasher = Sha256::new();
        crate::cloudsync::local_store::with_copy_buffer(|buf| loop {
            match file.read(buf) {
                Ok(0) => return Ok(()),
                Ok(n) => hasher.update(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&e, format!("cannot read {key}"))),
            }
        })?;
        Ok(Some((upper_hex(&hasher.finalize()), stat)))
    }

    /// Removes the file `key` if it still has exactly `expected` as its stat (a file edited since
    /// is kept). Returns whether it was removed; missing counts as removed.
    pub fn remove_if_unchanged(&self, key: &str, expected: &LocalStat) -> Result<bool> {
        let Some((dir, name)) = self.parent_of(key)? else {
            return Ok(true);
        };
        let c = cstr(name)?;
        match fstatat_nofollow(dir.as_fd(), &c) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {
                if stat_of(&st) != *expected {
                    return Ok(false);
                }
            }
            Ok(_) => return Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(true),
            Err(e) => return Err(Error::io(&e, format!("cannot stat {key}"))),
        }
        // SAFETY: a valid dir fd and a NUL-terminated name.
        if unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) } != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::ENOENT) {
                return Err(Error::io(&e, format!("cannot remove {key}")));
            }
        }
        Ok(true)
    }

    /// Renames `from` to `to` (same folder, never replacing anything): `false` when `to` exists.
    pub fn rename_noreplace(&self, from: &str, to: &str) -> Result<bool> {
        let Some((src_dir, src_name)) = self.parent_of(from)? else {
            return Err(Error::new(
                ErrorCode::NoSuchFile,
                format!("{from}: its folder is gone"),
            ));
        };
        let Some((dst_dir, dst_name)) = self.parent_of(to)? else {
            return Err(Error::new(
                ErrorCode::NoSuchFile,
                format!("{to}: its folder is gone"),
            ));
        };
        let (s, d) = (cstr(src_name)?, cstr(dst_name)?);
        // SAFETY: valid dir fds and NUL-terminated names.
        let r = unsafe {
            libc::renameat2(
                src_dir.as_raw_fd(),
                s.as_ptr(),
                dst_dir.as_raw_fd(),
                d.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if r == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EEXIST) => Ok(false),
            _ => Err(Error::io(&e, format!("cannot rename {from} to {to}"))),
        }
    }

    /// Removes the now empty directories above `key`, deepest first, up to the folder (a
    /// directory that still holds anything stays).
    pub fn prune_empty_parents(&self, key: &str) {
        let mut parent = key;
        while let Some(i) = parent.rfind('/') {
            parent = &parent[..i];
            let (grand, name) = match parent.rfind('/') {
                Some(j) => (&parent[..j], &parent[j + 1..]),
                None => ("", parent),
            };
            let dir = if grand.is_empty() {
                self.root_dir()
            } else {
                self.beneath.open_dir(Path::new(&self.rel(grand)))
            };
            let (Ok(dir), Ok(c)) = (dir, cstr(name)) else {
                return;
            };
            // SAFETY: a valid dir fd and a NUL-terminated name; AT_REMOVEDIR only removes an
            // empty directory and never follows a symlink.
            if unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) } != 0 {
                return;
            }
        }
    }

    /// Every regular file of the folder, recursively, as `(key, stat)`: symlinks are not
    /// followed, special files and names that are not UTF-8 are passed over, and so are the
    /// `.ohfile-tmp-*` temps of writes in progress. An entry that vanishes during the scan is
    /// simply not there; any other failure fails the scan (a folder it could not read must not
    /// look empty, or its files would count as deleted).
    pub fn scan(&self) -> Result<Vec<(String, LocalStat)>> {
        let mut out = Vec::new();
        // Depth first; a directory stays open only while children of it wait to be opened, so
        // the open fds stay near the depth of the tree, whatever its breadth.
        let mut todo: Vec<(ParentDir, String)> = vec![(None, String::new())];
        while let Some((parent, prefix)) = todo.pop() {
            let read_error =
                |e: io::Error| Error::io(&e, format!("cannot read folder {}", shown_dir(&prefix)));
            let fd = match parent {
                None => self.root_dir()?,
                Some((p, name)) => match open_subdir(p.fd(), &name) {
                    Ok(fd) => fd,
                    Err(e) if vanished(&e) => continue,
                    Err(e) => return Err(read_error(e)),
                },
            };
            let dir = Rc::new(DirStream::new(fd).map_err(read_error)?);
            let mut failed = None;
            dir.for_each(|name, d_type| {
                let bytes = name.to_bytes();
                if bytes == b"." || bytes == b".." || bytes.starts_with(TEMP_PREFIX.as_bytes()) {
                    return;
                }
                let Ok(utf8) = std::str::from_utf8(bytes) else {
                    return;
                };
                let is_dir = match d_type {
                    libc::DT_DIR => true,
                    libc::DT_REG | libc::DT_UNKNOWN => false,
                    _ => return,
                };
                if !is_dir {
                    match fstatat_nofollow(dir.fd(), name) {
                        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG => {
                            out.push((format!("{prefix}{utf8}"), stat_of(&st)));
                            return;
                        }
                        // Only a DT_UNKNOWN entry may turn out to be a directory.
                        Ok(st)
                            if d_type == libc::DT_UNKNOWN
                                && st.st_mode & libc::S_IFMT == libc::S_IFDIR => {}
                        Ok(_) => return,
                        Err(e) if vanished(&e) => return,
                        Err(e) => {
                            failed.get_or_insert(e);
                            return;
                        }
                    }
                }
                todo.push((
                    Some((dir.clone(), name.to_owned())),
                    format!("{prefix}{utf8}/"),
                ));
            })
            .map_err(read_error)?;
            if let Some(e) = failed {
                return Err(read_error(e));
            }
        }
        Ok(out)
    }
}

/// Where a directory waiting to be scanned is: in this open directory under this name (`None`:
/// the folder itself).
type ParentDir = Option<(Rc<DirStream>, CString)>;

/// Whether an error says the entry is gone or is no longer what it was (replaced by a file or a
/// symlink): the scan sees the folder as it is.
fn vanished(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT) | Some(libc::ENOTDIR) | Some(libc::ELOOP)
    )
}

fn shown_dir(prefix: &str) -> &str {
    if prefix.is_empty() {
        "/"
    } else {
        prefix
    }
}

/// A last path component as a C string; one that could not be a file name here is refused.
fn check_name(key: &str, name: &str) -> Result<()> {
    if name.is_empty() || name == "." || name == ".." || name.starts_with(TEMP_PREFIX) {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{key:?} cannot name a file in the synced folder"),
        ));
    }
    Ok(())
}

fn cstr(name: &str) -> Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{name:?} has a NUL byte"),
        )
    })
}

/// The [`LocalStat`] of a `stat` (the same fields [`LocalStat::of`] reads from `Metadata`).
pub fn stat_of(st: &libc::stat) -> LocalStat {
    LocalStat {
        size: st.st_size as u64,
        mtime_ns: st.st_mtime * 1_000_000_000 + st.st_mtime_nsec,
        ino: st.st_ino,
    }
}

/// Upper-case hex, as the cloud reports SHA-256.
pub fn upper_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

fn fstatat_nofollow(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: valid fd, NUL-terminated name, `st` writable; filled on success.
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstatat succeeded, so `st` is initialised.
    Ok(unsafe { st.assume_init() })
}

fn open_subdir(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: valid fd and NUL-terminated name; the new fd is owned by the result.
    let fd = unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A `readdir` stream over an owned directory fd (the fd stays usable for `*at` calls).
/// Single-threaded by construction (it is neither `Send` nor `Sync`: it holds a raw pointer).
struct DirStream {
    dir: std::ptr::NonNull<libc::DIR>,
}

impl DirStream {
    fn new(fd: OwnedFd) -> io::Result<DirStream> {
        use std::os::fd::IntoRawFd;
        let raw = fd.into_raw_fd();
        // SAFETY: `raw` is an open directory fd; fdopendir takes it over on success.
        let dir = unsafe { libc::fdopendir(raw) };
        match std::ptr::NonNull::new(dir) {
            Some(dir) => Ok(DirStream { dir }),
            None => {
                let e = io::Error::last_os_error();
                // SAFETY: fdopendir failed, so the fd is still ours to close.
                unsafe { libc::close(raw) };
                Err(e)
            }
        }
    }

    fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the stream's fd lives as long as the stream.
        unsafe { BorrowedFd::borrow_raw(libc::dirfd(self.dir.as_ptr())) }
    }

    /// Calls `f` with each entry's name and `d_type`, in directory order. The name is only valid
    /// during the call (it lives in the stream's buffer), which saves copying every name.
    fn for_each(&self, mut f: impl FnMut(&CStr, u8)) -> io::Result<()> {
        loop {
            // readdir reports errors only through errno, so clear it first.
            // SAFETY: writing the thread's errno.
            unsafe { *libc::__errno_location() = 0 };
            // SAFETY: a valid open stream, used by this thread only.
            let ent = unsafe { libc::readdir64(self.dir.as_ptr()) };
            if ent.is_null() {
                let e = io::Error::last_os_error();
                return match e.raw_os_error() {
                    Some(0) | None => Ok(()),
                    Some(libc::EINTR) => continue,
                    _ => Err(e),
                };
            }
            // SAFETY: readdir returned a valid entry that lives until the next readdir call,
            // which happens only after `f` returns.
            let (name, d_type) = unsafe {
                let ent = &*ent;
                (CStr::from_ptr(ent.d_name.as_ptr()), ent.d_type)
            };
            f(name, d_type);
        }
    }
}

impl Drop for DirStream {
    fn drop(&mut self) {
        // SAFETY: the stream is open and owned by us; closedir closes its fd.
        unsafe { libc::closedir(self.dir.as_ptr()) };
    }
}

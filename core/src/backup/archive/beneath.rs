//! Safe placement of restored data beneath a sandbox root — the restore's security boundary.
//!
//! Every path is resolved from a held directory fd, never as a string: first with `openat2`
//! (`RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS`, one syscall), and when that
//! is missing or fails, with a walk of `openat(O_NOFOLLOW | O_DIRECTORY)` one component at a time,
//! which gives the authoritative answer and creates what is missing. Names with `..`, NUL bytes or
//! over-long parts are refused before any syscall. Files are written to an `O_EXCL` temp file in
//! their final directory, then `fchmod`/`futimens` (never by path) and `renameat` onto the final
//! name, so a file appears only when complete. No link, device or FIFO is ever created.

use std::ffi::{CStr, CString, OsStr};
use std::fs::File;
use std::io::{self, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::error::{Error, ErrorCode, Result};

/// Longest accepted relative path, in bytes (Linux `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;
/// Longest accepted path component, in bytes (Linux `NAME_MAX`).
pub const MAX_NAME_BYTES: usize = 255;
/// Prefix of the temp files a write goes through; reserved, no entry may use it.
pub const TEMP_PREFIX: &str = ".ohfile-tmp-";

/// Mode of the parent directories a write creates (the umask applies).
const PARENT_MODE: u32 = 0o755;
/// Copy buffer ceiling: 64 KiB stays in L2 (see perf-reliability-anchors §2.2).
const COPY_BUF: u64 = 64 * 1024;

// `openat2(2)`: <linux/openat2.h>. Defined here so the code does not depend on a libc version.
const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;

/// `struct open_how` of `openat2(2)`.
#[repr(C)]
struct OpenHow {
    flags: u64,
    mode: u64,
    resolve: u64,
}

const OPENAT2_UNKNOWN: u8 = 0;
const OPENAT2_YES: u8 = 1;
const OPENAT2_NO: u8 = 2;
/// Whether this kernel has `openat2` (learnt on first use; ENOSYS turns it off for good).
static OPENAT2: AtomicU8 = AtomicU8::new(OPENAT2_UNKNOWN);

/// Flags of every directory open: never follow the last component either.
const DIR_FLAGS: libc::c_int =
    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
/// Flags of a file opened for reading: `O_NONBLOCK` so a FIFO swapped in cannot hang us.
const READ_FLAGS: libc::c_int =
    libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;

/// Whether `openat2` is available on this kernel (probes it once if not known yet).
pub fn openat2_available() -> bool {
    if OPENAT2.load(Ordering::Relaxed) == OPENAT2_UNKNOWN {
        if let Ok(root) = File::open("/") {
            let _ = openat2(root.as_fd(), c".", DIR_FLAGS);
        }
    }
    OPENAT2.load(Ordering::Relaxed) == OPENAT2_YES
}

/// A directory under which paths are resolved without ever leaving it or following a symlink.
#[derive(Debug)]
pub struct Beneath {
    root: OwnedFd,
    /// Try `openat2` first (tests turn it off to exercise the component walk).
    use_openat2: bool,
    /// The folder the last write went into: archives list files folder by folder, so most
    /// writes reuse it instead of resolving their parent again.
    last_dir: std::sync::Mutex<Option<(Vec<u8>, OwnedFd)>>,
}

/// How a directory walk treats missing components.
#[derive(Clone, Copy)]
enum Create {
    /// Missing is an error.
    No,
    /// Missing directories are created with [`PARENT_MODE`].
    Parents,
    /// Like `Parents`, but the last directory, when created, gets exactly this mode.
    All(u32),
}

/// A directory fd: the root (borrowed) or one opened beneath it.
enum Dir<'a> {
    Root(BorrowedFd<'a>),
    Sub(OwnedFd),
}

impl Dir<'_> {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Dir::Root(fd) => *fd,
            Dir::Sub(fd) => fd.as_fd(),
        }
    }
}

/// Mode and times applied to a placed file.
#[derive(Clone, Copy)]
struct Meta {
    mode: u32,
    atime: (i64, i64),
    mtime: (i64, i64),
}

impl Beneath {
    /// Opens `root` (an existing directory; the path itself is trusted and may be reached
    /// through symlinks) as the anchor of every later resolution.
    pub fn open(root: &Path) -> Result<Beneath> {
        let c = cstring(root.as_os_str().as_bytes())
            .ok_or_else(|| Error::new(ErrorCode::InvalidArgument, "root path has a NUL byte"))?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: `c` is a valid NUL-terminated string; the returned fd is owned by us.
        let fd = cvt(unsafe { libc::open(c.as_ptr(), flags) })
            .map_err(|e| Error::io(&e, format!("cannot open {}", root.display())))?;
        // SAFETY: `fd` is a fresh descriptor nobody else owns.
        let root = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Beneath {
            root,
            use_openat2: true,
            last_dir: std::sync::Mutex::new(None),
        })
    }

    /// The root directory's fd (for `fstat`, `syncfs` and the like).
    pub fn root_fd(&self) -> BorrowedFd<'_> {
        self.root.as_fd()
    }

    /// Creates `rel` and any missing parents (never following symlinks; a symlink or non-directory
    /// in the way is an error) and returns the directory's fd. Parents are created `0o755` (less
    /// the umask); `rel` itself, when created, gets exactly `mode & 0o7777`. Existing directories
    /// keep their mode.
    pub fn mkdirs(&self, rel: &Path, mode: u32) -> Result<OwnedFd> {
        let comps = components(rel)?;
        match self.resolve_dir(&comps, Create::All(mode & 0o7777))? {
            Dir::Sub(fd) => Ok(fd),
            Dir::Root(fd) => fd
                .try_clone_to_owned()
                .map_err(|e| Error::io(&e, "cannot duplicate the root fd")),
        }
    }

    /// Opens the existing directory `rel` beneath the root.
    pub fn open_dir(&self, rel: &Path) -> Result<OwnedFd> {
        let comps = components(rel)?;
        match self.resolve_dir(&comps, Create::No)? {
            Dir::Sub(fd) => Ok(fd),
            Dir::Root(fd) => fd
                .try_clone_to_owned()
                .map_err(|e| Error::io(&e, "cannot duplicate the root fd")),
        }
    }

    /// Opens the existing regular file `rel` for reading, refusing symlinks anywhere on the way
    /// and anything that is not a regular file (a FIFO never blocks the open).
    pub fn open_file(&self, rel: &Path) -> Result<File> {
        self.open_file_stat(rel).map(|(f, _)| f)
    }

    /// [`Beneath::open_file`], with the `fstat` it made (callers need not stat again).
    pub fn open_file_stat(&self, rel: &Path) -> Result<(File, libc::stat)> {
        let comps = components(rel)?;
        let (last, parents) = split_last(&comps);
        let fd = match self.fast_open(&comps, READ_FLAGS) {
            Some(fd) => fd,
            None => {
                let dir = self.resolve_dir(parents, Create::No)?;
                openat(dir.fd(), &cstr_of(last), READ_FLAGS, 0)
                    .map_err(|e| resolve_error(&e, &comps))?
            }
        };
        let st = fstat(fd.as_fd()).map_err(|e| Error::io(&e, shown(&comps)))?;
        if st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("{}: not a regular file", shown(&comps)),
            ));
        }
        Ok((File::from(fd), st))
    }

    /// Writes `data` to `rel` atomically: into a fresh `.ohfile-tmp-<random>` in the destination
    /// directory (created as needed), then `fchmod(mode & 0o7777)`, `futimens(atime, mtime)` and
    /// `renameat` onto the final name. With `expected_len`, exactly that many bytes are read and a
    /// short read is 13500008 (the temp is removed). An existing directory at the final name is
    /// an error; an existing file or symlink there is replaced (a symlink's target is untouched).
    /// Returns the bytes written.
    pub fn write_file_atomic(
        &self,
        rel: &Path,
        mode: u32,
        atime: (i64, i64),
        mtime: (i64, i64),
        data: &mut dyn Read,
        expected_len: Option<u64>,
    ) -> Result<u64> {
        let comps = components(rel)?;
        let meta = Meta { mode, atime, mtime };
        let shown_name = shown(&comps);
        let mut fill = |file: &mut File| copy_data(data, file, expected_len, &shown_name);
        self.place_at(&comps, meta, &mut fill)
    }

    /// [`Beneath::write_file_atomic`] with the data taken from `len` bytes of `src` at `offset`,
    /// copied in the kernel (copy_file_range): how a restore copies an entry out of a tar part.
    /// Fewer bytes than `len` is 13500008, as for a short archive.
    #[allow(clippy::too_many_arguments)]
    pub fn write_file_atomic_range(
        &self,
        rel: &Path,
        mode: u32,
        atime: (i64, i64),
        mtime: (i64, i64),
        src: &File,
        offset: u64,
        len: u64,
    ) -> Result<u64> {
        let comps = components(rel)?;
        let meta = Meta { mode, atime, mtime };
        let shown_name = shown(&comps);
        let mut fill = |file: &mut File| copy_range(src, offset, file, len, &shown_name);
        self.place_at(&comps, meta, &mut fill)
    }

    /// Places a file at `comps` (its parent created as needed, and remembered for the next one).
    fn place_at(
        &self,
        comps: &[&[u8]],
        meta: Meta,
        fill: &mut dyn FnMut(&mut File) -> Result<u64>,
    ) -> Result<u64> {
        let (last, parents) = split_last(comps);
        if parents.is_empty() {
            return place(self.root.as_fd(), &cstr_of(last), &shown(comps), meta, fill);
        }
        let key = join(parents).into_bytes();
        let mut cache = self.last_dir.lock().unwrap_or_else(|p| p.into_inner());
        if cache.as_ref().map(|(k, _)| k != &key).unwrap_or(true) {
            let fd = match self.resolve_dir(parents, Create::Parents)? {
                Dir::Sub(fd) => fd,
                Dir::Root(fd) => fd.try_clone_to_owned().map_err(|e| Error::io(&e, "dup"))?,
            };
            *cache = Some((key, fd));
        }
        let dir = cache
            .as_ref()
            .map(|(_, fd)| fd.as_fd())
            .expect("filled above");
        place(dir, &cstr_of(last), &shown(comps), meta, fill)
    }

    /// Moves the complete regular file `src_name` of the directory `src_dir` (the restore temp
    /// folder, on the same filesystem) to `rel_dest` beneath the root with `renameat`, after
    /// `fchmod(mode & 0o7777)` and `futimens` on it. Missing parents are created; a directory at
    /// the destination is an error; a file or symlink there is replaced. Across filesystems the
    /// data is copied atomically instead and the source removed.
    pub fn move_into(
        &self,
        src_dir: BorrowedFd<'_>,
        src_name: &OsStr,
        rel_dest: &Path,
        mode: u32,
        atime: (i64, i64),
        mtime: (i64, i64),
    ) -> Result<()> {
        let src_bytes = src_name.as_bytes();
        let src_c = match cstring(src_bytes) {
            Some(c) if is_plain_name(src_bytes) => c,
            _ => {
                return Err(Error::new(
                    ErrorCode::InvalidArgument,
                    format!(
                        "source name {:?} is not a single file name",
                        lossy(src_bytes)
                    ),
                ))
            }
        };
        let src_shown = lossy(src_bytes);
        let src = openat(src_dir, &src_c, READ_FLAGS, 0)
            .map_err(|e| Error::io(&e, format!("cannot open {src_shown}")))?;
        let src_st = fstat(src.as_fd()).map_err(|e| Error::io(&e, &src_shown))?;
        if src_st.st_mode & libc::S_IFMT != libc::S_IFREG {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("{src_shown}: not a regular file"),
            ));
        }

        let comps = components(rel_dest)?;
        let (last, parents) = split_last(&comps);
        let dir = self.resolve_dir(parents, Create::Parents)?;
        let name = cstr_of(last);
        let dest = shown(&comps);
        refuse_directory(dir.fd(), &name, &dest)?;

        set_mode_and_times(src.as_fd(), Meta { mode, atime, mtime }, &dest)?;
        match renameat(src_dir, &src_c, dir.fd(), &name) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
                let meta = Meta { mode, atime, mtime };
                let mut reader = File::from(src);
                let len = Some(src_st.st_size as u64);
                let mut fill = |file: &mut File| copy_data(&mut reader, file, len, &dest);
                place(dir.fd(), &name, &dest, meta, &mut fill)?;
                return unlinkat(src_dir, &src_c, 0)
                    .map_err(|e| Error::io(&e, format!("cannot remove {src_shown}")));
            }
            Err(e) => return Err(rename_error(&e, &dest)),
        }
        // The name could have been swapped between our open and the rename: make sure what now
        // sits at the destination is the file we checked, or take it away again.
        match fstatat_nofollow(dir.fd(), &name) {
            Ok(st) if st.st_dev == src_st.st_dev && st.st_ino == src_st.st_ino => Ok(()),
            _ => {
                let _ = unlinkat(dir.fd(), &name, 0);
                Err(Error::new(
                    ErrorCode::UntarFailed,
                    format!("{src_shown} changed while it was moved to {dest}"),
                ))
            }
        }
    }

    /// Sets the mode (`& 0o7777`) and mtime of the existing directory `rel` through its fd (the
    /// atime is left alone). Used after a directory's content is in place.
    pub fn set_dir_times(&self, rel: &Path, mode: u32, mtime: (i64, i64)) -> Result<()> {
        let comps = components(rel)?;
        let dir = self.resolve_dir(&comps, Create::No)?;
        let what = shown(&comps);
        fchmod(dir.fd(), mode & 0o7777).map_err(|e| Error::io(&e, format!("chmod {what}")))?;
        futimens(dir.fd(), None, mtime).map_err(|e| Error::io(&e, format!("set times {what}")))
    }

    /// Flushes the root's filesystem (`syncfs`): one durable point after a batch of writes.
    pub fn sync(&self) -> Result<()> {
        // SAFETY: the fd is valid for the lifetime of `self`.
        cvt(unsafe { libc::syncfs(self.root.as_raw_fd()) })
            .map(drop)
            .map_err(|e| Error::io(&e, "syncfs"))
    }

    /// Tries the one-syscall `openat2` resolution of `comps` beneath the root. `None` means "use
    /// the component walk" (unavailable, or failed: the walk then gives the precise error).
    fn fast_open(&self, comps: &[&[u8]], flags: libc::c_int) -> Option<OwnedFd> {
        if !self.use_openat2 || OPENAT2.load(Ordering::Relaxed) == OPENAT2_NO {
            return None;
        }
        openat2(self.root.as_fd(), &join(comps), flags).ok()
    }

    /// Opens the directory `comps` beneath the root, creating missing parts as `create` says.
    fn resolve_dir(&self, comps: &[&[u8]], create: Create) -> Result<Dir<'_>> {
        if comps.is_empty() {
            return Ok(Dir::Root(self.root.as_fd()));
        }
        if let Some(fd) = self.fast_open(comps, DIR_FLAGS) {
            return Ok(Dir::Sub(fd));
        }
        let mut cur = Dir::Root(self.root.as_fd());
        for (i, comp) in comps.iter().enumerate() {
            let name = cstr_of(comp);
            let upto = &comps[..=i];
            let next = match open_subdir(cur.fd(), &name) {
                Ok(fd) => fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    let last = i + 1 == comps.len();
                    let mode = match create {
                        Create::No => return Err(resolve_error(&e, upto)),
                        Create::All(m) if last => m,
                        _ => PARENT_MODE,
                    };
                    let created = match mkdirat(cur.fd(), &name, mode) {
                        Ok(()) => true,
                        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => false, // a race: fine
                        Err(e) => return Err(resolve_error(&e, upto)),
                    };
                    // Opened again with O_NOFOLLOW: a symlink raced in now fails, it is not followed.
                    let fd = open_subdir(cur.fd(), &name).map_err(|e| resolve_error(&e, upto))?;
                    if let (true, Create::All(m)) = (created && last, create) {
                        fchmod(fd.as_fd(), m).map_err(|e| Error::io(&e, shown(upto)))?;
                    }
                    fd
                }
                Err(e) => return Err(resolve_error(&e, upto)),
            };
            cur = Dir::Sub(next);
        }
        Ok(cur)
    }

    /// The same anchor with `openat2` on or off (tests run both resolution paths).
    #[cfg(test)]
    pub(crate) fn with_openat2(mut self, on: bool) -> Beneath {
        self.use_openat2 = on;
        self
    }
}

/// Opens the directory `name` in `dir` without following it. A symlink fails with ELOOP (the
/// kernel says ENOTDIR for `O_DIRECTORY | O_NOFOLLOW` on one; ask, to report it as what it is).
fn open_subdir(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<OwnedFd> {
    openat(dir, name, DIR_FLAGS, 0).map_err(|e| {
        let is_link = e.raw_os_error() == Some(libc::ENOTDIR)
            && fstatat_nofollow(dir, name)
                .is_ok_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFLNK);
        if is_link {
            io::Error::from_raw_os_error(libc::ELOOP)
        } else {
            e
        }
    })
}

/// Fills a temp file in `dir` (with `fill`), then mode, times and rename onto `name`.
fn place(
    dir: BorrowedFd<'_>,
    name: &CStr,
    shown: &str,
    meta: Meta,
    fill: &mut dyn FnMut(&mut File) -> Result<u64>,
) -> Result<u64> {
    // No pre-check for a directory in the way: renameat refuses it (EISDIR) and says so.
    let direct = create_mode_is_final(meta.mode);
    let (tmp_name, file) = create_temp(dir, shown, if direct { meta.mode & 0o777 } else { 0o600 })?;
    let result = (|| {
        let mut file = File::from(file);
        let written = fill(&mut file)?;
        if direct {
            futimens(file.as_fd(), Some(meta.atime), meta.mtime)
                .map_err(|e| Error::io(&e, format!("set times of {shown}")))?;
        } else {
            set_mode_and_times(file.as_fd(), meta, shown)?;
        }
        renameat(dir, &tmp_name, dir, name).map_err(|e| rename_error(&e, shown))?;
        Ok(written)
    })();
    if result.is_err() {
        let _ = unlinkat(dir, &tmp_name, 0);
    }
    result
}

/// Entries up to this size are copied through a buffer instead of copy_file_range.
const SMALL_COPY: u64 = 256 * 1024;

/// Copies `len` bytes of `src` from `offset` to `out`'s position in the kernel; where
/// copy_file_range cannot (another filesystem type, old kernel), with pread/write.
fn copy_range(src: &File, offset: u64, out: &mut File, len: u64, shown: &str) -> Result<u64> {
    let short = |done: u64| {
        Error::new(
            ErrorCode::UntarFailed,
            format!("{shown}: the data ends after {done} of {len} bytes"),
        )
    };
    if len <= SMALL_COPY {
        // Small files: one pread and one write cost less than the kernel's splice machinery.
        let mut buf = vec![0u8; len as usize];
        let mut got = 0usize;
        while got < buf.len() {
            match std::os::unix::fs::FileExt::read_at(src, &mut buf[got..], offset + got as u64) {
                Ok(0) => return Err(short(got as u64)),
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(Error::new(
                        ErrorCode::UntarFailed,
                        format!("{shown}: cannot read the data: {e}"),
                    ))
                }
            }
        }
        out.write_all(&buf)
            .map_err(|e| Error::io(&e, format!("cannot write {shown}")))?;
        return Ok(len);
    }
    let mut off_in = offset as libc::loff_t;
    let mut done = 0u64;
    while done < len {
        let want = (len - done).min(1 << 30) as usize;
        // SAFETY: both fds are open for the call; NULL out-offset = the file position.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut off_in,
                out.as_raw_fd(),
                std::ptr::null_mut(),
                want,
                0,
            )
        };
        if n > 0 {
            done += n as u64;
            continue;
        }
        if n == 0 {
            return Err(short(done));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EXDEV)
            | Some(libc::EINVAL)
            | Some(libc::ENOSYS)
            | Some(libc::EOPNOTSUPP) => {
                let mut buf = vec![0u8; (len - done).clamp(1, COPY_BUF) as usize];
                while done < len {
                    let want = (len - done).min(buf.len() as u64) as usize;
                    let n =
                        std::os::unix::fs::FileExt::read_at(src, &mut buf[..want], offset + done)
                            .map_err(|e| {
                            Error::new(
                                ErrorCode::UntarFailed,
                                format!("{shown}: cannot read the data: {e}"),
                            )
                        })?;
                    if n == 0 {
                        return Err(short(done));
                    }
                    out.write_all(&buf[..n])
                        .map_err(|e| Error::io(&e, format!("cannot write {shown}")))?;
                    done += n as u64;
                }
            }
            _ => return Err(Error::io(&e, format!("cannot write {shown}"))),
        }
    }
    Ok(done)
}

/// Copies `data` into `out`: up to `expected_len` bytes (all of them, or it is an error).
fn copy_data(
    data: &mut dyn Read,
    out: &mut File,
    expected_len: Option<u64>,
    shown: &str,
) -> Result<u64> {
    let limit = expected_len.unwrap_or(u64::MAX);
    let mut buf = vec![0u8; limit.clamp(1, COPY_BUF) as usize];
    let mut done = 0u64;
    while done < limit {
        let want = (limit - done).min(buf.len() as u64) as usize;
        let n = match data.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::new(
                    ErrorCode::UntarFailed,
                    format!("{shown}: cannot read the data: {e}"),
                ))
            }
        };
        out.write_all(&buf[..n])
            .map_err(|e| Error::io(&e, format!("cannot write {shown}")))?;
        done += n as u64;
    }
    if let Some(len) = expected_len {
        if done < len {
            return Err(Error::new(
                ErrorCode::UntarFailed,
                format!("{shown}: the data ends after {done} of {len} bytes"),
            ));
        }
    }
    Ok(done)
}

/// The process's umask, read once from /proc (umask(2) would have to change it to read it).
fn process_umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| {
                    l.strip_prefix("Umask:")
                        .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
                })
            })
            .unwrap_or(0o777) // unknown: never trust the create mode, always fchmod
    })
}

/// Whether creating with `mode` already gives exactly `mode` (no special bits, nothing the
/// umask would strip): then the file needs no fchmod.
fn create_mode_is_final(mode: u32) -> bool {
    mode & 0o7000 == 0 && mode & 0o777 & process_umask() == 0
}

/// Creates `.ohfile-tmp-<random>` in `dir` with `O_CREAT | O_EXCL | O_NOFOLLOW`.
fn create_temp(dir: BorrowedFd<'_>, shown: &str, mode: u32) -> Result<(CString, OwnedFd)> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    let mut last_err = None;
    for _ in 0..16 {
        let name = CString::new(format!("{TEMP_PREFIX}{:016x}", random_u64()))
            .expect("hex digits have no NUL");
        match openat(dir, &name, flags, mode) {
            Ok(fd) => return Ok((name, fd)),
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) => last_err = Some(e),
            Err(e) => {
                return Err(Error::io(
                    &e,
                    format!("cannot create a temp file for {shown}"),
                ))
            }
        }
    }
    let e = last_err.unwrap_or_else(|| io::Error::from_raw_os_error(libc::EEXIST));
    Err(Error::io(
        &e,
        format!("cannot create a temp file for {shown}"),
    ))
}

/// An existing directory at the final name is an error (a rename would fail anyway; say why).
fn refuse_directory(dir: BorrowedFd<'_>, name: &CStr, shown: &str) -> Result<()> {
    match fstatat_nofollow(dir, name) {
        Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => Err(Error::new(
            ErrorCode::IsADirectory,
            format!("{shown}: a directory is in the way"),
        )),
        _ => Ok(()),
    }
}

fn set_mode_and_times(fd: BorrowedFd<'_>, meta: Meta, shown: &str) -> Result<()> {
    fchmod(fd, meta.mode & 0o7777).map_err(|e| Error::io(&e, format!("chmod {shown}")))?;
    futimens(fd, Some(meta.atime), meta.mtime)
        .map_err(|e| Error::io(&e, format!("set times {shown}")))
}

fn rename_error(e: &io::Error, shown: &str) -> Error {
    match e.raw_os_error() {
        Some(libc::EISDIR) | Some(libc::ENOTEMPTY) | Some(libc::EEXIST) => Error::new(
            ErrorCode::IsADirectory,
            format!("{shown}: a directory is in the way"),
        ),
        _ => Error::io(e, format!("cannot rename into {shown}")),
    }
}

/// An error resolving `comps` (the path up to the failing component).
fn resolve_error(e: &io::Error, comps: &[&[u8]]) -> Error {
    let what = shown(comps);
    match e.raw_os_error() {
        Some(libc::ELOOP) => Error::new(
            ErrorCode::TooManySymlinks,
            format!("{what}: is a symbolic link, which is never followed"),
        ),
        Some(libc::ENOTDIR) => Error::new(
            ErrorCode::NotADirectory,
            format!("{what}: is not a directory"),
        ),
        _ => Error::io(e, what),
    }
}

/// Splits `rel` into checked components (borrowed from it). Leading `/`, empty and `.` parts are
/// dropped (tar names are absolute sandbox paths); `..`, NUL bytes, parts over 255 bytes, paths
/// over 4096 bytes, reserved temp names and paths naming nothing are refused (13900020).
pub(crate) fn components(rel: &Path) -> Result<Vec<&[u8]>> {
    let bytes = rel.as_os_str().as_bytes();
    if bytes.len() > MAX_PATH_BYTES {
        return Err(invalid(bytes, "is longer than 4096 bytes"));
    }
    if bytes.contains(&0) {
        return Err(invalid(bytes, "contains a NUL byte"));
    }
    let mut comps = Vec::new();
    for comp in bytes.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => return Err(invalid(bytes, "has a '..' component")),
            c if c.len() > MAX_NAME_BYTES => {
                return Err(invalid(bytes, "has a component longer than 255 bytes"))
            }
            c if c.starts_with(TEMP_PREFIX.as_bytes()) => {
                return Err(invalid(bytes, "uses the reserved temp-file prefix"))
            }
            c => comps.push(c),
        }
    }
    if comps.is_empty() {
        return Err(invalid(bytes, "names no file"));
    }
    Ok(comps)
}

fn invalid(bytes: &[u8], why: &str) -> Error {
    Error::new(
        ErrorCode::InvalidArgument,
        format!("path {:?} {why}", lossy(bytes)),
    )
}

/// A single plain file name: not empty, `.` or `..`, no `/` or NUL, at most 255 bytes.
fn is_plain_name(b: &[u8]) -> bool {
    !b.is_empty()
        && b != b"."
        && b != b".."
        && b.len() <= MAX_NAME_BYTES
        && !b.contains(&b'/')
        && !b.contains(&0)
}

fn split_last<'a, 'b>(comps: &'b [&'a [u8]]) -> (&'a [u8], &'b [&'a [u8]]) {
    match comps.split_last() {
        Some((last, parents)) => (last, parents),
        None => (b"", comps), // components() never returns an empty list
    }
}

/// The path as the app sees it (`/a/b`), shortened for messages.
fn shown(comps: &[&[u8]]) -> String {
    let mut s = String::new();
    for c in comps {
        s.push('/');
        s.push_str(&String::from_utf8_lossy(c));
    }
    shorten(s)
}

fn lossy(bytes: &[u8]) -> String {
    shorten(String::from_utf8_lossy(bytes).into_owned())
}

fn shorten(mut s: String) -> String {
    const MAX: usize = 300;
    if s.len() > MAX {
        let mut cut = MAX;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

fn join(comps: &[&[u8]]) -> CString {
    let mut v = Vec::with_capacity(comps.iter().map(|c| c.len() + 1).sum());
    for (i, c) in comps.iter().enumerate() {
        if i > 0 {
            v.push(b'/');
        }
        v.extend_from_slice(c);
    }
    CString::new(v).unwrap_or_default() // components() refused NUL bytes
}

fn cstring(bytes: &[u8]) -> Option<CString> {
    CString::new(bytes).ok()
}

/// A checked component as a C string (components() refused NUL bytes).
fn cstr_of(comp: &[u8]) -> CString {
    CString::new(comp).unwrap_or_default()
}

/// Unpredictable temp-name numbers at the cost of one getrandom per process: a random seed
/// stepped by a counter (O_EXCL settles any collision).
fn random_u64() -> u64 {
    static SEED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    static STEP: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(seed_u64);
    seed.wrapping_add(
        STEP.fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
}

fn seed_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is valid for 8 bytes of writes.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n == 8 {
        return u64::from_ne_bytes(buf);
    }
    // No entropy yet: uniqueness is all O_EXCL needs.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32) ^ COUNTER.fetch_add(1, Ordering::Relaxed)
}

// Thin syscall wrappers: errors as io::Error, fds as OwnedFd, EINTR retried.

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn retry<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: libc::c_int, mode: u32) -> io::Result<OwnedFd> {
    retry(|| {
        // SAFETY: `name` is NUL-terminated; the fd returned is fresh and becomes owned.
        let fd = cvt(unsafe { libc::openat(dir.as_raw_fd(), name.as_ptr(), flags, mode) })?;
        // SAFETY: as above.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    })
}

fn openat2(dir: BorrowedFd<'_>, path: &CStr, flags: libc::c_int) -> io::Result<OwnedFd> {
    let how = OpenHow {
        flags: flags as u64,
        mode: 0,
        resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    let r = retry(|| {
        // SAFETY: `path` is NUL-terminated and `how` is a valid open_how of the size passed.
        let r = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                dir.as_raw_fd(),
                path.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(r as libc::c_int)
        }
    });
    match r {
        Ok(fd) => {
            OPENAT2.store(OPENAT2_YES, Ordering::Relaxed);
            // SAFETY: a fresh descriptor nobody else owns.
            Ok(unsafe { OwnedFd::from_raw_fd(fd) })
        }
        Err(e) => {
            if e.raw_os_error() == Some(libc::ENOSYS) {
                OPENAT2.store(OPENAT2_NO, Ordering::Relaxed);
            }
            Err(e)
        }
    }
}

fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    retry(|| cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode) }).map(drop))
}

fn renameat(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
) -> io::Result<()> {
    retry(|| {
        // SAFETY: both names are NUL-terminated.
        cvt(unsafe {
            libc::renameat(
                from_dir.as_raw_fd(),
                from.as_ptr(),
                to_dir.as_raw_fd(),
                to.as_ptr(),
            )
        })
        .map(drop)
    })
}

fn unlinkat(dir: BorrowedFd<'_>, name: &CStr, flags: libc::c_int) -> io::Result<()> {
    // SAFETY: `name` is NUL-terminated.
    retry(|| cvt(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), flags) }).map(drop))
}

fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is valid for writes of a `stat`; it is initialised when fstat succeeds.
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: fstat succeeded.
    Ok(unsafe { st.assume_init() })
}

fn fstatat_nofollow(dir: BorrowedFd<'_>, name: &CStr) -> io::Result<libc::stat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: as in `fstat`; `name` is NUL-terminated.
    cvt(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    // SAFETY: fstatat succeeded.
    Ok(unsafe { st.assume_init() })
}

fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> io::Result<()> {
    // SAFETY: a plain syscall on a valid fd.
    retry(|| cvt(unsafe { libc::fchmod(fd.as_raw_fd(), mode) }).map(drop))
}

/// `futimens`; `atime: None` leaves the access time alone.
fn futimens(fd: BorrowedFd<'_>, atime: Option<(i64, i64)>, mtime: (i64, i64)) -> io::Result<()> {
    let omit = libc::timespec {
        tv_sec: 0,
        tv_nsec: libc::UTIME_OMIT,
    };
    let times = [atime.map(timespec).unwrap_or(omit), timespec(mtime)];
    // SAFETY: `times` holds two valid timespecs.
    retry(|| cvt(unsafe { libc::futimens(fd.as_raw_fd(), times.as_ptr()) }).map(drop))
}

/// A timespec from (seconds, nanoseconds); out-of-range nanoseconds become 0.
fn timespec((secs, nanos): (i64, i64)) -> libc::timespec {
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: if (0..1_000_000_000).contains(&nanos) {
            nanos as libc::c_long
        } else {
            0
        },
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    /// Both resolution strategies, for tests that must hold under each.
    pub(crate) fn both(root: &Path) -> Vec<Beneath> {
        vec![
            Beneath::open(root).unwrap().with_openat2(true),
            Beneath::open(root).unwrap().with_openat2(false),
        ]
    }

    /// Every `.ohfile-tmp-*` left under `dir` (symlinks are not followed).
    pub(crate) fn leftover_temps(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let Ok(rd) = fs::read_dir(dir) else {
            return out;
        };
        for e in rd.flatten() {
            let name = e.file_name();
            if name.to_string_lossy().starts_with(TEMP_PREFIX) {
                out.push(e.path().display().to_string());
            }
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                out.extend(leftover_temps(&e.path()));
            }
        }
        out
    }

    fn write(b: &Beneath, rel: &str, data: &[u8]) -> Result<u64> {
        b.write_file_atomic(
            Path::new(rel),
            0o640,
            (1_500_000_000, 5),
            (1_600_000_000, 123_456_789),
            &mut &data[..],
            Some(data.len() as u64),
        )
    }

    #[test]
    fn reports_whether_openat2_is_available() {
        // Not an assertion about the kernel: the report says which path this host exercised.
        eprintln!("openat2 available: {}", openat2_available());
    }

    #[test]
    fn components_strip_leading_slashes_and_refuse_bad_names() {
        let ok = |s: &str| -> Vec<String> {
            components(Path::new(s))
                .unwrap()
                .iter()
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect()
        };
        assert_eq!(
            ok("/data/storage//el2/./a.txt"),
            ["data", "storage", "el2", "a.txt"]
        );
        assert_eq!(ok("dir/"), ["dir"]);
        for bad in [
            "",
            "/",
            "./",
            "..",
            "../x",
            "/../x",
            "a/../../x",
            "a/..",
            ".ohfile-tmp-1234",
            "a/.ohfile-tmp-x/b",
        ] {
            let e = components(Path::new(bad)).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{bad:?}");
        }
        let nul = OsStr::from_bytes(b"a\0b");
        assert!(components(Path::new(nul))
            .unwrap_err()
            .detail()
            .contains("NUL"));
        let long_comp = "x".repeat(256);
        assert!(components(Path::new(&long_comp)).is_err());
        assert!(components(Path::new(&"x".repeat(255))).is_ok());
        let long_path = "abcdefgh/".repeat(456) + "z"; // 4105 bytes
        assert!(components(Path::new(&long_path))
            .unwrap_err()
            .detail()
            .contains("4096"));
    }

    #[test]
    fn write_file_atomic_places_content_mode_and_times() {
        let t = tempfile::tempdir().unwrap();
        for (i, b) in both(t.path()).iter().enumerate() {
            let rel = format!("/data/storage/el2/base/files/{i}/a.txt");
            assert_eq!(write(b, &rel, b"hello").unwrap(), 5);
            let p = t.path().join(rel.trim_start_matches('/'));
            let m = fs::metadata(&p).unwrap(); // before reading: relatime may move the atime
            assert_eq!(fs::read(&p).unwrap(), b"hello");
            assert_eq!(m.mode() & 0o7777, 0o640);
            assert_eq!((m.mtime(), m.mtime_nsec()), (1_600_000_000, 123_456_789));
            assert_eq!((m.atime(), m.atime_nsec()), (1_500_000_000, 5));
            // Overwrite: the later content wins.
            write(b, &rel, b"second").unwrap();
            assert_eq!(fs::read(&p).unwrap(), b"second");
        }
        assert!(leftover_temps(t.path()).is_empty());
    }

    #[test]
    fn a_short_read_leaves_nothing_behind() {
        let t = tempfile::tempdir().unwrap();
        for b in both(t.path()) {
            let e = b
                .write_file_atomic(
                    Path::new("d/short.bin"),
                    0o600,
                    (0, 0),
                    (0, 0),
                    &mut &b"abc"[..],
                    Some(10),
                )
                .unwrap_err();
            assert_eq!(e.code(), ErrorCode::UntarFailed);
            assert!(e.detail().contains("3 of 10"), "{e}");
            assert!(!t.path().join("d/short.bin").exists());
            assert!(leftover_temps(t.path()).is_empty());
        }
        // A failing reader is reported the same way, and also leaves nothing.
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        let b = Beneath::open(t.path()).unwrap();
        let e = b
            .write_file_atomic(Path::new("x"), 0o600, (0, 0), (0, 0), &mut Broken, None)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::UntarFailed);
        assert!(!t.path().join("x").exists());
        assert!(leftover_temps(t.path()).is_empty());
    }

    #[test]
    fn symlinks_on_the_way_are_never_followed() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let outside = t.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("secret"), b"keep").unwrap();
        symlink(&outside, root.join("dirlink")).unwrap();
        symlink("../outside", root.join("rellink")).unwrap();
        for b in both(&root) {
            for rel in ["dirlink/x", "rellink/x", "rellink/sub/x", "dirlink/secret"] {
                let e = write(&b, rel, b"pwned").unwrap_err();
                assert_eq!(e.code(), ErrorCode::TooManySymlinks, "{rel}: {e}");
            }
            assert_eq!(
                b.mkdirs(Path::new("dirlink/sub"), 0o755)
                    .unwrap_err()
                    .code(),
                ErrorCode::TooManySymlinks
            );
            assert!(b.mkdirs(Path::new("dirlink"), 0o755).is_err());
            assert!(b
                .set_dir_times(Path::new("dirlink"), 0o777, (1, 0))
                .is_err());
            assert!(b.open_file(Path::new("rellink/secret")).is_err());
            assert!(b.open_dir(Path::new("dirlink")).is_err());
        }
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
        assert_eq!(fs::read(outside.join("secret")).unwrap(), b"keep");
        assert_ne!(fs::metadata(&outside).unwrap().mode() & 0o777, 0o777);
    }

    #[test]
    fn a_symlink_at_the_final_name_is_replaced_not_written_through() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let outside = t.path().join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("target"), b"original").unwrap();
        for b in both(&root) {
            let _ = fs::remove_file(root.join("link"));
            symlink(outside.join("target"), root.join("link")).unwrap();
            write(&b, "link", b"replaced").unwrap();
            let m = fs::symlink_metadata(root.join("link")).unwrap();
            assert!(m.file_type().is_file());
            assert_eq!(fs::read(root.join("link")).unwrap(), b"replaced");
            assert_eq!(fs::read(outside.join("target")).unwrap(), b"original");
        }
    }

    #[test]
    fn a_directory_or_file_in_the_way_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("d/sub")).unwrap();
        fs::write(t.path().join("f"), b"file").unwrap();
        for b in both(t.path()) {
            assert_eq!(
                write(&b, "d/sub", b"x").unwrap_err().code(),
                ErrorCode::IsADirectory
            );
            assert_eq!(
                write(&b, "f/x", b"x").unwrap_err().code(),
                ErrorCode::NotADirectory
            );
            assert_eq!(
                b.mkdirs(Path::new("f"), 0o755).unwrap_err().code(),
                ErrorCode::NotADirectory
            );
        }
        assert!(t.path().join("d/sub").is_dir());
        assert_eq!(fs::read(t.path().join("f")).unwrap(), b"file");
        assert!(leftover_temps(t.path()).is_empty());
    }

    #[test]
    fn mkdirs_creates_missing_dirs_with_the_mode_and_keeps_existing_ones() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("keep")).unwrap();
        fs::set_permissions(t.path().join("keep"), fs::Permissions::from_mode(0o711)).unwrap();
        for (i, b) in both(t.path()).iter().enumerate() {
            let rel = format!("keep/n{i}/deep");
            let fd = b.mkdirs(Path::new(&rel), 0o750).unwrap();
            assert_eq!(fstat(fd.as_fd()).unwrap().st_mode & 0o7777, 0o750);
            assert_eq!(
                fs::metadata(t.path().join(&rel)).unwrap().mode() & 0o7777,
                0o750
            );
            // Again: exists, nothing changes.
            b.mkdirs(Path::new(&rel), 0o700).unwrap();
            assert_eq!(
                fs::metadata(t.path().join(&rel)).unwrap().mode() & 0o7777,
                0o750
            );
        }
        assert_eq!(
            fs::metadata(t.path().join("keep")).unwrap().mode() & 0o7777,
            0o711
        );
        let b = Beneath::open(t.path()).unwrap();
        b.set_dir_times(Path::new("keep"), 0o750, (1_234_567_890, 42))
            .unwrap();
        let m = fs::metadata(t.path().join("keep")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o750);
        assert_eq!((m.mtime(), m.mtime_nsec()), (1_234_567_890, 42));
    }

    #[test]
    fn open_file_reads_regular_files_only() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir(t.path().join("d")).unwrap();
        fs::write(t.path().join("d/f"), b"data").unwrap();
        let fifo = CString::new(t.path().join("d/fifo").as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid path string.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        for b in both(t.path()) {
            let mut s = String::new();
            b.open_file(Path::new("/d/f"))
                .unwrap()
                .read_to_string(&mut s)
                .unwrap();
            assert_eq!(s, "data");
            assert_eq!(
                b.open_file(Path::new("d/fifo")).unwrap_err().code(),
                ErrorCode::InvalidArgument
            );
            assert_eq!(
                b.open_file(Path::new("d/none")).unwrap_err().code(),
                ErrorCode::NoSuchFile
            );
            assert!(b.open_file(Path::new("d")).is_err());
        }
    }

    #[test]
    fn move_into_renames_a_complete_file_and_sets_its_metadata() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("root");
        let tmp = t.path().join("tmp");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&tmp).unwrap();
        let tmp_dir = File::open(&tmp).unwrap();
        for (i, b) in both(&root).iter().enumerate() {
            let src = format!("big{i}");
            fs::write(tmp.join(&src), b"big data").unwrap();
            let dest = format!("/data/storage/el2/base/files/v{i}.mp4");
            b.move_into(
                tmp_dir.as_fd(),
                OsStr::new(&src),
                Path::new(&dest),
                0o604,
                (1_000, 1),
                (2_000, 2),
            )
            .unwrap();
            let p = root.join(dest.trim_start_matches('/'));
            let m = fs::metadata(&p).unwrap(); // before reading: relatime may move the atime
            assert_eq!(fs::read(&p).unwrap(), b"big data");
            assert_eq!(m.mode() & 0o7777, 0o604);
            assert_eq!((m.mtime(), m.mtime_nsec()), (2_000, 2));
            assert_eq!((m.atime(), m.atime_nsec()), (1_000, 1));
            assert!(!tmp.join(&src).exists());
        }
        // A symlink as the source is refused (it would plant a link in the sandbox).
        symlink("/etc/passwd", tmp.join("evil")).unwrap();
        let b = Beneath::open(&root).unwrap();
        assert!(b
            .move_into(
                tmp_dir.as_fd(),
                OsStr::new("evil"),
                Path::new("e"),
                0o644,
                (0, 0),
                (0, 0)
            )
            .is_err());
        assert!(fs::symlink_metadata(root.join("e")).is_err());
        // Source names must be one plain component.
        for bad in ["../x", "a/b", "..", ""] {
            assert_eq!(
                b.move_into(
                    tmp_dir.as_fd(),
                    OsStr::new(bad),
                    Path::new("e"),
                    0,
                    (0, 0),
                    (0, 0)
                )
                .unwrap_err()
                .code(),
                ErrorCode::InvalidArgument
            );
        }
        // Destination names are checked like any other.
        fs::write(tmp.join("ok"), b"x").unwrap();
        assert!(b
            .move_into(
                tmp_dir.as_fd(),
                OsStr::new("ok"),
                Path::new("../x"),
                0,
                (0, 0),
                (0, 0)
            )
            .is_err());
        assert!(tmp.join("ok").exists());
    }

    #[test]
    fn move_into_copies_across_filesystems() {
        // /dev/shm is tmpfs on Linux; the temp dir is usually elsewhere. Skip when they coincide.
        let shm = Path::new("/dev/shm");
        let t = tempfile::tempdir().unwrap();
        let Ok(s) = tempfile::tempdir_in(shm) else {
            return;
        };
        if fs::metadata(shm).unwrap().dev() == fs::metadata(t.path()).unwrap().dev() {
            return;
        }
        fs::write(s.path().join("f"), b"across").unwrap();
        let b = Beneath::open(t.path()).unwrap();
        let src_dir = File::open(s.path()).unwrap();
        b.move_into(
            src_dir.as_fd(),
            OsStr::new("f"),
            Path::new("a/f"),
            0o600,
            (5, 0),
            (6, 0),
        )
        .unwrap();
        assert_eq!(fs::read(t.path().join("a/f")).unwrap(), b"across");
        assert_eq!(fs::metadata(t.path().join("a/f")).unwrap().mtime(), 6);
        assert!(!s.path().join("f").exists());
        assert!(leftover_temps(t.path()).is_empty());
    }
}

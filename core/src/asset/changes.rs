//! Change notification for the few paths the store re-checks at every operation (a device's
//! `device.json`, its asset databases' folder), so that an operation can skip their `stat`s while
//! provably nothing changed. A `stat` costs a path walk in the kernel (1–2 µs where measured: the
//! checks of a query by alias took about as long as its SQL); asking "did anything change?" costs
//! one `epoll_wait` for all paths.
//!
//! [`watch`] puts inotify watches on everything the path's meaning depends on: each directory from
//! `/` to the path's parent (for the entry of the next component being created, removed or renamed,
//! or the directory itself moving or going away) and the path itself (a file: any write, attribute
//! change or close after writing, through any of its names; a folder: moving or going away). The
//! mount table is watched too (a mount over a component changes what the path names). Any such
//! event, a lost event (queue overflow) or a watch the kernel dropped advances a process-wide
//! generation; [`generation`] takes in pending events first. A caller that armed a path at
//! generation `g` and still sees `g` knows the path names the same thing with the same contents as
//! when it looked after arming.
//!
//! The guarantee holds where the kernel sees every change: only absolute paths without `.`, `..`
//! or symbolic links, on local file systems (tmpfs, ext2/3/4, xfs, btrfs, f2fs, overlayfs, zfs,
//! bcachefs: a network file system changes without local events); elsewhere [`watch`] says no and
//! the caller keeps `stat`ing. Writes through a shared memory mapping raise no inotify event; nobody
//! edits a JSON file that way. A child process after `fork` would read (and steal) the parent's
//! events from the queue they share: there [`generation`] says "unknown" and callers `stat`.

use std::collections::HashMap;
use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once};

/// Set in a forked child: the event queue is the parent's (see the module docs).
static FORKED: AtomicBool = AtomicBool::new(false);
static AT_FORK: Once = Once::new();

extern "C" fn forked_child() {
    FORKED.store(true, Ordering::SeqCst);
}

/// File systems whose changes all raise local inotify events (`statfs` magic numbers).
const LOCAL_FILE_SYSTEMS: [u32; 9] = [
    0x0102_1994, // tmpfs
    0x8584_58f6, // ramfs
    0xef53,      // ext2/3/4
    0x5846_5342, // xfs
    0x9123_683e, // btrfs
    0xf2f5_2010, // f2fs
    0x794c_7630, // overlayfs
    0x2fc1_2fc1, // zfs
    0xca45_1a4e, // bcachefs
];

/// What a directory on a watched path is watched for.
const DIR_MASK: u32 = libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR
    | libc::IN_DONT_FOLLOW
    | libc::IN_MASK_ADD;
/// What a watched file is watched for.
const FILE_MASK: u32 = libc::IN_MODIFY
    | libc::IN_ATTRIB
    | libc::IN_CLOSE_WRITE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_DONT_FOLLOW
    | libc::IN_MASK_ADD;
/// What a watched folder (the end of a path) is watched for.
const FOLDER_MASK: u32 = libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_ONLYDIR
    | libc::IN_DONT_FOLLOW
    | libc::IN_MASK_ADD;

struct Notifier {
    epoll: OwnedFd,
    inotify: OwnedFd,
    _mounts: OwnedFd,
    /// Per directory watch, the entry names that matter (the next components of watched paths).
    names: HashMap<i32, Vec<OsString>>,
    generation: u64,
}

/// `None`: not tried yet; `Some(None)`: notifications are unavailable in this process.
static NOTIFIER: Mutex<Option<Option<Notifier>>> = Mutex::new(None);

fn cstr(p: &Path) -> Option<CString> {
    CString::new(p.as_os_str().as_bytes()).ok()
}

impl Notifier {
    fn new() -> Option<Notifier> {
        AT_FORK.call_once(|| unsafe {
            libc::pthread_atfork(None, None, Some(forked_child));
        });
        // SAFETY: plain system calls; each returned descriptor is owned exactly once.
        unsafe {
            let epoll = libc::epoll_create1(libc::EPOLL_CLOEXEC);
            if epoll < 0 {
                return None;
            }
            let epoll = OwnedFd::from_raw_fd(epoll);
            let inotify = libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC);
            if inotify < 0 {
                return None;
            }
            let inotify = OwnedFd::from_raw_fd(inotify);
            let mounts = libc::open(
                c"/proc/self/mountinfo".as_ptr(),
                libc::O_RDONLY | libc::O_CLOEXEC,
            );
            if mounts < 0 {
                return None;
            }
            let mounts = OwnedFd::from_raw_fd(mounts);
            for (fd, events) in [
                (inotify.as_raw_fd(), libc::EPOLLIN as u32),
                (mounts.as_raw_fd(), (libc::EPOLLPRI | libc::EPOLLERR) as u32),
            ] {
                let mut ev = libc::epoll_event {
                    events,
                    u64: fd as u64,
                };
                if libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) != 0 {
                    return None;
                }
            }
            Some(Notifier {
                epoll,
                inotify,
                _mounts: mounts,
                names: HashMap::new(),
                generation: 0,
            })
        }
    }

    /// Takes in what happened since the last call.
    fn poll(&mut self) {
        let mut ready = [libc::epoll_event { events: 0, u64: 0 }; 2];
        // SAFETY: `ready` has room for the 2 events asked for.
        let n = unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), ready.as_mut_ptr(), 2, 0) };
        if n < 0 {
            self.generation += 1; // cannot tell: assume a change
            return;
        }
        for ev in &ready[..n as usize] {
            if ev.u64 == self.inotify.as_raw_fd() as u64 {
                self.drain();
            } else {
                self.generation += 1; // the mount table changed
            }
        }
    }

    /// Reads every queued inotify event.
    fn drain(&mut self) {
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reads into a buffer of the given size.
            let n =
                unsafe { libc::read(self.inotify.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            if n <= 0 {
                return; // EAGAIN: all read
            }
            let mut at = 0usize;
            let header = std::mem::size_of::<libc::inotify_event>();
            while at + header <= n as usize {
                // SAFETY: the kernel wrote whole events; read the header unaligned.
                let ev: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buf.as_ptr().add(at).cast()) };
                if at + header + ev.len as usize > n as usize {
                    self.generation += 1; // never happens; if it did, assume a change
                    return;
                }
                let name_bytes = &buf[at + header..at + header + ev.len as usize];
                let name = &name_bytes[..name_bytes
                    .iter()
                    .position(|&b| b == 0)
                    .unwrap_or(name_bytes.len())];
                at += header + ev.len as usize;
                if self.matters(ev.wd, ev.mask, name) {
                    self.generation += 1;
                }
                if ev.mask & libc::IN_IGNORED != 0 {
                    self.names.remove(&ev.wd);
                }
            }
        }
    }

    /// Whether an event changes what a watched path names or holds.
    fn matters(&self, wd: i32, mask: u32, name: &[u8]) -> bool {
        if mask
            & (libc::IN_Q_OVERFLOW
                | libc::IN_IGNORED
                | libc::IN_DELETE_SELF
                | libc::IN_MOVE_SELF
                | libc::IN_UNMOUNT)
            != 0
        {
            return true;
        }
        if name.is_empty() {
            return true; // about a watched file itself: written, changed or closed after writing
        }
        self.names
            .get(&wd)
            .is_some_and(|names| names.iter().any(|n| n.as_bytes() == name))
    }

    /// See [`watch`].
    fn watch(&mut self, path: &Path, folder: bool) -> Option<()> {
        if !path.is_absolute() {
            return None;
        }
        let mut dir = PathBuf::from("/");
        let mut parts = path.components().skip(1).peekable();
        while let Some(part) = parts.next() {
            let Component::Normal(name) = part else {
                return None;
            };
            self.add(&dir, DIR_MASK, Some(name))?;
            let next = dir.join(name);
            match std::fs::symlink_metadata(&next) {
                Ok(m) if m.file_type().is_symlink() => return None,
                Ok(m) if parts.peek().is_some() && !m.is_dir() => return None,
                Ok(_) => {}
                // Not there (yet): its parent's watch sees it appear.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(()),
                Err(_) => return None,
            }
            dir = next;
        }
        self.add(&dir, if folder { FOLDER_MASK } else { FILE_MASK }, None)
    }

    /// Watches `path` with `mask`, noting that its entry `name` matters.
    fn add(&mut self, path: &Path, mask: u32, name: Option<&std::ffi::OsStr>) -> Option<()> {
        let c = cstr(path)?;
        // SAFETY: `c` is a valid NUL-terminated path; `fs` is written by the call.
        let local = unsafe {
            let mut fs: libc::statfs = std::mem::zeroed();
            libc::statfs(c.as_ptr(), &mut fs) == 0
                && LOCAL_FILE_SYSTEMS.contains(&(fs.f_type as u32)) // magic numbers are 32-bit
        };
        if !local {
            return None;
        }
        // SAFETY: as above.
        let wd = unsafe { libc::inotify_add_watch(self.inotify.as_raw_fd(), c.as_ptr(), mask) };
        if wd < 0 {
            return None;
        }
        let names = self.names.entry(wd).or_default();
        if let Some(name) = name {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_os_string());
            }
        }
        Some(())
    }
}

#[cfg(test)]
thread_local! {
    /// Tests of the `stat` path turn notification off for their thread.
    pub(crate) static OFF: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` on this process's notifier, if it has one.
fn with<T>(f: impl FnOnce(&mut Notifier) -> Option<T>) -> Option<T> {
    #[cfg(test)]
    if OFF.with(|o| o.get()) {
        return None;
    }
    if FORKED.load(Ordering::Relaxed) {
        return None;
    }
    let mut n = NOTIFIER.lock().unwrap_or_else(|p| p.into_inner());
    n.get_or_insert_with(Notifier::new).as_mut().and_then(f)
}

thread_local! {
    /// The generation an operation in progress on this thread took at its start (see [`at_once`]).
    static LOOKED: std::cell::Cell<Option<Option<u64>>> = const { std::cell::Cell::new(None) };
}

/// The current generation, after taking in pending events; `None` when this process has no
/// change notification (the caller `stat`s instead). Within [`at_once`], the one taken at its
/// start.
pub(crate) fn generation() -> Option<u64> {
    if let Some(g) = LOOKED.with(|l| l.get()) {
        return g;
    }
    with(|n| {
        n.poll();
        Some(n.generation)
    })
}

/// Runs `f`, one operation, with every [`generation`] it asks for being the one taken now: the
/// operation sees the files as they were when it started (what changes while it runs is
/// concurrent with it), for one `epoll_wait` instead of one per file it checks.
pub(crate) fn at_once<T>(f: impl FnOnce() -> T) -> T {
    struct Restore(Option<Option<u64>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            LOOKED.with(|l| l.set(self.0));
        }
    }
    let now = generation();
    let _restore = Restore(LOOKED.with(|l| l.replace(Some(now))));
    f()
}

/// Arms notification for `path` (a file, or a folder when `folder`): returns the generation that a
/// later [`generation`] must still equal for nothing about `path` to have changed since this call,
/// or `None` when `path` cannot be fully watched. Look at the path only after this returns.
pub(crate) fn watch(path: &Path, folder: bool) -> Option<u64> {
    with(|n| {
        n.watch(path, folder)?;
        n.poll();
        Some(n.generation)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn unchanged(armed: Option<u64>) -> bool {
        armed.is_some() && generation() == armed
    }

    #[test]
    fn every_change_along_a_watched_path_is_noticed() {
        let t = tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
        let root = t.path().canonicalize().unwrap();
        let file = root.join("dev/device.json");
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(&file, "{}").unwrap();
        let Some(armed) = watch(&file, false) else {
            return; // not a local file system here: callers stat, nothing to test
        };
        assert!(unchanged(Some(armed)));
        fs::write(root.join("dev/other.json"), "x").unwrap();
        assert!(unchanged(Some(armed)), "a sibling does not matter");
        let _ = fs::read(&file).unwrap();
        assert!(unchanged(Some(armed)), "reading changes nothing");

        fs::write(&file, "{}").unwrap();
        assert!(!unchanged(Some(armed)), "written, even with the same bytes");
        let armed = watch(&file, false);
        fs::rename(root.join("dev/other.json"), &file).unwrap();
        assert!(!unchanged(armed), "replaced by rename");
        let armed = watch(&file, false);
        fs::rename(root.join("dev"), root.join("old")).unwrap();
        assert!(!unchanged(armed), "a directory on the path moved away");
        let armed = watch(&file, false);
        assert!(
            unchanged(armed),
            "a missing file is watched through its parents"
        );
        fs::create_dir(root.join("dev")).unwrap();
        assert!(!unchanged(armed), "a directory on the path appeared");
        let armed = watch(&file, false);
        fs::write(&file, "{}").unwrap();
        assert!(!unchanged(armed), "the file appeared");

        let folder = root.join("dev/state/db");
        fs::create_dir_all(&folder).unwrap();
        let armed = watch(&folder, true);
        fs::write(folder.join("a.db"), "x").unwrap();
        assert!(unchanged(armed), "a folder's contents do not matter");
        fs::remove_dir_all(root.join("dev/state")).unwrap();
        assert!(!unchanged(armed), "the folder went away");

        assert_eq!(watch(Path::new("relative/path"), false), None);
        assert_eq!(watch(&root.join("dev/../dev/x"), false), None);

        // One operation looks once: what changes while it runs is seen by the next one.
        let armed = watch(&file, false);
        at_once(|| {
            assert!(unchanged(armed));
            fs::write(&file, "{\"screenLocked\": true}").unwrap();
            assert!(
                unchanged(armed),
                "the operation keeps the look it started with"
            );
        });
        assert!(!unchanged(armed), "the next operation sees the change");
    }
}

//! One running extension: the child process, a thread reading its replies, a thread passing its
//! stderr on, and calls that wait with a deadline.

use std::io::{self, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::config::ExtensionHostConfig;
use super::launch::LaunchPlan;
use super::lines::{pump_stderr, read_line, LineEnd, MAX_LINE};
use super::protocol::{decode, HookError, Message, Request, UNKNOWN_METHOD_CODE};
use super::replies::Replies;
use super::stdin::{socket_pair, RequestPipe, SendError};
use crate::device::app::InstalledApp;
use crate::error::{Error, ErrorCode, Result};

/// How long [`Extension::shutdown`] callers normally let an extension exit on its own.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// How often a waiting call checks that the child is still there.
const POLL: Duration = Duration::from_millis(50);
/// How long a killed child may take to be reaped (SIGKILL cannot be ignored; only a process
/// stuck in the kernel takes longer).
const REAP_AFTER_KILL: Duration = Duration::from_secs(5);
/// A child that closed its stdout is usually exiting: how long to wait to reap it and report its
/// exit status.
const REAP_AFTER_EOF: Duration = Duration::from_millis(250);
/// How long to wait for the reader threads once the child is gone.
const THREAD_EXIT: Duration = Duration::from_secs(1);

/// A running app extension (one child process).
///
/// `call` may be used from several threads at once; replies are matched to calls by id.
pub struct Extension {
    shared: Arc<Shared>,
    stdin: RequestPipe,
    next_id: AtomicU64,
    threads: Vec<JoinHandle<()>>,
    finished: bool,
}

/// What the reader threads share with the handle.
struct Shared {
    bundle: String,
    pid: u32,
    child: Mutex<Child>,
    replies: Replies,
    last_stderr: Mutex<String>,
}

impl Extension {
    /// Starts `app`'s extension and waits (up to `cfg.start_timeout`) for its ready line.
    ///
    /// Not ready in time: 13500002. No extension, no Node host script, spawn failure, or the child
    /// exits or breaks the protocol before it is ready: 13500009. The child is killed and reaped
    /// on failure.
    pub fn start(app: &InstalledApp, cfg: &ExtensionHostConfig) -> Result<Extension> {
        let plan = LaunchPlan::for_app(app, cfg)?;
        let boot_failed = |detail: String| {
            Error::new(ErrorCode::ExtensionBootFailed, detail).with_data(app.name.as_str())
        };
        let (ours, theirs) =
            socket_pair().map_err(|e| boot_failed(format!("cannot create its stdin: {e}")))?;
        let mut cmd = Command::new(&plan.program);
        cmd.args(&plan.args)
            .current_dir(&plan.cwd)
            .envs(plan.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so that a kill also reaches what it started and the pipes
            // reach end-of-file.
            .process_group(0);
        // SAFETY: the hook only makes a system call, which is async-signal-safe.
        unsafe { cmd.pre_exec(mark_inherited_fds_cloexec) };
        let spawned = cmd.spawn();
        // Dropping the command closes our copy of the child's stdin end.
        drop(cmd);
        let mut child = spawned
            .map_err(|e| boot_failed(format!("cannot start {}: {e}", plan.program.display())))?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            kill_and_reap(&mut child);
            return Err(boot_failed("its stdout/stderr pipes are missing".into()));
        };
        let shared = Arc::new(Shared {
            bundle: app.name.clone(),
            pid: child.id(),
            child: Mutex::new(child),
            replies: Replies::default(),
            last_stderr: Mutex::new(String::new()),
        });
        let mut ext = Extension {
            shared: Arc::clone(&shared),
            stdin: RequestPipe::new(ours),
            next_id: AtomicU64::new(1),
            threads: Vec::new(),
            finished: false,
        };
        let (ready_tx, ready_rx) = mpsc::channel();
        let spawned = ext.spawn_thread("stdout", {
            let shared = Arc::clone(&shared);
            move || read_stdout(&shared, stdout, ready_tx)
        });
        let spawned = spawned.and_then(|_| {
            ext.spawn_thread("stderr", {
                let shared = Arc::clone(&shared);
                move || forward_stderr(&shared, stderr)
            })
        });
        if let Err(e) = spawned {
            ext.kill();
            return Err(boot_failed(format!("cannot start a reader thread: {e}")));
        }
        match ready_rx.recv_timeout(cfg.start_timeout) {
            Ok(Ok(())) => Ok(ext),
            Err(RecvTimeoutError::Timeout) => {
                ext.kill();
                Err(Error::new(
                    ErrorCode::ExtensionBootTimeout,
                    format!(
                        "{} did not print its ready line within {} ms",
                        app.name,
                        cfg.start_timeout.as_millis()
                    ),
                )
                .with_data(app.name.as_str()))
            }
            Ok(Err(why)) => {
                ext.kill();
                Err(boot_failed(format!(
                    "{why} before it was ready{}",
                    ext.stderr_hint()
                )))
            }
            Err(RecvTimeoutError::Disconnected) => {
                ext.kill();
                Err(boot_failed(format!(
                    "its stdout reader stopped before it was ready{}",
                    ext.stderr_hint()
                )))
            }
        }
    }

    /// Runs hook `method` with `args` and returns its value (`null` when it returns nothing).
    ///
    /// No reply within `timeout`: 13500003. The child died, closed its stdout or broke the
    /// protocol: 13500004. The hook threw: 13500007 with the thrown message. The method is unknown
    /// to the extension: 13900020.
    pub fn call(&self, method: &str, args: Vec<Value>, timeout: Duration) -> Result<Value> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let replies = &self.shared.replies;
        let rx = replies.expect(id)?;
        let deadline = deadline_after(timeout);
        let line = Request {
            id,
            method,
            args: &args,
        }
        .encode();
        if let Err(e) = self.stdin.send(line.as_bytes(), deadline) {
            replies.forget(id);
            return Err(match e {
                SendError::Closed(why) => self.shared.died(why),
                SendError::TimedOut { partial } => {
                    if partial {
                        // Half a request is on the wire: nothing after it could be understood.
                        self.shared.kill();
                        replies.close(self.shared.died("a request was only partly written".into()));
                    }
                    self.shared.timeout(method, timeout)
                }
            });
        }
        let mut exited_at: Option<Instant> = None;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                replies.forget(id);
                // The reply may have arrived just before we gave up.
                return rx
                    .try_recv()
                    .unwrap_or_else(|_| Err(self.shared.timeout(method, timeout)));
            }
            match rx.recv_timeout(left.min(POLL)) {
                Ok(outcome) => return outcome,
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(replies
                        .closed()
                        .unwrap_or_else(|| self.shared.died("its reply channel closed".into())))
                }
                Err(RecvTimeoutError::Timeout) => {
                    // A death normally shows as end-of-file on stdout; this covers a child whose
                    // stdout is held open by a process it started. One more poll lets a reply it
                    // wrote just before exiting arrive first.
                    match exited_at {
                        None => {
                            if self.shared.exit_status().is_some() {
                                exited_at = Some(Instant::now());
                            }
                        }
                        Some(at) if at.elapsed() >= POLL => {
                            let why = self.shared.exit_description();
                            replies.close(self.shared.died(why));
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }

    /// Whether the child process is still running.
    pub fn is_alive(&self) -> bool {
        !self.finished && self.shared.exit_status().is_none()
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.shared.pid
    }

    /// The bundle the extension belongs to.
    pub fn bundle(&self) -> &str {
        &self.shared.bundle
    }

    /// Kills the child from any thread, e.g. a watchdog while another thread waits in `call`:
    /// pending and later calls fail with 13500004. Safer than signalling [`Extension::pid`], which
    /// may name another process once the child is reaped. `kill`, `shutdown` or drop still finish
    /// the cleanup.
    pub fn abort(&self) {
        self.shared
            .replies
            .close(self.shared.died("the extension was stopped".into()));
        self.shared.kill();
    }

    /// Kills the child (SIGKILL to its process group) and reaps it; later calls fail with
    /// 13500004. Idempotent.
    pub fn kill(&mut self) {
        if self.finished {
            return;
        }
        self.finished = true;
        // Replies are closed before the kill, so callers learn it was stopped, not that it exited.
        self.abort();
        self.stdin.close();
        self.join_threads();
    }

    /// Closes the child's stdin, gives it `grace` to exit, then kills it; always reaps it.
    pub fn shutdown(mut self, grace: Duration) {
        self.stdin.close();
        let deadline = deadline_after(grace);
        while self.shared.exit_status().is_none() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        self.kill();
    }

    fn spawn_thread(&mut self, what: &str, body: impl FnOnce() + Send + 'static) -> io::Result<()> {
        let handle = thread::Builder::new()
            .name(format!("ohfile-ext-{what}"))
            .spawn(body)?;
        self.threads.push(handle);
        Ok(())
    }

    /// Joins the reader threads; they end at end-of-file, which the dead child's pipes give,
    /// unless something it started still holds them: then they are left to finish alone.
    fn join_threads(&mut self) {
        let deadline = Instant::now() + THREAD_EXIT;
        while self.threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
        for t in self.threads.drain(..) {
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }

    /// The extension's last stderr line, as a suffix for an error detail.
    fn stderr_hint(&self) -> String {
        let last = lock(&self.shared.last_stderr);
        if last.is_empty() {
            String::new()
        } else {
            format!("; its last stderr line: {last}")
        }
    }
}

impl std::fmt::Debug for Extension {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extension")
            .field("bundle", &self.shared.bundle)
            .field("pid", &self.shared.pid)
            .field("finished", &self.finished)
            .finish()
    }
}

impl Drop for Extension {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Shared {
    /// The exit status, reaping the child if it has exited (and killing what is left of its
    /// process group first: nothing it started may outlive it and hold its pipes open).
    fn exit_status(&self) -> Option<ExitStatus> {
        let mut child = lock(&self.child);
        if peek_child(self.pid) == Some(ChildState::Exited) {
            kill_group(self.pid);
        }
        child.try_wait().ok().flatten()
    }

    /// Kills and reaps the child unless it was already reaped.
    fn kill(&self) -> Option<ExitStatus> {
        kill_and_reap(&mut lock(&self.child))
    }

    /// Waits up to `within` for the child to exit by itself, reaping it.
    fn reap_within(&self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.exit_status() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(2));
        }
    }

    fn exit_description(&self) -> String {
        match self.exit_status() {
            Some(status) => format!("the extension exited ({status})"),
            None => "the extension closed its stdout".into(),
        }
    }

    fn died(&self, detail: String) -> Error {
        Error::new(ErrorCode::ExtensionDied, detail).with_data(self.bundle.as_str())
    }

    fn timeout(&self, method: &str, timeout: Duration) -> Error {
        Error::new(
            ErrorCode::ExtensionTimeout,
            format!("{method} did not answer within {} ms", timeout.as_millis()),
        )
        .with_data(self.bundle.as_str())
    }

    fn hook_failed(&self, err: HookError) -> Error {
        let code = if err.code == Some(UNKNOWN_METHOD_CODE) {
            ErrorCode::InvalidArgument
        } else {
            ErrorCode::ExtensionException
        };
        Error::new(code, err.message).with_data(self.bundle.as_str())
    }
}

/// The stdout thread: signals readiness, then routes replies until end-of-file or a protocol
/// error (which kills the child: nothing it says after that can be trusted).
fn read_stdout(shared: &Shared, stdout: ChildStdout, ready: Sender<Result<(), String>>) {
    let mut ready = Some(ready);
    let mut reader = BufReader::new(stdout);
    let mut buf = Vec::new();
    let broken = loop {
        match read_line(&mut reader, MAX_LINE, &mut buf) {
            Ok(None) => break None,
            Ok(Some(LineEnd::Complete)) => {}
            Ok(Some(LineEnd::Cut)) => {
                break Some(format!(
                    "protocol error: a stdout line is longer than {MAX_LINE} bytes"
                ))
            }
            Err(e) => break Some(format!("reading its stdout failed: {e}")),
        }
        let Ok(line) = std::str::from_utf8(&buf) else {
            break Some("protocol error: a stdout line is not UTF-8".into());
        };
        if line.trim().is_empty() {
            continue;
        }
        match decode(line) {
            Err(e) => break Some(format!("protocol error: stdout line {e}")),
            Ok(Message::Ready) => {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(Ok(()));
                }
            }
            Ok(Message::Reply { .. }) if ready.is_some() => {
                break Some("protocol error: a reply came before the ready line".into())
            }
            Ok(Message::Reply { id, outcome }) => shared
                .replies
                .deliver(id, outcome.map_err(|e| shared.hook_failed(e))),
        }
    };
    let why = match broken {
        Some(why) => {
            shared.kill();
            why
        }
        None => match shared.reap_within(REAP_AFTER_EOF) {
            Some(status) => format!("the extension exited ({status})"),
            None => "the extension closed its stdout".into(),
        },
    };
    shared.replies.close(shared.died(why.clone()));
    if let Some(tx) = ready.take() {
        let _ = tx.send(Err(why));
    }
}

/// The stderr thread: the extension's diagnostics go to ours, prefixed by the bundle name.
fn forward_stderr(shared: &Shared, stderr: ChildStderr) {
    #[cfg(not(test))]
    let mut to = io::stderr();
    #[cfg(test)]
    let mut to = CapturedStderr;
    pump_stderr(stderr, &shared.bundle, &mut to, &shared.last_stderr);
}

/// In tests, stderr goes through `eprint!`, which the test harness captures: passing tests stay
/// quiet, failing ones show what their extension said.
#[cfg(test)]
struct CapturedStderr;

#[cfg(test)]
impl io::Write for CapturedStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        eprint!("{}", String::from_utf8_lossy(buf));
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// SIGKILLs the child's process group and reaps the child; `None` if it could not be reaped in
/// time.
fn kill_and_reap(child: &mut Child) -> Option<ExitStatus> {
    if peek_child(child.id()).is_some() {
        kill_group(child.id());
    }
    let _ = child.kill();
    let deadline = Instant::now() + REAP_AFTER_KILL;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(1)),
            _ => return None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChildState {
    Running,
    Exited,
}

/// The state of our child `pid` if it has not been reaped yet, without reaping it.
fn peek_child(pid: u32) -> Option<ChildState> {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value (and si_pid 0 means "no change").
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: `info` is a valid siginfo_t to write to; WNOWAIT leaves the child unreaped.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: waitid filled `info` (or left it zeroed).
    match unsafe { info.si_pid() } {
        0 => Some(ChildState::Running),
        _ => Some(ChildState::Exited),
    }
}

/// SIGKILLs the process group the child leads. Only call while the child is unreaped: until
/// then its pid, which is also the group id, cannot have been reused.
fn kill_group(pid: u32) {
    if let Ok(pgid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) with a negative pid signals that process group; no memory involved.
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
}

/// In the child before exec: nothing but stdin/stdout/stderr may cross into the extension, even
/// descriptors a host application opened without `O_CLOEXEC`.
fn mark_inherited_fds_cloexec() -> io::Result<()> {
    // Best effort: kernels before 5.11 do not know the flag, and then only fds the host itself
    // leaked could cross.
    // SAFETY: close_range(2) with CLOSE_RANGE_CLOEXEC only changes descriptor flags.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_CLOEXEC as libc::c_uint,
        )
    };
    Ok(())
}

/// `timeout` from now; a timeout too large to represent means "practically never".
fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values stay consistent even if a holder panicked.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

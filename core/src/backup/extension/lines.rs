//! Reading an extension's output line by line without trusting it: lines are bounded, and its
//! stderr is passed on prefixed with the bundle name.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::Mutex;

/// The longest stdout line accepted from an extension (16 MiB); longer is a protocol error.
pub const MAX_LINE: usize = 16 << 20;

/// The longest stderr line passed on in one piece; longer lines are split.
const MAX_STDERR_LINE: usize = 64 << 10;

/// How much of the extension's last stderr line is kept for error details.
const LAST_STDERR_CHARS: usize = 500;

/// How a line read by [`read_line`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnd {
    /// At a newline, or at the end of the stream.
    Complete,
    /// Cut after `max` bytes: the rest of the line follows.
    Cut,
}

/// Reads the next line into `buf` (without its newline, at most `max` bytes); `None` at the end.
pub fn read_line<R: BufRead>(
    r: &mut R,
    max: usize,
    buf: &mut Vec<u8>,
) -> io::Result<Option<LineEnd>> {
    buf.clear();
    loop {
        let avail = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if avail.is_empty() {
            return Ok((!buf.is_empty()).then_some(LineEnd::Complete));
        }
        let window = &avail[..avail.len().min(max - buf.len())];
        if let Some(i) = window.iter().position(|&b| b == b'\n') {
            buf.extend_from_slice(&window[..i]);
            r.consume(i + 1);
            return Ok(Some(LineEnd::Complete));
        }
        let n = window.len();
        buf.extend_from_slice(window);
        r.consume(n);
        if buf.len() >= max {
            return Ok(Some(LineEnd::Cut));
        }
    }
}

/// Copies `from` to `to` line by line, each prefixed with `[prefix] `, until `from` ends; keeps
/// the last non-empty line in `last` (it explains most start failures).
pub fn pump_stderr(from: impl Read, prefix: &str, to: &mut impl Write, last: &Mutex<String>) {
    let mut reader = BufReader::new(from);
    let mut buf = Vec::new();
    // A read error ends the pump like EOF does: there is no one to report it to.
    while let Ok(Some(_)) = read_line(&mut reader, MAX_STDERR_LINE, &mut buf) {
        let text = String::from_utf8_lossy(&buf);
        let text = text.trim_end_matches('\r');
        // Our own stderr failing must not stop the pump, or the child would block on a full pipe.
        let _ = writeln!(to, "[{prefix}] {text}");
        if !text.trim().is_empty() {
            let mut kept = last.lock().unwrap_or_else(|e| e.into_inner());
            *kept = text.chars().take(LAST_STDERR_CHARS).collect();
        }
    }
    let _ = to.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn lines_are_split_at_newlines_and_bounded() {
        let mut r = BufReader::with_capacity(4, Cursor::new(b"ab\ncdefgh\n\nlast".to_vec()));
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some(end) = read_line(&mut r, 5, &mut buf).unwrap() {
            got.push((String::from_utf8(buf.clone()).unwrap(), end));
        }
        use LineEnd::*;
        assert_eq!(
            got,
            vec![
                ("ab".into(), Complete),
                ("cdefg".into(), Cut),
                ("h".into(), Complete),
                ("".into(), Complete),
                ("last".into(), Complete),
            ]
        );
    }

    #[test]
    fn stderr_is_prefixed_and_the_last_line_kept() {
        let last = Mutex::new(String::new());
        let mut out = Vec::new();
        pump_stderr(
            Cursor::new(b"starting\r\n\xff\nError: no default export\n\n".to_vec()),
            "com.example.a",
            &mut out,
            &last,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[com.example.a] starting\n[com.example.a] \u{fffd}\n[com.example.a] Error: no default export\n[com.example.a] \n"
        );
        assert_eq!(*last.lock().unwrap(), "Error: no default export");
    }
}

//! A namespace's journal: one JSON line per mutation, appended under the namespace lock, and the
//! in-memory index a store handle builds from it.
//!
//! The journal is the only metadata there is (objects are immutable blobs named by version), so
//! a commit is one `write` of one line. Readers never lock: they read from where they stopped up
//! to the last complete line and leave the rest for next time, so a line being written, or left
//! half written by a crash, is never seen. The next writer, holding the lock, ends such a torn
//! tail with a newline rather than cutting it off: no byte a reader may have seen is ever
//! rewritten (a reader racing a truncate could splice old and new bytes into one "line"). The
//! torn line then parses as nothing and is skipped, and compaction drops it. (A tail missing only
//! its newline is a whole record whose blob is in place: ending it commits that interrupted
//! mutation, a valid outcome for a request that never got its answer.)
//!
//! The index coalesces per key (each key keeps only its latest change with its sequence number,
//! deletions as tombstones). That is exactly what the change feed returns, and exactly what a
//! compacted journal holds, so a compacted journal replays into the same index and every cursor
//! stays valid across compaction.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io;
use std::ops::Bound;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::cloudsync::backend::{Change, ChangeKind, ObjectMeta};

/// The journal format written in the header line.
pub const JOURNAL_FORMAT: u32 = 1;

/// Compact once the journal holds this many lines more than twice the keys it describes: a
/// rewrite then costs no more than the appends that made it necessary.
const COMPACT_SLACK: u64 = 1024;

/// One journal line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Record {
    /// The first line: the format and the namespace's sequence base. Sequences start at
    /// `base + 1`, and `base` is the creation time in µs, so a namespace that is wiped and made
    /// again never reissues an old cursor (see `changes`).
    Header {
        /// [`JOURNAL_FORMAT`].
        format: u32,
        /// The namespace (for people reading the folder).
        namespace: String,
        /// Sequence base.
        base: u64,
    },
    /// An object was stored.
    Put {
        /// Sequence number.
        seq: u64,
        /// Key.
        key: String,
        /// Size in bytes.
        size: u64,
        /// Version (also the blob's name).
        version: String,
        /// Upper-case hex SHA-256.
        sha256: String,
        /// Modification time, ms.
        modified: i64,
    },
    /// An object was deleted.
    Delete {
        /// Sequence number.
        seq: u64,
        /// Key.
        key: String,
    },
}

impl Record {
    /// The record as one journal line, newline included.
    pub fn to_line(&self) -> Vec<u8> {
        // Serialising plain strings and numbers cannot fail; JSON escapes any newline in a key,
        // so the only '\n' is the terminator.
        let mut line = serde_json::to_vec(self).unwrap_or_default();
        line.push(b'\n');
        line
    }
}

/// A key's latest change.
#[derive(Clone, Debug)]
struct Entry {
    seq: u64,
    /// `None`: deleted (a tombstone, kept so older cursors still learn of the deletion).
    object: Option<ObjectMeta>,
}

/// What a handle knows of one namespace's journal, brought up to date by [`NsIndex::refresh`].
#[derive(Debug, Default)]
pub struct NsIndex {
    /// The journal read so far, kept open (see `refresh`).
    file: Option<File>,
    /// Its (dev, ino): a different file on the path means it was compacted or the namespace
    /// recreated, and the index is rebuilt.
    file_id: Option<(u64, u64)>,
    /// Bytes consumed: always just after a complete line.
    offset: u64,
    /// Bytes seen past `offset` that did not end a line at the last refresh.
    torn: u64,
    base: u64,
    head: u64,
    entries: BTreeMap<String, Entry>,
    by_seq: BTreeMap<u64, String>,
    live_bytes: u64,
    records: u64,
}

impl NsIndex {
    /// Reads what was appended since the last call (rebuilding from scratch when the journal was
    /// replaced). A missing journal is an empty namespace.
    pub fn refresh(&mut self, journal: &Path) -> io::Result<()> {
        let on_path = match fs::metadata(journal) {
            Ok(m) => (m.dev(), m.ino()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if self.file.is_some() {
                    *self = NsIndex::default();
                }
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        // Holding the journal we read open is what makes (dev, ino) a sound identity: a replaced
        // journal's inode number cannot be reused (say by the next compaction) while it is open,
        // and a reused number would have us read a new file from an old offset.
        if self.file_id != Some(on_path) {
            let file = File::open(journal)?;
            let meta = file.metadata()?;
            *self = NsIndex {
                file_id: Some((meta.dev(), meta.ino())),
                file: Some(file),
                ..NsIndex::default()
            };
        }
        let Some(file) = &self.file else {
            return Ok(());
        };
        let file_len = file.metadata()?.len();
        if file_len < self.offset {
            // Journals are never cut short; rebuild rather than trust an offset past the end.
            let (file, file_id) = (self.file.take(), self.file_id);
            *self = NsIndex {
                file,
                file_id,
                ..NsIndex::default()
            };
        }
        let Some(file) = &self.file else {
            return Ok(());
        };
        if file_len == self.offset {
            self.torn = 0;
            return Ok(());
        }
        // Only up to the length seen: what is appended meanwhile is read next time.
        let mut buf = vec![0u8; (file_len - self.offset) as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], self.offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        let complete = match buf.iter().rposition(|&b| b == b'\n') {
            Some(last) => last + 1,
            None => 0,
        };
        for line in buf[..complete].split(|&b| b == b'\n') {
            if line.is_empty() {
                continue;
            }
            if let Ok(record) = serde_json::from_slice::<Record>(line) {
                self.apply(record);
            }
            self.records += 1;
        }
        self.offset += complete as u64;
        self.torn = (buf.len() - complete) as u64;
        Ok(())
    }

    fn apply(&mut self, record: Record) {
        match record {
            Record::Header { base, .. } => {
                if self.head == 0 {
                    self.base = base;
                    self.head = base;
                }
            }
            Record::Put {
                seq,
                key,
                size,
                version,
                sha256,
                modified,
            } => {
                let object = ObjectMeta {
                    key: key.clone(),
                    size,
                    version,
                    sha256,
                    modified,
                };
                self.set(seq, key, Some(object));
            }
            Record::Delete { seq, key } => self.set(seq, key, None),
        }
    }

    fn set(&mut self, seq: u64, key: String, object: Option<ObjectMeta>) {
        // Sequences only grow; anything else is not a line a writer under the lock produced.
        if seq <= self.head {
            return;
        }
        self.head = seq;
        self.live_bytes += object.as_ref().map_or(0, |o| o.size);
        self.by_seq.insert(seq, key.clone());
        if let Some(old) = self.entries.insert(key, Entry { seq, object }) {
            self.by_seq.remove(&old.seq);
            self.live_bytes -= old.object.map_or(0, |o| o.size);
        }
    }

    /// Whether a journal has been read into this index.
    pub fn is_loaded(&self) -> bool {
        self.file_id.is_some()
    }

    /// Whether the last refresh saw a partial line after the last complete one.
    pub fn has_torn_tail(&self) -> bool {
        self.torn > 0
    }

    /// Whether no header (and so no record) has been read: a writer starts the journal.
    pub fn needs_header(&self) -> bool {
        self.head == 0
    }

    /// The sequence base (0 for a namespace without a journal).
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The latest sequence number (the base when nothing happened yet).
    pub fn head(&self) -> u64 {
        self.head
    }

    /// The live object under `key`.
    pub fn get(&self, key: &str) -> Option<&ObjectMeta> {
        self.entries.get(key).and_then(|e| e.object.as_ref())
    }

    /// Live objects whose key starts with `prefix`, in key order.
    pub fn list(&self, prefix: &str) -> Vec<ObjectMeta> {
        self.entries
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter_map(|(_, e)| e.object.clone())
            .collect()
    }

    /// Whether `version` is the current version of some key.
    pub fn is_live_version(&self, version: &str) -> bool {
        // Versions start with the hex sequence number, which indexes `by_seq`.
        let seq = version
            .split('-')
            .next()
            .and_then(|s| u64::from_str_radix(s, 16).ok());
        seq.and_then(|s| self.by_seq.get(&s))
            .and_then(|k| self.get(k))
            .is_some_and(|o| o.version == version)
    }

    /// The latest change of every key changed after `after`, in sequence order, at most `limit`
    /// (0 = all); and whether more follow.
    pub fn changes(&self, after: u64, limit: usize) -> (Vec<Change>, bool) {
        let limit = if limit == 0 { usize::MAX } else { limit };
        let mut out = Vec::new();
        for (&seq, key) in self.by_seq.range(after.saturating_add(1)..) {
            if out.len() == limit {
                return (out, true);
            }
            let kind = match self.entries.get(key).and_then(|e| e.object.clone()) {
                Some(o) => ChangeKind::Upsert(o),
                None => ChangeKind::Delete,
            };
            out.push(Change {
                key: key.clone(),
                kind,
                seq,
            });
        }
        (out, false)
    }

    /// Bytes held by live objects.
    pub fn live_bytes(&self) -> u64 {
        self.live_bytes
    }

    /// Whether the journal has grown enough past its content to be worth rewriting.
    pub fn needs_compaction(&self) -> bool {
        self.records > 2 * self.entries.len() as u64 + COMPACT_SLACK
    }

    /// The journal rewritten to its content: the header, then each key's latest change in sequence
    /// order (tombstones included).
    pub fn compacted(&self, namespace: &str) -> Vec<u8> {
        let mut out = Record::Header {
            format: JOURNAL_FORMAT,
            namespace: namespace.to_string(),
            base: self.base,
        }
        .to_line();
        for (&seq, key) in &self.by_seq {
            let record = match self.entries.get(key).and_then(|e| e.object.as_ref()) {
                Some(o) => Record::Put {
                    seq,
                    key: key.clone(),
                    size: o.size,
                    version: o.version.clone(),
                    sha256: o.sha256.clone(),
                    modified: o.modified,
                },
                None => Record::Delete {
                    seq,
                    key: key.clone(),
                },
            };
            out.extend_from_slice(&record.to_line());
        }
        out
    }
}

/// The sequence base (from the header) and the head (the sequence of the last complete line) of
/// the journal at `path`, read from its first and last lines only; `None` when that cannot be
/// told cheaply (no journal, lines longer than the probe, an unparsable last line), and the
/// caller reads the whole journal instead. Lines are in sequence order (appends and compaction
/// both keep it), so the last complete line holds the head.
pub fn bounds(path: &Path) -> Option<(u64, u64)> {
    const PROBE: u64 = 8192;
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let read = |at: u64, n: u64| -> Option<Vec<u8>> {
        let mut buf = vec![0u8; n as usize];
        let mut filled = 0;
        while filled < buf.len() {
            match file.read_at(&mut buf[filled..], at + filled as u64) {
                Ok(0) => break,
                Ok(k) => filled += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return None,
            }
        }
        buf.truncate(filled);
        Some(buf)
    };
    let head_bytes = read(0, PROBE.min(len))?;
    let first_end = head_bytes.iter().position(|&b| b == b'\n')?;
    let base = match serde_json::from_slice::<Record>(&head_bytes[..first_end]).ok()? {
        Record::Header { base, .. } => base,
        _ => return None,
    };
    let start = len.saturating_sub(PROBE);
    let tail = read(start, len - start)?;
    // The last complete line: what follows the last newline is a torn tail readers skip.
    let end = tail.iter().rposition(|&b| b == b'\n')?;
    let line_start = tail[..end].iter().rposition(|&b| b == b'\n').map(|i| i + 1);
    let line = match line_start {
        Some(i) => &tail[i..end],
        None if start == 0 => &tail[..end],
        None => return None,
    };
    match serde_json::from_slice::<Record>(line).ok()? {
        Record::Header { base: b, .. } if b == base => Some((base, base)),
        Record::Put { seq, .. } | Record::Delete { seq, .. } if seq > base => Some((base, seq)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(seq: u64, key: &str, size: u64) -> Record {
        Record::Put {
            seq,
            key: key.into(),
            size,
            version: format!("{seq:x}-00"),
            sha256: "AB".into(),
            modified: 1,
        }
    }

    #[test]
    fn replay_coalesces_per_key_and_skips_torn_and_bad_lines() {
        let t = tempfile::tempdir().unwrap();
        let path = t.path().join("journal.jsonl");
        let mut bytes = Record::Header {
            format: 1,
            namespace: "n".into(),
            base: 100,
        }
        .to_line();
        bytes.extend(put(101, "a", 5).to_line());
        bytes.extend(put(102, "b", 7).to_line());
        bytes.extend(b"{not json}\n");
        bytes.extend(put(103, "a", 9).to_line());
        bytes.extend(put(103, "c", 1).to_line()); // a reused seq: not from a writer
        bytes.extend(
            Record::Delete {
                seq: 104,
                key: "b".into(),
            }
            .to_line(),
        );
        let complete = bytes.len() as u64;
        bytes.extend(&put(105, "z", 1).to_line()[..20]);
        std::fs::write(&path, &bytes).unwrap();

        let mut ix = NsIndex::default();
        ix.refresh(&path).unwrap();
        assert_eq!((ix.base(), ix.head(), ix.offset), (100, 104, complete));
        assert!(ix.has_torn_tail());
        assert_eq!(ix.get("a").unwrap().size, 9);
        assert!(ix.get("b").is_none() && ix.get("c").is_none() && ix.get("z").is_none());
        assert_eq!(ix.live_bytes(), 9);
        let (changes, more) = ix.changes(100, 0);
        assert!(!more);
        let seqs: Vec<_> = changes.iter().map(|c| (c.seq, c.key.as_str())).collect();
        assert_eq!(seqs, [(103, "a"), (104, "b")]);
        assert_eq!(changes[1].kind, ChangeKind::Delete);
        assert!(ix.is_live_version("67-00") && !ix.is_live_version("65-00"));

        let compacted = ix.compacted("n");
        std::fs::write(t.path().join("c.jsonl"), &compacted).unwrap();
        let mut again = NsIndex::default();
        again.refresh(&t.path().join("c.jsonl")).unwrap();
        assert_eq!(again.changes(0, 0), ix.changes(0, 0));
        assert_eq!((again.base(), again.head()), (100, 104));
    }
}

//! Incremental backup: the ".rp" manifest that lists every file of a bundle (with its SHA-256)
//! and the hashing that fills it, byte-compatible with OpenHarmony so manifests are
//! interchangeable between ohfile and a device.

pub mod hash;
pub mod manifest;

pub use hash::{sha256_file, sha256_hex};
pub use manifest::{
    write_header, write_record, Manifest, ManifestRecord, HEADER_LINE, VERSION_LINE,
};

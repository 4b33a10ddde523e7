//! ohfile-core: the behaviour of ohfile's OpenHarmony services on Linux. No FFI and no napi here;
//! `ohfile-ffi` (C) and `ohfile-node` (Node) only translate to and from these types.

pub mod asset;
pub mod backup;
pub mod cloudsync;
pub mod device;
pub mod error;

pub use device::Device;
pub use error::{Error, ErrorCode, Result};

/// The ohfile version (the crate version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

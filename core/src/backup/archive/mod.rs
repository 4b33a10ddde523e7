//! Tar parts, manage.json and safe placement of restored files beneath a sandbox.

pub mod beneath;
pub mod manage;
pub mod pack;
pub mod unpack;

pub use beneath::Beneath;
pub use manage::ManageEntry;
pub use pack::{big_file_name, FileErrors, FinishedPart, PartPacker};
pub use unpack::{unpack, UnpackReport};

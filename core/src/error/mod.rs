//! One error model for the whole of ohfile: a public [`ErrorCode`] plus a detail that says what
//! went wrong where. Both faces show the same number (C `ohf_status`, JS `err.code`).

mod codes;

pub use codes::ErrorCode;

use std::fmt;
use std::io;

/// An ohfile failure: the public code, a detail naming the file or value at fault, and optionally
/// the bundle it concerns (JS `err.data`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: ErrorCode,
    detail: String,
    data: Option<String>,
}

/// The result type of every fallible ohfile operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with a code and a detail (the detail names the file, value or rule at fault).
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Error {
            code,
            detail: detail.into(),
            data: None,
        }
    }

    /// An error with only the documented message.
    pub fn bare(code: ErrorCode) -> Self {
        Error {
            code,
            detail: String::new(),
            data: None,
        }
    }

    /// The same error, carrying the bundle name it concerns (JS `err.data`).
    pub fn with_data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// An I/O failure on `path`, mapped to the errno-like public code.
    pub fn io(err: &io::Error, what: impl fmt::Display) -> Self {
        Error::new(code_for_io(err), format!("{what}: {err}"))
    }

    /// The public code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The detail alone (may be empty).
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The bundle name the error concerns, if any.
    pub fn data(&self) -> Option<&str> {
        self.data.as_deref()
    }

    /// The message shown to users: the documented message, then the detail.
    pub fn message(&self) -> String {
        let message = self.code.message();
        if self.detail.is_empty() {
            message.to_string()
        } else if message.ends_with('.') {
            // A documented message that is a sentence ("The asset already exists.") is followed
            // by the detail as another sentence, not by ".:".
            format!("{message} {}", self.detail)
        } else {
            format!("{message}: {}", self.detail)
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message(), self.code.code())
    }
}

impl std::error::Error for Error {}

/// Maps an I/O error to the public code the docs use for that errno (13900001..13900042).
pub fn code_for_io(err: &io::Error) -> ErrorCode {
    match err.raw_os_error() {
        Some(errno) => code_for_errno(errno),
        None => match err.kind() {
            io::ErrorKind::NotFound => ErrorCode::NoSuchFile,
            io::ErrorKind::PermissionDenied => ErrorCode::AccessDenied,
            io::ErrorKind::AlreadyExists => ErrorCode::FileExists,
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => ErrorCode::InvalidArgument,
            io::ErrorKind::UnexpectedEof => ErrorCode::IoError,
            io::ErrorKind::OutOfMemory => ErrorCode::OutOfMemory,
            _ => ErrorCode::UnknownError,
        },
    }
}

/// Maps an errno value to its public file-management code.
pub fn code_for_errno(errno: i32) -> ErrorCode {
    use ErrorCode::*;
    match errno {
        libc::EPERM => OperationNotPermitted,
        libc::ENOENT => NoSuchFile,
        libc::ESRCH => NoSuchProcess,
        libc::EINTR => Interrupted,
        libc::EIO => IoError,
        libc::ENXIO => NoSuchDevice,
        libc::E2BIG => ArgListTooLong,
        libc::EBADF => BadFd,
        libc::ECHILD => NoChildProcess,
        libc::EAGAIN => TryAgain,
        libc::ENOMEM => OutOfMemory,
        libc::EACCES => AccessDenied,
        libc::EFAULT => BadAddress,
        libc::EBUSY => Busy,
        libc::EEXIST => FileExists,
        libc::EXDEV => CrossDeviceLink,
        libc::ENODEV => NoDevice,
        libc::ENOTDIR => NotADirectory,
        libc::EISDIR => IsADirectory,
        libc::EINVAL => InvalidArgument,
        libc::ENFILE => FileTableOverflow,
        libc::EMFILE => TooManyOpenFiles,
        libc::ETXTBSY => TextFileBusy,
        libc::EFBIG => FileTooLarge,
        libc::ENOSPC => NoSpace,
        libc::ESPIPE => IllegalSeek,
        libc::EROFS => ReadOnlyFs,
        libc::EMLINK => TooManyLinks,
        libc::EDEADLK => Deadlock,
        libc::ENAMETOOLONG => NameTooLong,
        libc::ENOSYS => NotImplemented,
        libc::ENOTEMPTY => DirectoryNotEmpty,
        libc::ELOOP => TooManySymlinks,
        libc::EBADR => BadRequest,
        libc::ENOSTR => NotAStream,
        libc::ENODATA => NoData,
        libc::EOVERFLOW => ValueOverflow,
        libc::EBADFD => BadFdState,
        libc::ERESTART => ShouldRestart,
        libc::EDQUOT => QuotaExceeded,
        _ => UnknownError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_range_is_complete_and_unique() {
        let codes: Vec<i32> = ErrorCode::ALL.iter().map(|c| c.code()).collect();
        let mut expected = vec![201, 202, 401, 13600001, 14000002];
        expected.extend(13500001..=13500017);
        expected.extend(13900001..=13900042);
        expected.extend(22400001..=22400007);
        expected.extend(24000001..=24000019);
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len(), "duplicate code in the table");
        expected.sort();
        assert_eq!(sorted, expected);
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(c.code()), Some(*c));
            assert!(!c.message().is_empty());
        }
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.c_name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len(), "duplicate C name");
    }

    #[test]
    fn documented_messages_match_the_docs() {
        assert_eq!(ErrorCode::IoError.message(), "I/O error");
        assert_eq!(ErrorCode::InvalidArgument.message(), "Invalid argument");
        assert_eq!(ErrorCode::IpcError.message(), "IPC error");
        assert_eq!(ErrorCode::NoSpace.message(), "No space left on device");
        assert_eq!(ErrorCode::SessionConflict.message(), "Session Conflict");
        assert_eq!(ErrorCode::InvalidUri.message(), "Invalid uri");
        assert_eq!(ErrorCode::from_code(0), None);
    }

    #[test]
    fn errno_maps_to_file_codes() {
        let e = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(code_for_io(&e), ErrorCode::NoSuchFile);
        assert_eq!(code_for_errno(libc::ENOSPC), ErrorCode::NoSpace);
        assert_eq!(code_for_errno(9999), ErrorCode::UnknownError);
        let err = Error::io(&e, "/x/device.json");
        assert_eq!(err.code().code(), 13900002);
        assert!(err
            .message()
            .starts_with("No such file or directory: /x/device.json"));
    }
}

// The public error codes of ohfile, defined once.
//
// This file is self-contained on purpose (no `crate::` paths): `ffi-c/build.rs` includes it with
// `include!` to generate the `OHF_STATUS_*` constants of the C header from the same table, so the
// C status values, the JS `err.code` numbers and the Rust enum cannot drift apart.

macro_rules! define_error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $c_name:literal, $message:literal; )*) => {
        /// A public error code of the OpenHarmony APIs ohfile implements (the number the docs use).
        #[repr(i32)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The numeric code, as the docs, the C status and JS `err.code` show it.
            pub const fn code(self) -> i32 {
                self as i32
            }

            /// The documented message of the code.
            pub const fn message(self) -> &'static str {
                match self { $( ErrorCode::$variant => $message, )* }
            }

            /// The suffix of the C constant (`OHF_STATUS_<suffix>`).
            pub const fn c_name(self) -> &'static str {
                match self { $( ErrorCode::$variant => $c_name, )* }
            }

            /// The code with this number, if it is a public one.
            pub const fn from_code(code: i32) -> Option<ErrorCode> {
                match code { $( $code => Some(ErrorCode::$variant), )* _ => None }
            }
        }
    };
}

define_error_codes! {
    // Universal codes.
    /// The caller lacks the permission the API needs.
    PermissionDenied = 201, "PERMISSION_DENIED",
        "Permission verification failed, usually the result returned by VerifyAccessToken.";
    /// A system API was called by a non-system application.
    NotSystemApp = 202, "NOT_SYSTEM_APP",
        "Permission verification failed, application which is not a system application uses system API.";
    /// A parameter is missing, of the wrong type, or fails validation.
    ParameterError = 401, "PARAMETER_ERROR",
        "Parameter error. Possible causes: 1. Mandatory parameters are left unspecified. 2. Incorrect parameter types. 3. Parameter verification failed.";

    // @ohos.file.backup service codes.
    /// The application does not allow backup/restore (E_FORBID).
    BackupForbidden = 13500001, "BACKUP_FORBIDDEN", "Not support backup/restore";
    /// The application's backup extension did not start in time (E_BTO).
    ExtensionBootTimeout = 13500002, "EXTENSION_BOOT_TIMEOUT", "SA boot extension timeout";
    /// The application's backup extension timed out (E_ETO).
    ExtensionTimeout = 13500003, "EXTENSION_TIMEOUT", "Extension process timeout";
    /// The application's backup extension died (E_DIED).
    ExtensionDied = 13500004, "EXTENSION_DIED", "Extension process died";
    /// The bundle is unknown, not installed, or missing from the capability file (E_EMPTY).
    BundleInfoEmpty = 13500005, "BUNDLE_INFO_EMPTY", "SA the bundle info for backup/restore is empty";
    /// Packing the backup archive failed (E_PACKET).
    TarFailed = 13500006, "TAR_FAILED", "Tar failed";
    /// The application's backup hook threw (E_EXCEPTION).
    ExtensionException = 13500007, "EXTENSION_EXCEPTION", "Extension throw exception";
    /// Unpacking a restore archive failed (E_UNPACKET).
    UntarFailed = 13500008, "UNTAR_FAILED", "Untar failed";
    /// The service could not boot the application's extension (E_BEF).
    ExtensionBootFailed = 13500009, "EXTENSION_BOOT_FAILED", "SA failed to boot application extension";
    /// A backup or restore task failed (E_TASKFAIL).
    TaskFailed = 13500010, "TASK_FAILED", "Task failed";
    /// Cancel of a task that has not started (E_CANCEL_UNSTARTED_TASK).
    CancelUnstartedTask = 13500011, "CANCEL_UNSTARTED_TASK", "Cancel unstarted backup or restore task";
    /// Cancel of a task that does not exist (E_CANCEL_NO_TASK).
    CancelNoTask = 13500012, "CANCEL_NO_TASK", "Cancel a backup or restore task that does not exist";
    /// Another backup/restore session is active on the device (E_CONFLICT).
    SessionConflict = 13500013, "SESSION_CONFLICT", "Session Conflict";
    /// The backup is not compatible with this device (E_INCOMPATIBLE).
    Incompatible = 13500014, "INCOMPATIBLE", "Not compatible";
    /// The service ended a task actively (E_FORCE_TIMEOUT).
    ForceTimeout = 13500015, "FORCE_TIMEOUT", "Exit actively";
    /// A file-system service request timed out (E_MISSION_TIMEOUT).
    MissionTimeout = 13500016, "MISSION_TIMEOUT", "Mission timeout";
    /// A file-system garbage collection request failed (E_GC_FAILED).
    GcFailed = 13500017, "GC_FAILED", "GC failed";
    /// The service side of a session can no longer be reached (E_IPCSS).
    IpcError = 13600001, "IPC_ERROR", "IPC error";

    // Basic file I/O codes (13900001..13900042), errno-like.
    /// EPERM.
    OperationNotPermitted = 13900001, "E_PERM", "Operation not permitted";
    /// ENOENT.
    NoSuchFile = 13900002, "E_NOENT", "No such file or directory";
    /// ESRCH.
    NoSuchProcess = 13900003, "E_SRCH", "No such process";
    /// EINTR.
    Interrupted = 13900004, "E_INTR", "Interrupted system call";
    /// EIO.
    IoError = 13900005, "E_IO", "I/O error";
    /// ENXIO.
    NoSuchDevice = 13900006, "E_NXIO", "No such device or address";
    /// E2BIG.
    ArgListTooLong = 13900007, "E_2BIG", "Arg list too long";
    /// EBADF.
    BadFd = 13900008, "E_BADF", "Bad file descriptor";
    /// ECHILD.
    NoChildProcess = 13900009, "E_CHILD", "No child processes";
    /// EAGAIN.
    TryAgain = 13900010, "E_AGAIN", "Try again";
    /// ENOMEM.
    OutOfMemory = 13900011, "E_NOMEM", "Out of memory";
    /// EACCES.
    AccessDenied = 13900012, "E_ACCES", "Permission denied";
    /// EFAULT.
    BadAddress = 13900013, "E_FAULT", "Bad address";
    /// EBUSY.
    Busy = 13900014, "E_BUSY", "Device or resource busy";
    /// EEXIST.
    FileExists = 13900015, "E_EXIST", "File exists";
    /// EXDEV.
    CrossDeviceLink = 13900016, "E_XDEV", "Cross-device link";
    /// ENODEV.
    NoDevice = 13900017, "E_NODEV", "No such device";
    /// ENOTDIR.
    NotADirectory = 13900018, "E_NOTDIR", "Not a directory";
    /// EISDIR.
    IsADirectory = 13900019, "E_ISDIR", "Is a directory";
    /// EINVAL.
    InvalidArgument = 13900020, "E_INVAL", "Invalid argument";
    /// ENFILE.
    FileTableOverflow = 13900021, "E_NFILE", "File table overflow";
    /// EMFILE.
    TooManyOpenFiles = 13900022, "E_MFILE", "Too many open files";
    /// ETXTBSY.
    TextFileBusy = 13900023, "E_TXTBSY", "Text file busy";
    /// EFBIG.
    FileTooLarge = 13900024, "E_FBIG", "File too large";
    /// ENOSPC.
    NoSpace = 13900025, "E_NOSPC", "No space left on device";
    /// ESPIPE.
    IllegalSeek = 13900026, "E_SPIPE", "Illegal seek";
    /// EROFS.
    ReadOnlyFs = 13900027, "E_ROFS", "Read-only file system";
    /// EMLINK.
    TooManyLinks = 13900028, "E_MLINK", "Too many links";
    /// EDEADLK.
    Deadlock = 13900029, "E_DEADLK", "Resource deadlock would occur";
    /// ENAMETOOLONG.
    NameTooLong = 13900030, "E_NAMETOOLONG", "File name too long";
    /// ENOSYS.
    NotImplemented = 13900031, "E_NOSYS", "Function not implemented";
    /// ENOTEMPTY.
    DirectoryNotEmpty = 13900032, "E_NOTEMPTY", "Directory not empty";
    /// ELOOP.
    TooManySymlinks = 13900033, "E_LOOP", "Too many symbolic links encountered";
    /// EWOULDBLOCK.
    WouldBlock = 13900034, "E_WOULDBLOCK", "Operation would block";
    /// EBADR.
    BadRequest = 13900035, "E_BADR", "Invalid request descriptor";
    /// ENOSTR.
    NotAStream = 13900036, "E_NOSTR", "Device not a stream";
    /// ENODATA.
    NoData = 13900037, "E_NODATA", "No data available";
    /// EOVERFLOW.
    ValueOverflow = 13900038, "E_OVERFLOW", "Value too large for defined data type";
    /// EBADFD.
    BadFdState = 13900039, "E_BADFD", "File descriptor in bad state";
    /// ERESTART.
    ShouldRestart = 13900040, "E_RESTART", "Interrupted system call should be restarted";
    /// EDQUOT.
    QuotaExceeded = 13900041, "E_DQUOT", "Quota exceeded";
    /// Anything that maps to no other code.
    UnknownError = 13900042, "E_UKERR", "Unknown error";

    // User file access.
    /// The uri is not one the API accepts.
    InvalidUri = 14000002, "INVALID_URI", "Invalid uri";

    // @ohos.file.cloudSync codes.
    /// The cloud is not ready for this app (no account, or the app's cloud switch is off).
    CloudNotReady = 22400001, "CLOUD_NOT_READY", "Cloud status not ready";
    /// No network.
    NetworkUnavailable = 22400002, "NETWORK_UNAVAILABLE", "Network unavailable";
    /// The battery is too low to sync.
    BatteryLevelWarning = 22400003, "BATTERY_LEVEL_WARNING", "Battery level warning";
    /// A batch is over its limit.
    ExceededMaxLimit = 22400004, "EXCEEDED_MAX_LIMIT", "Exceeded the maximum limit";
    /// An internal failure of the sync service.
    InnerError = 22400005, "INNER_ERROR", "Inner error";
    /// The same task is already running.
    TaskAlreadyRunning = 22400006, "TASK_ALREADY_RUNNING", "The same task is already in progress";
    /// The version file to restore from does not exist.
    VersionFileMissing = 22400007, "VERSION_FILE_MISSING",
        "The version file specified to replace the original file does not exist";

    // @ohos.security.asset codes.
    /// The asset service is unavailable.
    AssetServiceUnavailable = 24000001, "ASSET_SERVICE_UNAVAILABLE", "The ASSET service is unavailable.";
    /// The asset is not found.
    AssetNotFound = 24000002, "ASSET_NOT_FOUND", "The asset is not found.";
    /// The asset already exists.
    AssetDuplicated = 24000003, "ASSET_DUPLICATED", "The asset already exists.";
    /// Access to the asset is denied.
    AssetAccessDenied = 24000004, "ASSET_ACCESS_DENIED", "Access to the asset is denied.";
    /// The screen lock status does not match.
    AssetStatusMismatch = 24000005, "ASSET_STATUS_MISMATCH", "The screen lock status does not match.";
    /// Insufficient memory.
    AssetOutOfMemory = 24000006, "ASSET_OUT_OF_MEMORY", "Insufficient memory.";
    /// The asset is corrupted.
    AssetDataCorrupted = 24000007, "ASSET_DATA_CORRUPTED", "The asset is corrupted.";
    /// The database operation failed.
    AssetDatabaseError = 24000008, "ASSET_DATABASE_ERROR", "The database operation failed.";
    /// The cryptography operation failed.
    AssetCryptoError = 24000009, "ASSET_CRYPTO_ERROR", "The cryptography operation failed.";
    /// IPC failed.
    AssetIpcError = 24000010, "ASSET_IPC_ERROR", "IPC failed.";
    /// Calling the Bundle Manager service failed.
    AssetBmsError = 24000011, "ASSET_BMS_ERROR", "Calling the Bundle Manager service failed.";
    /// Calling the OS Account service failed.
    AssetAccountError = 24000012, "ASSET_ACCOUNT_ERROR", "Calling the OS Account service failed.";
    /// Calling the Access Token service failed.
    AssetAccessTokenError = 24000013, "ASSET_ACCESS_TOKEN_ERROR", "Calling the Access Token service failed.";
    /// The file operation failed.
    AssetFileOperationError = 24000014, "ASSET_FILE_OPERATION_ERROR", "The file operation failed.";
    /// Getting the system time failed.
    AssetGetSystemTimeError = 24000015, "ASSET_GET_SYSTEM_TIME_ERROR", "Getting the system time failed.";
    /// The cache exceeds the limit.
    AssetLimitExceeded = 24000016, "ASSET_LIMIT_EXCEEDED", "The cache exceeds the limit.";
    /// The capability is not supported.
    AssetUnsupported = 24000017, "ASSET_UNSUPPORTED", "The capability is not supported.";
    /// Parameter verification failed.
    AssetParamVerificationFailed = 24000018, "ASSET_PARAM_VERIFICATION_FAILED", "Parameter verification failed.";
    /// The attributes of the assets in a batch are inconsistent.
    AssetInconsistentAttribute = 24000019, "ASSET_INCONSISTENT_ATTRIBUTE", "The attributes of the assets are inconsistent.";
}

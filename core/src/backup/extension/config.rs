//! How the service starts extensions: the Node executable, the Node host script, the start timeout.

use std::path::PathBuf;
use std::time::Duration;

/// How long an extension may take to print its ready line (OpenHarmony's connect timeout: 25 s).
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(25);

/// The environment variable that overrides the start timeout, in milliseconds.
pub const START_TIMEOUT_ENV: &str = "OHFILE_EXTENSION_START_TIMEOUT_MS";

/// Settings for starting extension processes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionHostConfig {
    /// The `node` program (a bare name is looked up on PATH).
    pub node_executable: PathBuf,
    /// `node-binding/lib/extension-host.mjs`; Node-module extensions cannot start without it.
    pub node_host_script: Option<PathBuf>,
    /// How long an extension may take to print `{"ready":true}`.
    pub start_timeout: Duration,
}

impl Default for ExtensionHostConfig {
    fn default() -> Self {
        ExtensionHostConfig {
            node_executable: PathBuf::from("node"),
            node_host_script: None,
            start_timeout: DEFAULT_START_TIMEOUT,
        }
    }
}

impl ExtensionHostConfig {
    /// The defaults, with the start timeout taken from `OHFILE_EXTENSION_START_TIMEOUT_MS` when
    /// that holds a whole number of milliseconds.
    pub fn from_env() -> Self {
        let mut cfg = ExtensionHostConfig::default();
        if let Some(t) = std::env::var(START_TIMEOUT_ENV)
            .ok()
            .and_then(|v| parse_millis(&v))
        {
            cfg.start_timeout = t;
        }
        cfg
    }
}

fn parse_millis(v: &str) -> Option<Duration> {
    v.trim().parse::<u64>().ok().map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_timeout_override() {
        let cfg = ExtensionHostConfig::default();
        assert_eq!(cfg.node_executable, PathBuf::from("node"));
        assert_eq!(cfg.node_host_script, None);
        assert_eq!(cfg.start_timeout, Duration::from_secs(25));
        assert_eq!(parse_millis(" 300 "), Some(Duration::from_millis(300)));
        assert_eq!(parse_millis("-1"), None);
        assert_eq!(parse_millis("soon"), None);
    }
}

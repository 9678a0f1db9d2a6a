//! Locating the config file: `.qaagent.toml` in a directory or its nearest
//! ancestor that has one, the way cargo finds `Cargo.toml`.

use std::path::{Path, PathBuf};

use super::{ConfigError, FILE_NAME};

/// Finds `.qaagent.toml` in `start` or the nearest ancestor that has one, the
/// way cargo finds `Cargo.toml`. `start` may be relative to the current directory.
pub fn discover(start: &Path) -> Result<PathBuf, ConfigError> {
    let start = absolute(start)?;
    for dir in start.ancestors() {
        let candidate = dir.join(FILE_NAME);
        // Anything but a directory by that name is the config: a FIFO or a
        // link to a device is then refused by name when read, rather than
        // reported missing with a hint to `qaagent init` (a hostile try, 13b).
        if std::fs::metadata(&candidate).is_ok_and(|meta| !meta.is_dir()) {
            log::debug!("config found at {}", candidate.display());
            return Ok(candidate);
        }
    }
    Err(ConfigError::NotFound { start })
}

/// `path` made absolute against the current directory, without touching the file system.
pub(super) fn absolute(path: &Path) -> Result<PathBuf, ConfigError> {
    std::path::absolute(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })
}

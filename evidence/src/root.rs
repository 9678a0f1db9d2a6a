//! Where runs live: `--runs-dir`, else `$QAAGENT_RUNS_DIR`, else `~/.qaagent/runs`.

use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use crate::error::EvidenceError;

/// The environment variable naming the runs root when `--runs-dir` is not given.
pub const RUNS_DIR_ENV: &str = "QAAGENT_RUNS_DIR";

/// Resolves the runs root: `explicit` (from `--runs-dir`) when given, else
/// `$QAAGENT_RUNS_DIR` (a leading `~` expanded, as the Python qaagent does), else
/// `$HOME/.qaagent/runs`. A relative root is made absolute against the
/// current directory now, since tools run elsewhere write into it. The
/// directory is not created here.
pub fn runs_root(explicit: Option<PathBuf>) -> Result<PathBuf, EvidenceError> {
    let root = resolve(explicit, std::env::var_os(RUNS_DIR_ENV), std::env::var_os("HOME"))?;
    absolute_clean(&root).map_err(EvidenceError::io("resolve", root))
}

/// `path` made absolute against the current directory, without `.` and
/// `..` parts: tools given a path below it (pytest's `cache_dir`) may refuse
/// one that climbs. `..` is resolved by the path's text, as a shell's `cd`
/// does, not through symbolic links.
pub fn absolute_clean(path: &Path) -> std::io::Result<PathBuf> {
    let absolute = std::path::absolute(path)?;
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    Ok(clean)
}

/// [`runs_root`] with its environment passed in, so it can be tested without mutating the process's.
pub(crate) fn resolve(
    explicit: Option<PathBuf>,
    env: Option<OsString>,
    home: Option<OsString>,
) -> Result<PathBuf, EvidenceError> {
    let home = home.filter(|h| !h.is_empty()).map(PathBuf::from);
    if let Some(dir) = explicit {
        return Ok(dir);
    }
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        let path = PathBuf::from(value);
        return match (path.strip_prefix("~"), &home) {
            (Ok(rest), Some(home)) => Ok(home.join(rest)),
            _ => Ok(path),
        };
    }
    match home {
        Some(home) => Ok(home.join(".qaagent").join("runs")),
        None => Err(EvidenceError::NoHome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_wins_over_env_and_home() {
        let got = resolve(Some("/x/runs".into()), Some("/env".into()), Some("/home/u".into())).expect("resolves");
        assert_eq!(got, PathBuf::from("/x/runs"));
    }

    #[test]
    fn env_wins_over_home_and_expands_tilde() {
        let got = resolve(None, Some("/env/runs".into()), Some("/home/u".into())).expect("resolves");
        assert_eq!(got, PathBuf::from("/env/runs"));
        let got = resolve(None, Some("~/r".into()), Some("/home/u".into())).expect("resolves");
        assert_eq!(got, PathBuf::from("/home/u/r"));
    }

    #[test]
    fn empty_env_falls_back_to_home() {
        let got = resolve(None, Some("".into()), Some("/home/u".into())).expect("resolves");
        assert_eq!(got, PathBuf::from("/home/u/.qaagent/runs"));
    }

    #[test]
    fn no_home_is_a_typed_error() {
        let err = resolve(None, None, None).expect_err("no home");
        assert!(matches!(err, EvidenceError::NoHome), "{err:?}");
        let err = resolve(None, None, Some("".into())).expect_err("empty home");
        assert!(matches!(err, EvidenceError::NoHome), "{err:?}");
    }

    #[test]
    fn a_climbing_path_is_made_plain() {
        assert_eq!(
            absolute_clean(Path::new("/a/b/../c/./d/..")).expect("absolute"),
            PathBuf::from("/a/c")
        );
        assert_eq!(absolute_clean(Path::new("/..")).expect("absolute"), PathBuf::from("/"));
    }
}

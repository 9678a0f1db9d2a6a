//! Finding the Python interpreter for Python-based tools (pytest, behave),
//! and what is installed for it.

use std::path::{Component, Path, PathBuf};

use crate::runner::RunnerError;

/// Picks the interpreter for a suite, in the order DESIGN.md gives: the
/// suite's `python` key (relative to the project dir), `$VIRTUAL_ENV/bin/python`,
/// `<project>/.venv/bin/python`, `python3` on `PATH`, `python` on `PATH`.
pub fn find_python(configured: Option<&Path>, project_dir: &Path, tool: &str) -> Result<PathBuf, RunnerError> {
    if let Some(configured) = configured {
        let path = if configured.components().count() == 1 && !configured.exists() {
            // A bare name like "python3.12" is looked up on PATH.
            which(configured.as_os_str()).unwrap_or_else(|| project_dir.join(configured))
        } else {
            project_dir.join(configured)
        };
        return if path.is_file() {
            Ok(path)
        } else {
            Err(RunnerError::ToolMissing {
                tool: format!("python interpreter {}", path.display()),
                hint: format!("the suite's `python` key points at {}, which does not exist; fix the key or create the environment", path.display()),
            })
        };
    }
    let venv = std::env::var_os("VIRTUAL_ENV").map(|venv| PathBuf::from(venv).join("bin/python"));
    let project_venv = project_dir.join(".venv/bin/python");
    venv.into_iter()
        .chain([project_venv])
        .find(|path| path.is_file())
        .or_else(|| which("python3".as_ref()))
        .or_else(|| which("python".as_ref()))
        .ok_or_else(|| RunnerError::ToolMissing {
            tool: "python".into(),
            hint: format!(
                "no Python interpreter found (looked at $VIRTUAL_ENV, {}, python3 and python on PATH); install Python 3 and {tool}, e.g. `python3 -m venv .venv && .venv/bin/pip install {tool}`",
                project_dir.join(".venv").display()
            ),
        })
}

/// The first executable named `name` on `PATH`.
pub fn which(name: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// The hint for a missing Python module `module` under `python`.
pub fn install_hint(python: &Path, package: &str) -> String {
    format!("`{package}` is not installed for {}; install it with `{} -m pip install {package}` (or set the suite's `python` key to an interpreter that has it)", python.display(), python.display())
}

/// True when a tool's log shows that `module` could not be imported by the interpreter.
pub fn module_missing(log_text: &str, module: &str) -> bool {
    log_text.contains(&format!("No module named {module}")) || log_text.contains(&format!("No module named '{module}'"))
}

/// The version of the Python distribution `distribution` (e.g. `pytest`)
/// installed for the interpreter `python`, read from its
/// `<name>-<version>.dist-info/METADATA` on disk.
///
/// For learning a tool's version without starting Python, which costs 20-60 ms
/// of CPU just when the tests start. Only answers where the answer is exactly
/// what `importlib.metadata.version(distribution)` would print under that
/// interpreter, and `None` otherwise, so the caller falls back to asking
/// Python. It answers when `python` lies in a virtual environment (Python's
/// own rule: a `pyvenv.cfg` beside the executable or one directory up; the
/// path is not resolved, as a venv's `python` is a symlink to its base
/// interpreter), the venv has one `lib*/python*/site-packages`, that holds
/// exactly one dist-info of the distribution (names compared as PEP 503 does:
/// case-insensitive, `-`, `_`, `.` alike) and no `.egg-info` of it, and
/// `$PYTHONPATH` is unset (its directories precede site-packages). A venv
/// that includes the system site-packages answers only when the distribution
/// is in the venv, which Python searches first; a system interpreter never
/// does, as system site-packages layouts vary between distributions.
pub fn installed_version(python: &Path, distribution: &str) -> Option<String> {
    if std::env::var_os("PYTHONPATH").is_some_and(|path| !path.is_empty()) {
        log::debug!("$PYTHONPATH is set: {distribution}'s version is not read from disk");
        return None;
    }
    venv_version(python, distribution)
}

/// [`installed_version`] short of the `$PYTHONPATH` check.
fn venv_version(python: &Path, distribution: &str) -> Option<String> {
    // Python finds its venv from its executable's path made absolute
    // lexically (`os.path.abspath`): `..` is folded, symlinks are not followed.
    if !python.is_absolute() {
        return None;
    }
    let python = fold_parent_dirs(python);
    let exe_dir = python.parent()?;
    let prefix = exe_dir.parent()?;
    let Some(cfg) = [exe_dir, prefix]
        .map(|dir| dir.join("pyvenv.cfg"))
        .into_iter()
        .find(|cfg| cfg.is_file())
    else {
        log::debug!("{} is not in a virtual environment", python.display());
        return None;
    };
    let cfg_text = std::fs::read_to_string(&cfg)
        .map_err(|err| log::debug!("cannot read {}: {err}", cfg.display()))
        .ok()?;
    let site_packages = site_packages(prefix)?;
    let wanted = normalize_distribution(distribution);
    let entries = std::fs::read_dir(&site_packages)
        .map_err(|err| log::debug!("cannot list {}: {err}", site_packages.display()))
        .ok()?;
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.ok()?;
        let Some(name) = entry.file_name().to_str().map(str::to_lowercase) else {
            continue;
        };
        // importlib.metadata's own matching: the name is what precedes the first `-`.
        let Some((stem, suffix)) = name.rsplit_once('.') else {
            continue;
        };
        let project = stem.split('-').next().unwrap_or(stem);
        if matches!(suffix, "dist-info" | "egg-info") && normalize_distribution(project) == wanted {
            found.push((entry.path(), suffix == "dist-info"));
        }
    }
    match found.as_slice() {
        [] if includes_system_site_packages(&cfg_text) => {
            log::debug!(
                "{distribution} is not in {}; the system site-packages may have it",
                site_packages.display()
            );
            None
        }
        [] => {
            log::debug!("{distribution} is not installed in {}", site_packages.display());
            None
        }
        [(dist_info, true)] => {
            let metadata = dist_info.join("METADATA");
            let text = std::fs::read_to_string(&metadata)
                .map_err(|err| log::debug!("cannot read {}: {err}", metadata.display()))
                .ok()?;
            metadata_version(&text)
        }
        several => {
            log::debug!(
                "{distribution}: {} candidate metadata entries in {}",
                several.len(),
                site_packages.display()
            );
            None
        }
    }
}

/// `path` with each `..` taking away the component before it, as
/// `os.path.normpath` does (without looking at the file system).
fn fold_parent_dirs(path: &Path) -> PathBuf {
    let mut folded = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                folded.pop();
            }
            Component::CurDir => {}
            other => folded.push(other),
        }
    }
    folded
}

/// The one `site-packages` directory of the venv at `prefix`
/// (`lib/python3.X/site-packages`, or the same through `lib64`). `None` if
/// there is none, or several: a venv upgraded to a new Python keeps the old
/// version's directory, and only the interpreter knows which one it uses.
fn site_packages(prefix: &Path) -> Option<PathBuf> {
    let mut found: Vec<(PathBuf, PathBuf)> = Vec::new();
    for lib in ["lib", "lib64"] {
        let Ok(entries) = std::fs::read_dir(prefix.join(lib)) else {
            continue;
        };
        for entry in entries {
            let entry = entry.ok()?;
            if !entry
                .file_name()
                .to_str()
                .is_some_and(|name| name.starts_with("python"))
            {
                continue;
            }
            let dir = entry.path().join("site-packages");
            if !dir.is_dir() {
                continue;
            }
            // `lib64` is usually a symlink to `lib`: the same directory twice is one.
            let real = std::fs::canonicalize(&dir).ok()?;
            if !found.iter().any(|(_, seen)| *seen == real) {
                found.push((dir, real));
            }
        }
    }
    match found.len() {
        1 => found.pop().map(|(dir, _)| dir),
        n => {
            log::debug!("{n} site-packages directories under {}", prefix.display());
            None
        }
    }
}

/// A distribution name as importlib.metadata compares it (PEP 503):
/// lowercase, each run of `-`, `_` and `.` one `_`.
fn normalize_distribution(name: &str) -> String {
    let mut normalized = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !normalized.ends_with('_') {
                normalized.push('_');
            }
        } else {
            normalized.extend(c.to_lowercase());
        }
    }
    normalized
}

/// Whether a `pyvenv.cfg` puts the system site-packages on the path: Python's
/// `site` module reads the last `include-system-site-packages`, and takes
/// anything but `true` (any case) as no, and a missing key as yes.
fn includes_system_site_packages(cfg: &str) -> bool {
    cfg.lines()
        .filter_map(|line| line.split_once('='))
        .rfind(|(key, _)| key.trim().eq_ignore_ascii_case("include-system-site-packages"))
        .is_none_or(|(_, value)| value.trim().eq_ignore_ascii_case("true"))
}

/// The first `Version:` header of a core-metadata file (its headers end at
/// the first empty line).
fn metadata_version(metadata: &str) -> Option<String> {
    metadata
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_once(':'))
        .find(|(key, _)| key.eq_ignore_ascii_case("Version"))
        .map(|(_, value)| value.trim().to_string())
        .filter(|version| !version.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const SITE_PACKAGES: &str = ".venv/lib/python3.11/site-packages";
    const NO_SYSTEM_SITE: &str = "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\n";

    /// A venv at `root/.venv` shaped like `python3 -m venv` makes it: `bin/python`
    /// a symlink to the base interpreter (`root/base/bin/python3.11`), `lib64` a
    /// symlink to `lib`. Returns its `bin/python`.
    fn fake_venv(root: &Path, cfg: &str, dist_infos: &[(&str, &str)]) -> PathBuf {
        let venv = root.join(".venv");
        let site_packages = root.join(SITE_PACKAGES);
        fs::create_dir_all(venv.join("bin")).expect("bin");
        fs::create_dir_all(&site_packages).expect("site-packages");
        std::os::unix::fs::symlink("lib", venv.join("lib64")).expect("lib64");
        // Resolving this symlink would lead out of the venv, to a base interpreter without packages.
        let base = root.join("base/bin/python3.11");
        fs::create_dir_all(root.join("base/bin")).expect("base");
        fs::write(&base, "").expect("base python");
        std::os::unix::fs::symlink(&base, venv.join("bin/python")).expect("python");
        fs::write(venv.join("pyvenv.cfg"), cfg).expect("pyvenv.cfg");
        for (dir, version) in dist_infos {
            add_dist_info(&site_packages, dir, version);
        }
        venv.join("bin/python")
    }

    /// A fake venv in a new tempdir, without the system site-packages.
    fn venv_with(dist_infos: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().expect("tempdir");
        let python = fake_venv(tmp.path(), NO_SYSTEM_SITE, dist_infos);
        (tmp, python)
    }

    /// A fake venv with pytest 9.2.0.
    fn pytest_venv() -> (tempfile::TempDir, PathBuf) {
        venv_with(&[("pytest-9.2.0.dist-info", "9.2.0")])
    }

    fn add_dist_info(site_packages: &Path, dir: &str, version: &str) {
        let dist_info = site_packages.join(dir);
        fs::create_dir_all(&dist_info).expect("dist-info");
        let name = dir.split('-').next().expect("name");
        let metadata = format!(
            "Metadata-Version: 2.4\nName: {name}\nVersion: {version}\nSummary: x\n\nVersion: 0.0.0 in the body\n"
        );
        fs::write(dist_info.join("METADATA"), metadata).expect("METADATA");
    }

    #[test]
    fn the_version_comes_from_the_venvs_dist_info() {
        let (_tmp, python) = venv_with(&[("pytest-9.2.0.dist-info", "9.2.0"), ("pluggy-1.6.0.dist-info", "1.6.0")]);
        assert_eq!(venv_version(&python, "pytest").as_deref(), Some("9.2.0"));
        assert_eq!(venv_version(&python, "pluggy").as_deref(), Some("1.6.0"));
    }

    #[test]
    fn the_version_is_metadatas_not_the_directory_names() {
        let (_tmp, python) = venv_with(&[("behave-1.3.3.dist-info", "1.3.3.post1")]);
        assert_eq!(venv_version(&python, "behave").as_deref(), Some("1.3.3.post1"));
    }

    #[test]
    fn names_compare_as_pep_503_normalizes_them() {
        let (_tmp, python) = venv_with(&[
            ("Behave-1.3.3.dist-info", "1.3.3"),
            ("zope_interface-7.2.dist-info", "7.2"),
        ]);
        assert_eq!(venv_version(&python, "behave").as_deref(), Some("1.3.3"));
        assert_eq!(venv_version(&python, "BEHAVE").as_deref(), Some("1.3.3"));
        assert_eq!(venv_version(&python, "zope.interface").as_deref(), Some("7.2"));
        assert_eq!(venv_version(&python, "Zope-Interface").as_deref(), Some("7.2"));
        assert_eq!(venv_version(&python, "zope"), None);
    }

    #[test]
    fn two_dist_infos_of_one_distribution_are_no_answer() {
        let (_tmp, python) = venv_with(&[("pytest-9.2.0.dist-info", "9.2.0"), ("pytest-8.4.1.dist-info", "8.4.1")]);
        assert_eq!(venv_version(&python, "pytest"), None);
    }

    #[test]
    fn an_egg_info_beside_the_dist_info_is_no_answer() {
        let (tmp, python) = pytest_venv();
        fs::write(
            tmp.path().join(SITE_PACKAGES).join("pytest-7.0.egg-info"),
            "Version: 7.0\n",
        )
        .expect("egg-info");
        assert_eq!(venv_version(&python, "pytest"), None);
    }

    #[test]
    fn a_missing_distribution_or_metadata_is_no_answer() {
        let (tmp, python) = venv_with(&[("behave-1.3.3.dist-info", "1.3.3")]);
        assert_eq!(venv_version(&python, "pytest"), None);
        fs::remove_file(tmp.path().join(SITE_PACKAGES).join("behave-1.3.3.dist-info/METADATA")).expect("rm");
        assert_eq!(venv_version(&python, "behave"), None);
    }

    #[test]
    fn a_venv_with_system_site_packages_answers_only_for_what_it_holds() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let cfg = "home = /usr/bin\ninclude-system-site-packages = true\n";
        let python = fake_venv(tmp.path(), cfg, &[("pytest-9.2.0.dist-info", "9.2.0")]);
        // The venv's site-packages come first on sys.path: its pytest wins.
        assert_eq!(venv_version(&python, "pytest").as_deref(), Some("9.2.0"));
        assert_eq!(venv_version(&python, "behave"), None);
    }

    #[test]
    fn an_interpreter_outside_a_venv_is_no_answer() {
        let (tmp, python) = pytest_venv();
        fs::remove_file(tmp.path().join(".venv/pyvenv.cfg")).expect("rm");
        assert_eq!(venv_version(&python, "pytest"), None);
        assert_eq!(
            venv_version(Path::new(".venv/bin/python"), "pytest"),
            None,
            "relative paths are not guessed at"
        );
    }

    #[test]
    fn a_pyvenv_cfg_beside_the_executable_counts_too() {
        let (tmp, python) = pytest_venv();
        fs::rename(
            tmp.path().join(".venv/pyvenv.cfg"),
            tmp.path().join(".venv/bin/pyvenv.cfg"),
        )
        .expect("mv");
        assert_eq!(venv_version(&python, "pytest").as_deref(), Some("9.2.0"));
    }

    #[test]
    fn the_interpreter_path_is_folded_not_resolved() {
        let (tmp, python) = pytest_venv();
        // `link/..` is `tmp` to Python (`os.path.abspath`), `elsewhere` to the kernel.
        fs::create_dir_all(tmp.path().join("elsewhere/deeper")).expect("elsewhere");
        std::os::unix::fs::symlink(tmp.path().join("elsewhere/deeper"), tmp.path().join("link")).expect("link");
        let via_link = tmp.path().join("link/../.venv/bin/python");
        assert_eq!(venv_version(&via_link, "pytest").as_deref(), Some("9.2.0"));
        assert_eq!(venv_version(&python, "pytest").as_deref(), Some("9.2.0"));
    }

    #[test]
    fn a_venv_with_two_python_versions_is_no_answer() {
        let (tmp, python) = pytest_venv();
        fs::create_dir_all(tmp.path().join(".venv/lib/python3.12/site-packages")).expect("python3.12");
        assert_eq!(venv_version(&python, "pytest"), None);
    }

    #[test]
    fn installed_version_reads_the_venv_unless_pythonpath_is_set() {
        let (_tmp, python) = pytest_venv();
        let pythonpath_set = std::env::var_os("PYTHONPATH").is_some_and(|path| !path.is_empty());
        let expected = (!pythonpath_set).then(|| "9.2.0".to_string());
        assert_eq!(installed_version(&python, "pytest"), expected);
    }

    #[test]
    fn system_site_packages_follow_pythons_reading_of_pyvenv_cfg() {
        assert!(!includes_system_site_packages(NO_SYSTEM_SITE));
        assert!(includes_system_site_packages(
            "home = /usr/bin\ninclude-system-site-packages = True\n"
        ));
        assert!(
            includes_system_site_packages("home = /usr/bin\n"),
            "a missing key means yes"
        );
        assert!(!includes_system_site_packages(
            "include-system-site-packages = true\ninclude-system-site-packages = no\n"
        ));
    }

    #[test]
    fn the_version_header_ends_at_the_headers() {
        assert_eq!(
            metadata_version("Metadata-Version: 2.1\nName: pytest\nversion:  9.2.0 \n").as_deref(),
            Some("9.2.0")
        );
        assert_eq!(
            metadata_version("Metadata-Version: 2.1\nName: pytest\n\nVersion: 1.0\n"),
            None
        );
        assert_eq!(metadata_version("Name: pytest\nVersion:\n"), None);
    }
}

//! A tool's report at a place qaagent does not own — a file, or a directory
//! the tool writes its reports below (`junit = "build/test-results"`) —
//! before and after an attempt: which files there are the tool's reports,
//! and how earlier ones are moved out of the way without ever losing a file
//! qaagent did not write.
//!
//! Each rule is here because a run once broke it:
//! - Only reports are moved: a file below a report directory whose root
//!   element is not `<testsuite>` / `<testsuites>` (a `pom.xml`, a project's
//!   test data) stays where it is; reading it as a report is then an error,
//!   never a pass (all of them were once moved, flattened into one directory,
//!   and one overwritten). A `junit` *file* that is no report
//!   (`junit = "pom.xml"`) stays where it is too, and the suite errors
//!   before its tool runs (it was once moved into the artifacts, and the
//!   run passed).
//! - Only regular files (links followed) are reports: a FIFO, a device or a
//!   socket at the `junit` path, or named like a report below a report
//!   directory, is never moved, copied or read, and is an error (a device
//!   node was once deleted by a move across file systems, `/dev/zero`
//!   copied until the disk was full, and a FIFO hung qaagent for ever).
//! - A moved report keeps its path below the report directory, so two
//!   `data.xml` in two subdirectories do not collide.
//! - A file is removed only when it is byte for byte the copy the previous
//!   attempt kept of it.
//! - qaagent's own output inside a report directory — the run's output
//!   root (`--out build/qa` with `junit = "build"`) and stored runs (a
//!   `--runs-dir` below it) — is never listed, moved or read: its copies of
//!   earlier reports are not the tool's new ones (a stale report was once
//!   read back from there, and a run whose tool wrote nothing passed). Nor
//!   is any file whose real path (links resolved) lies in a suite's output
//!   directory (marked [`OWNED_MARK`](crate::outdir::OWNED_MARK)) or a stored run, but this attempt's
//!   own: a link, or `{out}/../other-suite`, made another suite's or an
//!   earlier run's report pass for the tool's.
//! - Nothing reached through a link to outside the report directory is
//!   moved: an earlier report there is an error naming it (moving it once
//!   emptied a shared directory, and a stored run's report).

use std::path::{Path, PathBuf};

use crate::context::SuiteContext;
use crate::junit::{self, JunitError};
use crate::runner::RunnerError;

/// The report files at `report` for this attempt: the file itself, or the
/// `*.xml` files below the directory ([`junit::xml_files_in`]) that are not
/// qaagent's own output. Nothing there is an empty list; a directory that
/// is itself qaagent's output root or a stored run is an error (its
/// reports are qaagent's copies).
pub fn report_files(ctx: &SuiteContext, report: &Path) -> Result<Vec<PathBuf>, JunitError> {
    let own = std::fs::canonicalize(&ctx.output_dir).ok();
    let own = own.as_deref();
    let own_output = || JunitError::Io {
        path: report.to_path_buf(),
        source: std::io::Error::other(
            "it is qaagent's own output (a suite's output directory, the run's --out directory, or a stored run), \
             links followed: point `junit` at where the tool writes its reports",
        ),
    };
    if let Some(refused) = junit::on_kernel_file_system(report) {
        return Err(JunitError::Io {
            path: report.to_path_buf(),
            source: refused,
        });
    }
    if report.is_dir() {
        let root = output_root(ctx).and_then(|root| std::fs::canonicalize(root).ok());
        if is_qaagent_output(report, root.as_deref()) || in_qaagent_output(report, own) {
            return Err(own_output());
        }
        let mut files = junit::xml_files_in_except(report, &|dir| {
            is_qaagent_output(dir, root.as_deref()) || in_qaagent_output(dir, own)
        })?;
        // The directories listed were vetted above; only a linked file can
        // lead out of them.
        files.retain(|file| {
            let foreign = file.is_symlink() && in_qaagent_output(file, own);
            if foreign {
                log::debug!("not reading {}: it is qaagent's own output", file.display());
            }
            !foreign
        });
        Ok(files)
    } else if std::fs::symlink_metadata(report).is_ok() {
        if in_qaagent_output(report, own) {
            return Err(own_output());
        }
        // Links followed; a dangling link is left to fail when read.
        if let Some(what) = std::fs::metadata(report)
            .ok()
            .and_then(|meta| junit::not_regular(meta.file_type()))
        {
            return Err(JunitError::Io {
                path: report.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "it is {what}, not a report file: qaagent neither reads nor moves it; \
                         point `junit` at the regular file the tool writes its report to"
                    ),
                ),
            });
        }
        Ok(vec![report.to_path_buf()])
    } else {
        Ok(Vec::new())
    }
}

/// Whether `path`, links resolved, lies in qaagent's output: a suite's
/// output directory (marked [`OWNED_MARK`](crate::outdir::OWNED_MARK)) or a stored run (its
/// `manifest.json` beside `evidence/`), other than this attempt's own
/// output directory `own` (canonical), where `{out}/junit.xml` is.
fn in_qaagent_output(path: &Path, own: Option<&Path>) -> bool {
    let Ok(real) = std::fs::canonicalize(path) else {
        return false;
    };
    if own.is_some_and(|own| real.starts_with(own)) {
        return false;
    }
    real.ancestors().any(crate::outdir::is_qaagent_output)
}

/// Where below an attempt's output dir the copy of the report `file` (one
/// of [`report_files`] of `report`) is kept: its path below the report
/// directory, or the report file's own name.
pub fn kept_name(report: &Path, file: &Path) -> PathBuf {
    match file.strip_prefix(report) {
        Ok(below) if !below.as_os_str().is_empty() => below.to_path_buf(),
        _ => file.file_name().map(PathBuf::from).unwrap_or_default(),
    }
}

/// Before an attempt, moves any report already at `report` (a file, or the
/// reports below a directory, see the module doc) out of the way, so that
/// only what the tool writes during the attempt can be read — a report
/// merely touched, or left as it was, is never taken for a new one. A
/// report left by the previous attempt goes to that attempt's output dir
/// (its artifacts) under its [`kept_name`], or, when it is what that
/// attempt already kept there, is removed; one that was there before the
/// run goes to this first attempt's output dir, its first path component
/// prefixed `stale-` (`stale-junit.xml`, `stale-sub/TEST-a.xml`). A report
/// inside this attempt's output dir needs nothing: that directory is new.
pub fn set_aside_reports(ctx: &SuiteContext, report: &Path) -> Result<(), RunnerError> {
    if report.starts_with(&ctx.output_dir) {
        return Ok(());
    }
    let io_error = |what, path: &Path, source| RunnerError::Io {
        what,
        path: path.to_path_buf(),
        source,
    };
    let in_dir = report.is_dir();
    let what = if in_dir {
        "cannot look for earlier reports at"
    } else {
        "not moving"
    };
    let files = report_files(ctx, report).map_err(|err| match err {
        JunitError::Io { path, source } => io_error(what, &path, source),
        err => io_error(what, report, std::io::Error::other(err.to_string())),
    })?;
    let real_report = std::fs::canonicalize(report).ok();
    let (dir, stale) = match (&ctx.previous_output_dir, ctx.attempt) {
        (Some(previous), attempt) if attempt > 1 => (previous.as_path(), false),
        _ => (ctx.output_dir.as_path(), true),
    };
    for file in files {
        let report_like = junit::looks_like_report(&file);
        if in_dir && !report_like {
            log::debug!(
                "[{}] leaving {} where it is: not a JUnit report",
                ctx.suite,
                file.display()
            );
            continue;
        }
        let outside = in_dir
            && !(file.parent().and_then(|parent| std::fs::canonicalize(parent).ok()))
                .zip(real_report.as_deref())
                .is_some_and(|(parent, report)| parent.starts_with(report));
        if outside {
            return Err(io_error(
                "not moving the earlier report",
                &file,
                std::io::Error::other(
                    "it is reached through a link to outside the report directory, where qaagent moves nothing \
                     (it may be someone else's); remove it, or the link",
                ),
            ));
        }
        let name = kept_name(report, &file);
        let kept = dir.join(&name);
        if !stale && same_bytes(&file, &kept) {
            // The previous attempt already kept this very report (the
            // command runner copies a report into its attempt's artifacts
            // once read).
            log::debug!(
                "[{}] removing {}: attempt {} kept a copy",
                ctx.suite,
                file.display(),
                ctx.attempt - 1
            );
            std::fs::remove_file(&file).map_err(|source| io_error("cannot remove an earlier report", &file, source))?;
            continue;
        }
        if !report_like {
            // A `junit` file that is no report (`junit = "pom.xml"`) was
            // once moved into the artifacts, and the run passed. Left where
            // it is, it would be read as this attempt's report: an error
            // anyway, so say so before the tool runs.
            return Err(io_error(
                "not moving",
                &file,
                std::io::Error::other(
                    "it is not a JUnit report (its root element is not <testsuite> or <testsuites>, or it cannot \
                     be read), and qaagent moves only reports out of the way: point `junit` at the file the tool \
                     writes its report to",
                ),
            ));
        }
        let mut to = if stale { dir.join(stale_name(&name)) } else { kept };
        let base = to.clone().into_os_string();
        let mut n = 1;
        while std::fs::symlink_metadata(&to).is_ok() {
            let mut numbered = base.clone();
            numbered.push(format!(".{n}"));
            to = PathBuf::from(numbered);
            n += 1;
        }
        log::info!(
            "[{}] moving the report {} out of the way to {} before attempt {}",
            ctx.suite,
            file.display(),
            to.display(),
            ctx.attempt
        );
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|source| io_error("cannot create", parent, source))?;
        }
        move_file(&file, &to)
            .map_err(|source| io_error("cannot move an earlier report out of the way", &file, source))?;
    }
    Ok(())
}

/// `name` with `stale-` before its first component.
fn stale_name(name: &Path) -> PathBuf {
    let mut components = name.components();
    let first = components
        .next()
        .map(|c| c.as_os_str().to_os_string())
        .unwrap_or_default();
    let mut stale = std::ffi::OsString::from("stale-");
    stale.push(first);
    let rest = components.as_path();
    if rest.as_os_str().is_empty() {
        PathBuf::from(stale)
    } else {
        PathBuf::from(stale).join(rest)
    }
}

/// The directory all of this run's suites write their output below
/// (`--out`, else the run's `artifacts/`): the parent of the suite's own
/// directory, the deepest ancestor of the attempt's output dir named for
/// the suite (`<out>/<suite>/attempt-2`, `<out>/<suite>/share-1`).
fn output_root(ctx: &SuiteContext) -> Option<&Path> {
    ctx.output_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == ctx.suite.as_str()))?
        .parent()
}

/// Whether `dir` is qaagent's output: the run's output root (canonical
/// `root`), or a stored run (its `manifest.json` beside `evidence/`), this
/// run's or an earlier one's.
fn is_qaagent_output(dir: &Path, root: Option<&Path>) -> bool {
    let is_root = root.is_some_and(|root| std::fs::canonicalize(dir).is_ok_and(|dir| dir == root));
    is_root || crate::outdir::is_stored_run(dir)
}

/// Whether the files `a` and `b` both exist and hold the same bytes.
/// Both are read a buffer at a time, as regular files only: a report can
/// be large, and a FIFO swapped in by a tool still running must not block.
fn same_bytes(a: &Path, b: &Path) -> bool {
    use std::io::Read;
    let (Ok(mut a), Ok(mut b)) = (junit::open_regular(a), junit::open_regular(b)) else {
        return false;
    };
    if !matches!((a.metadata(), b.metadata()), (Ok(meta_a), Ok(meta_b)) if meta_a.len() == meta_b.len()) {
        return false;
    }
    let (mut buf_a, mut buf_b) = (vec![0; 64 * 1024], vec![0; 64 * 1024]);
    loop {
        match a.read(&mut buf_a) {
            Ok(0) => return b.read(&mut buf_b).is_ok_and(|n| n == 0),
            Ok(n) => {
                if b.read_exact(&mut buf_b[..n]).is_err() || buf_a[..n] != buf_b[..n] {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}

/// Renames `from` to `to`, or copies and removes it across file systems.
fn move_file(from: &Path, to: &Path) -> std::io::Result<()> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    crate::outdir::copy_file(from, to)?;
    std::fs::remove_file(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report naming its suite `name`.
    fn r(name: &str) -> String {
        format!("<testsuite name=\"{name}\"/>")
    }

    #[test]
    fn earlier_reports_go_to_the_artifacts_of_who_left_them() {
        let root = tempfile::tempdir().expect("tempdir");
        let report = root.path().join("reports/junit.xml");
        std::fs::create_dir_all(report.parent().expect("parent")).expect("mkdir");
        let first = root.path().join("out");
        std::fs::create_dir(&first).expect("mkdir");
        let mut ctx = SuiteContext::new("s", root.path(), root.path(), &first);

        // There before the run: the first attempt's `stale-` artifact.
        std::fs::write(&report, r("old")).expect("write");
        set_aside_reports(&ctx, &report).expect("set aside");
        assert!(!report.exists());
        assert_eq!(
            std::fs::read_to_string(first.join("stale-junit.xml")).expect("read"),
            r("old")
        );

        // Left by attempt 1: attempt 1's artifact, under its own name.
        std::fs::write(&report, r("attempt 1")).expect("write");
        let second = first.join("attempt-2");
        std::fs::create_dir(&second).expect("mkdir");
        ctx.output_dir = second.clone();
        ctx.previous_output_dir = Some(first.clone());
        ctx.attempt = 2;
        set_aside_reports(&ctx, &report).expect("set aside");
        assert_eq!(
            std::fs::read_to_string(first.join("junit.xml")).expect("read"),
            r("attempt 1")
        );

        // Left by attempt 2, which kept this very copy: removed, the copy untouched.
        std::fs::write(second.join("junit.xml"), r("attempt 2")).expect("write");
        std::fs::write(&report, r("attempt 2")).expect("write");
        ctx.output_dir = first.join("attempt-3");
        ctx.previous_output_dir = Some(second.clone());
        ctx.attempt = 3;
        set_aside_reports(&ctx, &report).expect("removed");
        assert!(!report.exists());
        assert!(!second.join("junit.xml.1").exists());
        assert_eq!(
            std::fs::read_to_string(second.join("junit.xml")).expect("read"),
            r("attempt 2")
        );

        // A different file under the kept copy's name is kept too, never removed.
        std::fs::write(&report, r("rewritten")).expect("write");
        set_aside_reports(&ctx, &report).expect("moved");
        assert_eq!(
            std::fs::read_to_string(second.join("junit.xml.1")).expect("read"),
            r("rewritten")
        );
        std::fs::remove_file(second.join("junit.xml")).expect("rm");

        // Nothing there, or a report inside the attempt's own new dir: nothing to do.
        set_aside_reports(&ctx, &report).expect("nothing to move");
        std::fs::create_dir(&ctx.output_dir).expect("mkdir");
        let inside = ctx.output_dir.join("junit.xml");
        std::fs::write(&inside, "mine").expect("write");
        set_aside_reports(&ctx, &inside).expect("left alone");
        assert!(inside.exists());
    }

    #[test]
    fn a_junit_path_that_is_no_report_stays_where_it_is_and_is_an_error() {
        let root = tempfile::tempdir().expect("tempdir");
        let out = root.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        let ctx = SuiteContext::new("s", root.path(), root.path(), &out);

        let pom = root.path().join("pom.xml");
        std::fs::write(&pom, "<project/>").expect("write");
        let err = set_aside_reports(&ctx, &pom).expect_err("not a report");
        assert!(err.to_string().contains("not a JUnit report"), "{err}");
        assert_eq!(std::fs::read_to_string(&pom).expect("read"), "<project/>");

        let fifo = root.path().join("r.xml");
        crate::junit::tests::mkfifo(&fifo);
        let err = set_aside_reports(&ctx, &fifo).expect_err("a FIFO");
        assert!(err.to_string().contains("it is a FIFO"), "{err}");
        let linked = root.path().join("null.xml");
        std::os::unix::fs::symlink("/dev/null", &linked).expect("symlink");
        let err = set_aside_reports(&ctx, &linked).expect_err("a device");
        assert!(err.to_string().contains("character device"), "{err}");
        assert!(std::fs::symlink_metadata(&fifo).is_ok_and(|meta| !meta.is_file()));
        assert!(std::fs::symlink_metadata(&linked).is_ok_and(|meta| meta.is_symlink()));
        assert_eq!(std::fs::read_dir(&out).expect("list").count(), 0, "nothing moved");

        // In a report directory, a FIFO named like a report is an error too.
        let dir = root.path().join("reports");
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::rename(&fifo, dir.join("TEST-x.xml")).expect("move the FIFO");
        let err = report_files(&ctx, &dir).expect_err("a FIFO in the directory");
        assert!(err.to_string().contains("TEST-x.xml"), "{err}");
    }

    #[test]
    fn stale_names_prefix_the_first_component() {
        assert_eq!(stale_name(Path::new("junit.xml")).as_os_str(), "stale-junit.xml");
        assert_eq!(stale_name(Path::new("a/b/r.xml")), Path::new("stale-a/b/r.xml"));
    }
}

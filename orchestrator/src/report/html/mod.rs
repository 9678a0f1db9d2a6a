//! `report.html`: one self-contained page per run — header, timeline of the
//! suites' attempts, every test filterable, failures with their diagnostics
//! and attachments, and the history of the project's earlier runs.
//!
//! The page is the template `report.html` (inline CSS and JS, no network)
//! with the run's data as one JSON blob in a `<script type="application/json">`
//! element, built from the stored evidence alone, so a report written at the
//! end of a run, by `merge` or by `runs show --html` is the same. Everything
//! in the blob came from a tool and is untrusted: the blob escapes `<`, `>`,
//! `&` and the line separators, so no text can close the script element, and
//! the page puts text into the document with `textContent` only.

mod data;
mod history;

pub(crate) use data::Page;

use std::io::Write;
use std::path::Path;

use evidence::LoadedRun;
use serde_json::ser::Formatter;

use super::{check_destination, ReportError};

/// The report's file name inside a run directory.
pub const REPORT_FILE: &str = "report.html";

/// The page; the data goes where [`DATA_MARK`] is.
const TEMPLATE: &str = include_str!("report.html");
const DATA_MARK: &str = "__QAAGENT_REPORT_DATA__";

/// How many earlier runs of the project the history shows.
const HISTORY_RUNS: usize = 10;

/// Writes the HTML report of `run` to `path`, atomically (not durably:
/// see [`evidence::replace_quickly`]). Links to the
/// run's files are relative when `path` is inside the run directory (so
/// the directory can be moved or zipped), absolute `file://` ones otherwise.
/// The history is read from the runs next to `run`'s directory.
pub fn write_html(run: &LoadedRun, path: &Path) -> Result<(), ReportError> {
    check_destination(path)?;
    let data = data::ReportData::read(run, link_base(run, path), HISTORY_RUNS, data::PAGE_LIMITS)?;
    write_page(&data, path)
}

/// Writes `<run>/report.html`: what the end of a run calls.
pub fn write_run_report(run: &LoadedRun) -> Result<(), ReportError> {
    logged(run, |path| write_html(run, path))
}

/// Writes `<run>/report.html` with the rows of `page`, built from `run`'s
/// records as they were written (`merge`, which so reads them once).
pub(crate) fn write_run_report_from(run: &LoadedRun, page: Page) -> Result<(), ReportError> {
    logged(run, |path| {
        check_destination(path)?;
        let earlier = history::earlier_runs(run, HISTORY_RUNS);
        let data = data::ReportData::new(run, link_base(run, path), page, &earlier)?;
        write_page(&data, path)
    })
}

/// Runs `write` on `<run>/report.html`, logging how it went. The run
/// directory is qaagent's: a link a tool planted there is removed, never
/// written through, and a page that could not be replaced is removed rather
/// than left to stand for this run.
fn logged(run: &LoadedRun, write: impl FnOnce(&Path) -> Result<(), ReportError>) -> Result<(), ReportError> {
    let path = run.dir.join(REPORT_FILE);
    if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.file_type().is_symlink()) {
        log::warn!(
            "removing the link {} where qaagent writes; not following it",
            path.display()
        );
        let _ = std::fs::remove_file(&path);
    }
    let started = std::time::Instant::now();
    let written = write(&path);
    match &written {
        Ok(()) => log::debug!("{} written in {:?}", path.display(), started.elapsed()),
        Err(err) => {
            log::warn!("{}: {err}", path.display());
            super::discard_stale(&path);
        }
    }
    written
}

/// The template with `data` in it, written to `path`.
fn write_page(data: &data::ReportData, path: &Path) -> Result<(), ReportError> {
    let (head, tail) = TEMPLATE.split_once(DATA_MARK).unwrap_or((TEMPLATE, ""));
    let mut page = Vec::with_capacity(TEMPLATE.len() + data.size_hint());
    page.extend_from_slice(head.as_bytes());
    let mut serializer = serde_json::Serializer::with_formatter(&mut page, ScriptSafe);
    serde::Serialize::serialize(data, &mut serializer).map_err(ReportError::Html)?;
    page.extend_from_slice(tail.as_bytes());
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    // Derived from the evidence, and written again by `runs show --html`:
    // not worth two fsyncs (~8 ms) at the end of every run.
    evidence::replace_quickly(path, &page).map_err(ReportError::Write)
}

/// What the page puts before a run-relative path to link to it: nothing
/// when the report is in the run directory, else the directory's URL.
fn link_base(run: &LoadedRun, report: &Path) -> String {
    let canonical = |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let report_dir = report
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let run_dir = canonical(&run.dir);
    if canonical(report_dir) == run_dir {
        return String::new();
    }
    let mut url = String::from("file://");
    for byte in run_dir.to_string_lossy().bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => url.push(char::from(byte)),
            other => url.push_str(&format!("%{other:02X}")),
        }
    }
    url.push('/');
    url
}

/// JSON that can sit inside a `<script>` element: `<`, `>` and `&` (so no
/// `</script>` or `<!--`), and U+2028/U+2029 (line ends to old parsers)
/// written as `\u` escapes. They occur only inside strings, where an escape
/// means the same character.
struct ScriptSafe;

impl Formatter for ScriptSafe {
    fn write_string_fragment<W: ?Sized + Write>(&mut self, writer: &mut W, fragment: &str) -> std::io::Result<()> {
        let mut rest = fragment;
        while let Some(at) = rest.find(['<', '>', '&', '\u{2028}', '\u{2029}']) {
            writer.write_all(&rest.as_bytes()[..at])?;
            let special = rest[at..].chars().next().unwrap_or('<');
            write!(writer, "\\u{:04x}", u32::from(special))?;
            rest = &rest[at + special.len_utf8()..];
        }
        writer.write_all(rest.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_in_a_string_can_close_the_script_element() {
        let hostile = "</script><img src=x onerror=alert(1)>&\u{2028}\u{2029}\"é";
        let mut out = Vec::new();
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, ScriptSafe);
        serde::Serialize::serialize(&hostile, &mut serializer).expect("serializes");
        let text = String::from_utf8(out).expect("utf-8");
        assert_eq!(
            text,
            r#""\u003c/script\u003e\u003cimg src=x onerror=alert(1)\u003e\u0026\u2028\u2029\"é""#
        );
        assert_eq!(serde_json::from_str::<String>(&text).expect("parses back"), hostile);
    }

    #[test]
    fn the_template_has_one_place_for_the_data() {
        assert_eq!(TEMPLATE.matches(DATA_MARK).count(), 1);
    }
}

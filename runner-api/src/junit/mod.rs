//! Reading JUnit XML as real tools write it.
//!
//! There is no single JUnit schema; every tool writes its own dialect. This
//! reader accepts what pytest (xunit1 and xunit2), behave, Playwright, Node's
//! test runner, Maven Surefire and friends produce:
//!
//! - a `<testsuites>` or a bare `<testsuite>` root, suites nested to any depth,
//!   and `<testcase>` directly under `<testsuites>` (Node's test runner);
//! - `<failure>`, `<error>` and `<skipped>` with `message`, `type` and a body of
//!   text and CDATA pieces, `<system-out>` / `<system-err>`;
//! - `time` in any float syntax (`0.5`, `8.6e-05`, `1,5`) or absent;
//! - Maven Surefire's reruns (also nextest's, and what qaagent's own
//!   `--junit` writes): `<flakyFailure>` / `<flakyError>` and `<rerunFailure>`
//!   / `<rerunError>` are a case's earlier attempts, so a pass after them is
//!   flaky, and reruns that failed with no final outcome fail the case;
//! - `<properties>` and any element it does not know are skipped, as are
//!   comments, processing instructions, the XML declaration and a UTF-8 byte
//!   order mark — but a `<testsuite>`, `<testcase>`, `<failure>` or `<error>`
//!   inside one (or a suite or case inside a case) is malformed: what it
//!   holds would be lost without a word;
//! - UTF-8, UTF-16 (with a byte order mark or without), and ISO-8859-1 or
//!   Windows-1252 when the XML declaration says so; any other declared
//!   encoding is an error naming it.
//!
//! It streams: one pass of quick-xml's events over a buffered reader, no
//! document tree, so a report of any size costs little more memory than the
//! cases it holds (and nothing at all with [`for_each_case`]). Modules:
//! `case` (a case, laid out to be cheap to keep), `decode` (other encodings
//! to UTF-8, and a file that does not start like XML failing at once),
//! `input` (the bytes, where an error is, and the one fast path: failure
//! text read straight from the buffer), `parser` (events to cases and
//! errors), `values` (attribute values, times, text).
//!
//! A report that is not well-formed — truncated by a killed tool, garbage, an
//! empty file, another XML document — is a [`JunitError::Malformed`] naming the
//! file, line and column, never "zero tests": a suite whose report cannot be
//! read must not look like a suite that ran nothing.
//!
//! A report can say that a suite went wrong beyond its cases: an `<error>`
//! or `<failure>` directly under `<testsuite>`, or `failures` / `errors`
//! counts its cases do not bear out. [`read_report`] returns these as
//! [`SuiteProblem`]s next to the cases, and `conclude` makes such a suite an
//! error.
//!
//! Status of a case: `error` beats `failure` beats `skipped` when a case holds
//! several of them; message, type and body come from the first one, except
//! that several `<failure>` / `<error>` elements (pytest writes one per
//! failing subtest) are all kept: each in [`JunitCase::failures`], their
//! messages and bodies joined in `message` and `details`. Rows are
//! returned in file order and never merged (pytest writes a second row for a
//! teardown error; merging is the pytest runner's business).

mod case;
mod decode;
mod input;
mod parser;
mod values;

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use quick_xml::events::Event;
use quick_xml::Reader;

pub use case::JunitCase;
pub use values::KEPT_TEXT_BYTES;

use decode::{Decoded, HeadError};
use input::Input;
use parser::Parser;

/// A low guess of a report's bytes per test case, for reserving the list of
/// cases: a passing pytest case alone is about 200 bytes of attributes.
const BYTES_PER_CASE_GUESS: u64 = 512;

/// The most cases reserved up front (23 MB of them): the guess comes from
/// the file's length, and a sparse 50 GB file once asked for 9 GB at once.
/// A larger report grows the list as it is read.
const MAX_CASES_GUESS: u64 = 1 << 18;

/// A JUnit file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JunitError {
    /// The file could not be opened or read.
    #[error("cannot read JUnit file {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not well-formed JUnit XML (or is truncated).
    #[error("malformed JUnit file {}, line {line}, column {column}: {message}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: u64,
        /// 1-based column of the problem, counted in bytes. For a problem
        /// inside a tag or a run of text this is where that construct starts.
        column: u64,
        /// What is wrong.
        message: String,
    },
}

/// What a report says went wrong in a suite beyond its cases: a suite whose
/// report shows this did not pass, whatever its cases say.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SuiteProblem {
    /// An `<error>` or `<failure>` directly under `<testsuite>` or
    /// `<testsuites>` (a tool's set-up of the whole suite failed, e.g.
    /// `setUpClass`).
    Reported {
        /// `name` of the suite, when given.
        suite: Option<String>,
        /// `error` or `failure`.
        element: &'static str,
        /// Its `message` (else its `type`), when given.
        message: Option<String>,
    },
    /// The suite's `failures` and `errors` attributes count more than its
    /// cases (and suite-level elements) show.
    Miscounted {
        /// `name` of the suite, when given.
        suite: Option<String>,
        /// The `failures` attribute.
        failures: u64,
        /// The `errors` attribute.
        errors: u64,
        /// Failed and erroneous cases (and suite-level elements) listed.
        listed: u64,
    },
    /// The suite's `tests` attribute counts tests, and it lists no case: a
    /// report that says tests ran and names none is no pass. (Listing fewer
    /// cases than `tests` is not a problem: pytest counts every subtest in
    /// `tests` and writes one row per test.)
    Unlisted {
        /// `name` of the suite, when given.
        suite: Option<String>,
        /// The `tests` attribute.
        tests: u64,
    },
    /// A problem another report of the tool states, in words already fit to
    /// show: Playwright's JSON report (read before its JUnit) has errors
    /// outside any test, or counts its tests do not bear out.
    Stated(String),
}

impl std::fmt::Display for SuiteProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let suite = |name: &Option<String>| {
            name.as_deref()
                .map(|name| format!(" of suite {name:?}"))
                .unwrap_or_default()
        };
        match self {
            SuiteProblem::Reported {
                suite: name,
                element,
                message,
            } => {
                write!(f, "the report has a suite-level <{element}>{}", suite(name))?;
                match message {
                    Some(message) => write!(f, ": {message}"),
                    None => Ok(()),
                }
            }
            SuiteProblem::Miscounted {
                suite: name,
                failures,
                errors,
                listed,
            } => {
                let plural = |n: &u64, word: &str| format!("{n} {word}{}", if *n == 1 { "" } else { "s" });
                let counts = match (failures, errors) {
                    (0, errors) => plural(errors, "error"),
                    (failures, 0) => plural(failures, "failure"),
                    (failures, errors) => format!("{} and {}", plural(failures, "failure"), plural(errors, "error")),
                };
                write!(f, "the report counts {counts}{} but lists {listed}", suite(name))
            }
            SuiteProblem::Unlisted { suite: name, tests } => {
                write!(f, "the report counts {tests} tests{} but lists none", suite(name))
            }
            SuiteProblem::Stated(problem) => f.write_str(problem),
        }
    }
}

/// Everything read from a report: its cases, and what it says went wrong
/// beyond them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JunitReport {
    /// The test cases, in file order.
    pub cases: Vec<JunitCase>,
    /// Suite-level errors and counts the cases do not bear out, in file order.
    pub problems: Vec<SuiteProblem>,
}

/// Reads every test case of one JUnit XML file, in file order. What the
/// report says beyond its cases ([`SuiteProblem`]) is left out: use
/// [`read_report`] where a verdict depends on the report.
pub fn read_file(path: &Path) -> Result<Vec<JunitCase>, JunitError> {
    read_report(path).map(|report| report.cases)
}

/// Reads one JUnit XML file: its cases in file order, and its suite-level problems.
pub fn read_report(path: &Path) -> Result<JunitReport, JunitError> {
    let file = open_regular(path).map_err(|source| JunitError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Growing the list by doubling would copy it and fault in its pages
    // several times over; real reports spend several hundred bytes per case
    // (attributes, indentation, output), so reserve one slot per
    // `BYTES_PER_CASE_GUESS` bytes up front and trim what is left over.
    let guess = file
        .metadata()
        .map_or(0, |meta| (meta.len() / BYTES_PER_CASE_GUESS).min(MAX_CASES_GUESS));
    let mut cases = Vec::with_capacity(usize::try_from(guess).unwrap_or(0));
    let problems = stream(file, path, |case| cases.push(case))?.problems;
    cases.shrink_to_fit();
    Ok(JunitReport { cases, problems })
}

/// Reads every test case of JUnit XML from `reader` (buffered or not: the
/// reader buffers itself); `path_for_errors` names the source in errors.
pub fn read_reader<R: Read>(reader: R, path_for_errors: &Path) -> Result<Vec<JunitCase>, JunitError> {
    let mut cases = Vec::new();
    for_each_case(reader, path_for_errors, |case| cases.push(case))?;
    Ok(cases)
}

/// Streams the test cases of JUnit XML from `reader` to `on_case`, in file
/// order, without keeping them; returns how many there were and what the
/// report says went wrong beyond them.
///
/// On error, the cases before the problem have already been handed over; the
/// error means the report as a whole is unreadable and those cases are not to
/// be trusted as the complete set.
pub fn for_each_case<R, F>(reader: R, path_for_errors: &Path, on_case: F) -> Result<Summary, JunitError>
where
    R: Read,
    F: FnMut(JunitCase),
{
    stream(reader, path_for_errors, on_case)
}

/// What [`for_each_case`] returns besides the cases it hands over.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Summary {
    /// How many cases there were.
    pub cases: u64,
    /// Suite-level errors and counts the cases do not bear out, in file order.
    pub problems: Vec<SuiteProblem>,
}

/// [`for_each_case`], also returning the report's suite-level problems.
fn stream<R, F>(reader: R, path_for_errors: &Path, on_case: F) -> Result<Summary, JunitError>
where
    R: Read,
    F: FnMut(JunitCase),
{
    let decoded = Decoded::new(reader).map_err(|err| match err {
        HeadError::Io(source) => JunitError::Io {
            path: path_for_errors.to_path_buf(),
            source,
        },
        HeadError::NotXml { line, column } => JunitError::Malformed {
            path: path_for_errors.to_path_buf(),
            line,
            column,
            message: "text before the root element".to_string(),
        },
        HeadError::Unsupported(encoding) => JunitError::Malformed {
            path: path_for_errors.to_path_buf(),
            line: 1,
            column: 1,
            message: format!(
                "the report declares encoding {encoding:?}, which qaagent does not read (UTF-8, UTF-16, ISO-8859-1, Windows-1252)"
            ),
        },
    })?;
    let mut reader = Reader::from_reader(Input::new(decoded));
    // `<a></a>` and `<a/>` are both handled; end-name checking (on by
    // default) catches mismatched tags.
    reader.config_mut().expand_empty_elements = false;
    let mut parser = Parser::new(path_for_errors, on_case);
    let mut buf = Vec::with_capacity(4096);
    // quick-xml stops a text event before a `&` and then expects to read the
    // reference itself, so text it has begun must not be taken from under it.
    let mut quick_xml_in_text = false;
    loop {
        buf.clear();
        if parser.collecting() && !quick_xml_in_text {
            // The fast path for failure text: see the `input` module.
            let input = reader.get_mut();
            input
                .take_text(&mut parser.text)
                .map_err(|err| parser.text_error(err, input))?;
        } else if parser.ignoring_text() && !quick_xml_in_text {
            // As a quick-xml event, text that is not kept would be buffered
            // whole, twice: 1 GB of it between two cases once took 2 GB.
            let input = reader.get_mut();
            input.skip_text().map_err(|err| parser.text_error(err, input))?;
        }
        quick_xml_in_text = false;
        let at = reader.get_mut().pin();
        let xml_offset = reader.buffer_position();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(err) => {
                // quick-xml counts from after a byte order mark; we count from the file's start.
                let error_at = (reader.error_position() + at).saturating_sub(xml_offset).max(at);
                return Err(parser.xml_error(err, reader.get_mut(), error_at));
            }
        };
        let input = reader.get_mut();
        match event {
            Event::Start(start) => parser.open(&start, input, at, false)?,
            Event::Empty(start) => parser.open(&start, input, at, true)?,
            Event::End(_) => parser.close(),
            Event::Text(text) => {
                quick_xml_in_text = parser.collecting() || parser.ignoring_text();
                parser.text(&text, input, at)?;
            }
            Event::CData(cdata) => parser.cdata(&cdata, input, at)?,
            Event::GeneralRef(reference) => parser.reference(&reference, input, at)?,
            // An entity of the document's own is expanded by other readers
            // (Python's ElementTree) into markup this one would not see: a
            // `<failure>` hidden in one read as a pass.
            Event::DocType(doctype) if memchr::memmem::find(&doctype, b"<!ENTITY").is_some() => {
                return Err(parser.declares_entities(input, at));
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => parser.saw_markup = true,
            Event::Eof => {
                let end = input.position();
                return parser.finish(input, end);
            }
        }
    }
}

/// Whether the file at `path` starts like a JUnit report: its root element
/// is `<testsuites>` or `<testsuite>` (read as [`read_report`] reads it:
/// any encoding it takes), or it is empty (a report a killed tool had just
/// opened). Other XML (a `pom.xml`, a project's data) is not a report, and
/// neither is a file that cannot be read.
pub fn looks_like_report(path: &Path) -> bool {
    let Ok(file) = open_regular(path) else { return false };
    if file.metadata().is_ok_and(|meta| meta.len() == 0) {
        return true;
    }
    let Ok(decoded) = Decoded::new(file) else { return false };
    let mut reader = Reader::from_reader(std::io::BufReader::new(decoded));
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(start) | Event::Empty(start)) => {
                return matches!(start.local_name().as_ref(), b"testsuites" | b"testsuite");
            }
            Ok(Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
    }
}

/// Opens `path` for reading if it is a regular file, links followed.
/// Anything else is refused without blocking or reading from it: a FIFO
/// there once hung qaagent past the suite's timeout and every signal but
/// SIGKILL (`O_NONBLOCK` opens it at once; regular files ignore the flag),
/// a device like `/dev/zero` would never end, and `/dev/stdout` is
/// qaagent's own output.
/// A file on one of the kernel's own file systems ([`kernel_file_system`])
/// is refused before it is opened.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<File> {
    if let Some(refused) = on_kernel_file_system(path) {
        return Err(refused);
    }
    open_nonblocking(path, 0, ": a report is read only from a regular file")
}

/// Opens `path` for reading without waiting for a FIFO's writer
/// (`O_NONBLOCK`, which regular files ignore), with `flags` besides; a link
/// refused by `O_NOFOLLOW`, or anything but a regular file, is an
/// `InvalidInput` error saying what it is (and `why`, after it).
pub(crate) fn open_nonblocking(path: &Path, flags: libc::c_int, why: &str) -> std::io::Result<File> {
    let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | flags)
        .open(path)
        .map_err(|err| match err.raw_os_error() {
            // What `O_NOFOLLOW` says of a link, in words.
            Some(libc::ELOOP) if flags & libc::O_NOFOLLOW != 0 => invalid("it is a link, not followed".into()),
            _ => err,
        })?;
    match not_regular(file.metadata()?.file_type()) {
        None => Ok(file),
        Some(what) => Err(invalid(format!("it is {what}, not a regular file{why}"))),
    }
}

/// The error for a `path` on one of the kernel's own file systems, if it is.
pub(crate) fn on_kernel_file_system(path: &Path) -> Option<std::io::Error> {
    let name = kernel_file_system(path)?;
    Some(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("it is on {name}, the kernel's own file system, not a report: qaagent neither reads nor moves it"),
    ))
}

/// The name of the kernel's own file system `path` (links followed) lies
/// on — proc, sysfs, debugfs and their kin — if it does. Their files are
/// views of the kernel that look like empty regular files (so like a report
/// a killed tool had just opened): `junit = "/proc/self/environ"` once
/// copied qaagent's environment, secrets and all, into the artifacts, and
/// `/proc/kmsg` had its kernel messages drained. devtmpfs has tmpfs's magic
/// number, so it cannot be told apart here: its devices are refused as
/// not regular files.
pub(crate) fn kernel_file_system(path: &Path) -> Option<&'static str> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let name = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
        // SAFETY: a zeroed statfs is a valid value for statfs to fill in.
        let mut stat: libc::statfs = unsafe { std::mem::zeroed() };
        // SAFETY: a valid NUL-terminated path and a statfs to write to.
        if unsafe { libc::statfs(name.as_ptr(), &mut stat) } != 0 {
            return None;
        }
        // The magic numbers are 32 bits; their declared types differ between C libraries.
        let magic = stat.f_type as u32;
        let kernel = [
            (libc::PROC_SUPER_MAGIC as u32, "proc"),
            (libc::SYSFS_MAGIC as u32, "sysfs"),
            (libc::DEBUGFS_MAGIC as u32, "debugfs"),
            (libc::TRACEFS_MAGIC as u32, "tracefs"),
            (libc::SECURITYFS_MAGIC as u32, "securityfs"),
            (libc::CGROUP_SUPER_MAGIC as u32, "cgroup"),
            (libc::CGROUP2_SUPER_MAGIC as u32, "cgroup2"),
            (libc::BPF_FS_MAGIC as u32, "bpf"),
        ];
        kernel.iter().find(|(known, _)| *known == magic).map(|(_, name)| *name)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = path;
        None
    }
}

/// What a file of type `kind` is, when it is not a regular file.
pub(crate) fn not_regular(kind: std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        None
    } else if kind.is_dir() {
        Some("a directory")
    } else if kind.is_fifo() {
        Some("a FIFO")
    } else if kind.is_char_device() {
        Some("a character device")
    } else if kind.is_block_device() {
        Some("a block device")
    } else if kind.is_socket() {
        Some("a socket")
    } else {
        Some("neither a file nor a directory")
    }
}

/// The `*.xml` files in `dir` and its subdirectories (a report left in one
/// is a report: skipping it passed a run whose failure was in
/// `reports/sub/`), sorted by path. behave writes one report per feature
/// file this way. Linked files and linked directories count too (a failing
/// report in a linked `reports/sub/` once passed the run); a directory or
/// file reached twice (a link back up, two links to one place) is listed
/// once.
pub fn xml_files_in(dir: &Path) -> Result<Vec<PathBuf>, JunitError> {
    xml_files_in_except(dir, &|_| false)
}

/// [`xml_files_in`], leaving out every subdirectory for which `foreign`
/// says yes (qaagent's own output inside a report directory: its copies of
/// earlier reports are not the tool's new ones).
pub(crate) fn xml_files_in_except(dir: &Path, foreign: &dyn Fn(&Path) -> bool) -> Result<Vec<PathBuf>, JunitError> {
    let mut files = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let io_error = |source| JunitError::Io {
            path: dir.clone(),
            source,
        };
        // Through links, a directory can be reached again (a loop): by its
        // real path, each is entered once.
        if !seen.insert(std::fs::canonicalize(&dir).map_err(io_error)?) {
            log::debug!("{} was listed already (a linked directory)", dir.display());
            continue;
        }
        for entry in std::fs::read_dir(&dir).map_err(io_error)? {
            let entry = entry.map_err(io_error)?;
            let path = entry.path();
            // `is_dir` and `is_file` follow links: a linked report or
            // directory counts as what it links to.
            if path.is_dir() {
                if foreign(&path) {
                    log::debug!("not reading reports below {}: qaagent's own output", path.display());
                } else {
                    dirs.push(path);
                }
                continue;
            }
            let is_xml = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("xml"));
            if !is_xml {
                continue;
            }
            // A FIFO or a device named like a report (or a link to one) is
            // never read, and never passed over in silence: it may be where
            // the tool meant its failing report to go.
            let kind = match std::fs::metadata(&path) {
                Ok(meta) => meta.file_type(),
                Err(err) => {
                    log::debug!("not reading {}: {err}", path.display());
                    continue;
                }
            };
            if let Some(what) = not_regular(kind) {
                return Err(JunitError::Io {
                    source: std::io::Error::new(
                        std::io::ErrorKind::InvalidInput,
                        format!("it is named like a report but is {what}, which qaagent does not read"),
                    ),
                    path,
                });
            }
            if seen.insert(std::fs::canonicalize(&path).map_err(io_error)?) {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Reads every test case of every `*.xml` file in `dir` ([`xml_files_in`]),
/// files in path order, cases in file order. A directory without reports yields no
/// cases; use [`xml_files_in`] first when that must be told apart. Any
/// unreadable file makes the whole directory an error.
pub fn read_dir(dir: &Path) -> Result<Vec<JunitCase>, JunitError> {
    let mut cases = Vec::new();
    for file in xml_files_in(dir)? {
        cases.extend(read_file(&file)?);
    }
    Ok(cases)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Makes a FIFO at `path`.
    pub(crate) fn mkfifo(path: &Path) {
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(
            unsafe { libc::mkfifo(name.as_ptr(), 0o600) },
            0,
            "mkfifo {}",
            path.display()
        );
    }

    #[test]
    fn a_report_that_is_no_regular_file_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("r.xml");
        mkfifo(&fifo);
        let err = read_report(&fifo).expect_err("a FIFO is no report");
        assert!(err.to_string().contains("it is a FIFO"), "{err}");
        assert!(!looks_like_report(&fifo));
        let zero = dir.path().join("zero.xml");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        let err = read_report(&zero).expect_err("a device is no report");
        assert!(err.to_string().contains("character device"), "{err}");
        let err = xml_files_in(dir.path()).expect_err("named like reports, and no files");
        assert!(matches!(err, JunitError::Io { .. }), "{err}");
    }

    #[test]
    fn a_file_on_the_kernels_own_file_systems_is_refused_unread() {
        for path in ["/proc/self/environ", "/proc/self/status"] {
            let err = read_report(Path::new(path)).expect_err("a view of the kernel is no report");
            assert!(err.to_string().contains("it is on proc"), "{err}");
            assert!(!looks_like_report(Path::new(path)));
        }
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(kernel_file_system(dir.path()), None);
        let link = dir.path().join("env.xml");
        std::os::unix::fs::symlink("/proc/self/environ", &link).expect("symlink");
        assert_eq!(kernel_file_system(&link), Some("proc"), "links are followed");
    }

    #[test]
    fn text_directly_inside_a_suite_is_passed_over_and_nul_bytes_are_malformed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.xml");
        let mut xml = String::from(r#"<testsuite name="s" tests="2"><testcase classname="c" name="a"/>"#);
        xml.push_str(&"x &amp; y\n".repeat(100_000));
        xml.push_str(r#"<testcase classname="c" name="b"><failure message="boom"/></testcase></testsuite>"#);
        std::fs::write(&path, &xml).expect("write");
        let report = read_report(&path).expect("well-formed");
        assert_eq!(report.cases.len(), 2);
        assert_eq!(report.cases[1].message(), Some("boom"));

        // What a tool's report padded by `truncate -s 50G` starts like.
        let mut sparse = br#"<testsuite name="s" tests="1"><testcase classname="c" name="a"/>"#.to_vec();
        sparse.extend([0; 4096]);
        std::fs::write(&path, &sparse).expect("write");
        let err = read_report(&path).expect_err("NUL bytes");
        assert!(
            matches!(&err, JunitError::Malformed { line: 1, column: 65, message, .. } if message.contains("NUL")),
            "{err}"
        );
    }
}

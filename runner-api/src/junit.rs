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
//! - `<properties>`, `<rerunFailure>`, `<flakyFailure>` and any element it does
//!   not know are skipped, as are comments, processing instructions, the XML
//!   declaration and a UTF-8 byte order mark.
//!
//! It streams: one pass of quick-xml over a buffered reader, no document tree,
//! so a report of any size costs little more memory than the cases it holds
//! (and nothing at all with [`for_each_case`]). The text of failures and
//! captured output, most of a big report, is read straight from the buffer
//! rather than as quick-xml events: a traceback is broken up by hundreds of
//! references (`&lt;`, `&quot;`), each of which would be two events.
//!
//! A report that is not well-formed — truncated by a killed tool, garbage, an
//! empty file, another XML document — is a [`JunitError::Malformed`] naming the
//! file, line and column, never "zero tests": a suite whose report cannot be
//! read must not look like a suite that ran nothing.
//!
//! Status of a case: `error` beats `failure` beats `skipped` when a case holds
//! several of them; message, type and body come from the first one. Rows are
//! returned in file order and never merged (pytest writes a second row for a
//! teardown error; merging is the pytest runner's business).

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, BytesText, Event};
use quick_xml::Reader;

use crate::case::{TestCase, TestStatus};

/// Buffer size for reading report files: large enough that reading is not the
/// bottleneck, small next to any report worth streaming.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A low guess of a report's bytes per test case, for reserving the list of
/// cases: a passing pytest case alone is about 200 bytes of attributes.
const BYTES_PER_CASE_GUESS: u64 = 512;

/// One `<testcase>` as read from a JUnit file.
#[derive(Debug, Clone, PartialEq)]
pub struct JunitCase {
    /// `name` attribute.
    pub name: String,
    /// `classname` attribute (empty when absent).
    pub classname: String,
    /// `file` attribute (pytest's xunit1 family, Playwright).
    pub file: Option<String>,
    /// `line` attribute, when given.
    pub line: Option<u32>,
    /// `name` of the innermost enclosing `<testsuite>` (`None` for a case
    /// directly under `<testsuites>`). Shared by the suite's cases: a
    /// 100,000-case report would otherwise allocate 100,000 copies of it.
    pub suite_name: Option<Arc<str>>,
    /// `hostname` of the innermost enclosing `<testsuite>` (Playwright puts
    /// the project there), shared like `suite_name`.
    pub hostname: Option<Arc<str>>,
    /// `time` in seconds, when given and a finite, non-negative number.
    pub time: Option<f64>,
    /// Derived from the `<failure>`, `<error>`, `<skipped>` children.
    pub status: TestStatus,
    /// `message` of the (first) failure / error / skipped element.
    pub message: Option<String>,
    /// `type` of the (first) failure / error / skipped element (pytest marks
    /// an xfail with `<skipped type="pytest.xfail">`).
    pub error_type: Option<String>,
    /// Text of the (first) failure / error / skipped element: text and CDATA
    /// pieces joined, leading blank lines and trailing whitespace removed.
    pub details: Option<String>,
    /// `<system-out>` text (several elements joined by a newline), tidied like `details`.
    pub system_out: Option<String>,
    /// `<system-err>` text, tidied like `details`.
    pub system_err: Option<String>,
}

impl JunitCase {
    /// The case as a [`TestCase`] (no selector; runners add it).
    pub fn into_test_case(self) -> TestCase {
        TestCase {
            name: self.name,
            classname: self.classname,
            file: self.file,
            selector: None,
            status: self.status,
            duration: self.time.unwrap_or(0.0),
            message: self.message,
            error_type: self.error_type,
            details: self.details,
            system_out: self.system_out,
            system_err: self.system_err,
            attempts: 1,
            flaky: false,
            previous_failures: Vec::new(),
        }
    }
}

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

/// Reads every test case of one JUnit XML file, in file order.
pub fn read_file(path: &Path) -> Result<Vec<JunitCase>, JunitError> {
    let file = File::open(path).map_err(|source| JunitError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // Growing the list by doubling would copy it and fault in its pages
    // several times over; real reports spend several hundred bytes per case
    // (attributes, indentation, output), so reserve one slot per
    // `BYTES_PER_CASE_GUESS` bytes up front and trim what is left over.
    let guess = file.metadata().map_or(0, |meta| meta.len() / BYTES_PER_CASE_GUESS);
    read_into(file, path, Vec::with_capacity(usize::try_from(guess).unwrap_or(0)))
}

/// Reads every test case of JUnit XML from `reader` (buffered or not: the
/// reader buffers itself); `path_for_errors` names the source in errors.
pub fn read_reader<R: Read>(reader: R, path_for_errors: &Path) -> Result<Vec<JunitCase>, JunitError> {
    read_into(reader, path_for_errors, Vec::new())
}

fn read_into<R: Read>(reader: R, path: &Path, mut cases: Vec<JunitCase>) -> Result<Vec<JunitCase>, JunitError> {
    for_each_case(reader, path, |case| cases.push(case))?;
    cases.shrink_to_fit();
    Ok(cases)
}

/// Streams the test cases of JUnit XML from `reader` to `on_case`, in file
/// order, without keeping them; returns how many there were.
///
/// On error, the cases before the problem have already been handed over; the
/// error means the report as a whole is unreadable and those cases are not to
/// be trusted as the complete set.
pub fn for_each_case<R, F>(reader: R, path_for_errors: &Path, on_case: F) -> Result<u64, JunitError>
where
    R: Read,
    F: FnMut(JunitCase),
{
    let mut reader = Reader::from_reader(Source::new(reader));
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
            // Failure bodies are most of a big report, and text broken up by
            // references (`&lt;`, `&quot;`) that quick-xml hands over as two
            // events each; read them straight into the collected text.
            let src = reader.get_mut();
            src.take_text(&mut parser.text)
                .map_err(|err| parser.text_error(err, src))?;
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
        let src = reader.get_mut();
        // Failure bodies come as long runs of text pieces and references;
        // a dispatch of their own keeps branch prediction good for them.
        let event = if parser.collecting() {
            match event {
                Event::Text(text) => {
                    parser.text.push_str(&text.xml10_content());
                    quick_xml_in_text = true;
                    continue;
                }
                Event::GeneralRef(reference) => {
                    push_reference(&mut parser.text, &reference);
                    continue;
                }
                Event::CData(cdata) => {
                    parser.text.push_str(&cdata.xml10_content());
                    continue;
                }
                other => other,
            }
        } else {
            event
        };
        match event {
            Event::Start(start) => parser.open(&start, src, at, false)?,
            Event::Empty(start) => parser.open(&start, src, at, true)?,
            Event::End(_) => parser.close(),
            Event::Text(text) => parser.text(&text, src, at)?,
            // Collected CDATA was taken above.
            Event::CData(_) => parser.outside_root(src, at, "CDATA")?,
            Event::GeneralRef(reference) => parser.reference(&reference, src, at)?,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => parser.saw_markup = true,
            Event::Eof => {
                let end = src.position();
                return parser.finish(src, end);
            }
        }
    }
}

/// The `*.xml` files directly in `dir` (not in subdirectories), sorted by
/// file name. behave writes one report per feature file this way.
pub fn xml_files_in(dir: &Path) -> Result<Vec<PathBuf>, JunitError> {
    let io_error = |source| JunitError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        let is_xml = path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("xml"));
        // `is_file` follows symlinks, so a linked report counts.
        if is_xml && path.is_file() {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(files)
}

/// Reads every test case of every `*.xml` file directly in `dir`, files in
/// name order, cases in file order. A directory without reports yields no
/// cases; use [`xml_files_in`] first when that must be told apart. Any
/// unreadable file makes the whole directory an error.
pub fn read_dir(dir: &Path) -> Result<Vec<JunitCase>, JunitError> {
    let mut cases = Vec::new();
    for file in xml_files_in(dir)? {
        cases.extend(read_file(&file)?);
    }
    Ok(cases)
}

/// A place in the input: 1-based line and byte column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Place {
    line: u64,
    column: u64,
}

/// The input, buffered so that lines are counted only when a place is asked
/// for, in bulk, and never per event: reading stays as fast as quick-xml.
///
/// Bytes from the start of the event being read (the pin) stay in the buffer
/// until the next event, so a problem anywhere inside it can still be placed
/// exactly; the buffer grows when one event is larger than it.
struct Source<R> {
    inner: R,
    buf: Vec<u8>,
    /// Next unconsumed byte in `buf`.
    pos: usize,
    /// End of the valid bytes in `buf`.
    filled: usize,
    /// Offset in the input of `buf[0]`.
    base: u64,
    /// Start of the current event in `buf`; nothing from here on is dropped.
    pin: usize,
    /// Newlines are counted in `buf[..counted]`.
    counted: usize,
    /// Newlines before `buf[counted]`.
    lines: u64,
    /// Input offset of the start of the line `buf[counted]` is on.
    line_start: u64,
}

impl<R: Read> Source<R> {
    fn new(inner: R) -> Self {
        Source {
            inner,
            buf: vec![0; READ_BUFFER_BYTES],
            pos: 0,
            filled: 0,
            base: 0,
            pin: 0,
            counted: 0,
            lines: 0,
            line_start: 0,
        }
    }

    /// The input offset of the next byte.
    fn position(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Marks the next byte as the start of an event, and returns its offset.
    fn pin(&mut self) -> u64 {
        self.pin = self.pos;
        self.position()
    }

    /// Counts newlines up to `end` (an index into `buf`, at or after `counted`).
    fn count_to(&mut self, end: usize) {
        if end <= self.counted {
            return;
        }
        let chunk = &self.buf[self.counted..end];
        let newlines = count_newlines(chunk);
        if newlines > 0 {
            self.lines += newlines as u64;
            if let Some(last) = chunk.iter().rposition(|&b| b == b'\n') {
                self.line_start = self.base + (self.counted + last + 1) as u64;
            }
        }
        self.counted = end;
    }

    /// The line and column of input offset `offset`, which must not lie
    /// before the current pin (earlier places are given as the pin's).
    fn place(&mut self, offset: u64) -> Place {
        let index = usize::try_from(offset.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .clamp(self.counted, self.filled);
        self.count_to(index);
        let offset = self.base + index as u64;
        Place {
            line: self.lines + 1,
            column: offset - self.line_start + 1,
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> Source<R> {
    /// Reads more input after dropping what is before the pin, having
    /// counted its lines.
    #[cold]
    fn refill(&mut self) -> io::Result<()> {
        self.count_to(self.pin);
        self.buf.copy_within(self.pin..self.filled, 0);
        self.base += self.pin as u64;
        self.filled -= self.pin;
        self.pos -= self.pin;
        self.counted -= self.pin;
        self.pin = 0;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }
}

/// The longest reference [`Source::take_text`] reads on its own: more than
/// any predefined entity or character reference needs (`&#x10FFFF;`).
const MAX_REFERENCE_NAME: usize = 32;

/// Why [`Source::take_text`] could not go on.
#[derive(Debug)]
enum TextError {
    Io(io::Error),
    /// The byte at this input offset does not continue valid UTF-8.
    InvalidUtf8 {
        at: u64,
    },
}

impl From<io::Error> for TextError {
    fn from(err: io::Error) -> Self {
        TextError::Io(err)
    }
}

impl<R: Read> Source<R> {
    /// Reads more input, keeping everything from the pin on; false at the
    /// end of the input.
    fn fill_more(&mut self) -> io::Result<bool> {
        let kept = self.filled - self.pin;
        self.refill()?;
        Ok(self.filled > kept)
    }

    /// Appends text to `out` up to the next `<` or the end of the input, as
    /// quick-xml's text and reference events would give it: line breaks
    /// normalized as XML 1.0 says, references resolved by [`push_reference`].
    /// Leaves a `&` without a `;` close after it (and what follows) to
    /// quick-xml, which says what is wrong with it.
    fn take_text(&mut self, out: &mut String) -> Result<(), TextError> {
        // A `\r` was the last byte taken: a `\n` right after it is part of the same line break.
        let mut after_cr = false;
        loop {
            self.pin = self.pos;
            if self.pos == self.filled && !self.fill_more()? {
                return Ok(());
            }
            if after_cr {
                after_cr = false;
                if self.buf[self.pos] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let available = &self.buf[self.pos..self.filled];
            let stop = memchr::memchr3(b'<', b'&', b'\r', available);
            let run = &available[..stop.unwrap_or(available.len())];
            match std::str::from_utf8(run) {
                Ok(text) => {
                    out.push_str(text);
                    self.pos += run.len();
                }
                Err(err) => {
                    let valid = err.valid_up_to();
                    out.push_str(std::str::from_utf8(&run[..valid]).unwrap_or_default());
                    self.pos += valid;
                    // A character cut in two by the end of the buffer reads whole after a refill.
                    let cut_by_buffer = err.error_len().is_none() && stop.is_none();
                    self.pin = self.pos;
                    if cut_by_buffer && self.fill_more()? {
                        continue;
                    }
                    return Err(TextError::InvalidUtf8 { at: self.position() });
                }
            }
            let Some(stop) = stop else { continue };
            match available[stop] {
                b'<' => return Ok(()),
                b'\r' => {
                    out.push('\n');
                    self.pos += 1;
                    after_cr = true;
                }
                _ => {
                    let after_amp = &available[stop + 1..];
                    let window = &after_amp[..after_amp.len().min(MAX_REFERENCE_NAME + 1)];
                    match memchr::memchr3(b';', b'<', b'&', window) {
                        Some(end) if window[end] == b';' => {
                            let Ok(name) = std::str::from_utf8(&window[..end]) else {
                                return Ok(());
                            };
                            push_reference(out, name);
                            self.pos += end + 2;
                        }
                        // The `;` may be in input not read yet.
                        None if window.len() <= MAX_REFERENCE_NAME => {
                            self.pin = self.pos;
                            if !self.fill_more()? {
                                return Ok(());
                            }
                        }
                        _ => return Ok(()),
                    }
                }
            }
        }
    }
}

/// Newlines in `bytes`, counted in blocks the compiler turns into vector code.
fn count_newlines(bytes: &[u8]) -> usize {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let in_blocks: usize = blocks
        .map(|block| block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>() as usize)
        .sum();
    in_blocks + rest.iter().filter(|&&b| b == b'\n').count()
}

impl<R: Read> BufRead for Source<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.filled {
            self.refill()?;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
}

/// What an open element is, for deciding what its children and text mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Testsuites,
    Testsuite,
    Testcase,
    /// `<failure>`, `<error>` or `<skipped>` of a test case.
    Outcome,
    SystemOut,
    SystemErr,
    /// Anything else, with all its content.
    Ignored,
}

/// An element whose end tag has not been read yet.
struct Open {
    kind: Kind,
    /// The element's name, for "not closed" errors.
    name: Cow<'static, str>,
    /// 1-based line of its start tag.
    line: u64,
}

/// The `<testsuite>` attributes a case inherits.
struct Suite {
    name: Option<Arc<str>>,
    hostname: Option<Arc<str>>,
}

/// The event-by-event state of one report being read.
struct Parser<'p, F> {
    path: &'p Path,
    on_case: F,
    stack: Vec<Open>,
    suites: Vec<Suite>,
    case: Option<JunitCase>,
    /// The current case already has its first outcome element.
    outcome_seen: bool,
    /// Text of the element being collected (first outcome, system-out/err).
    text: String,
    /// Whether text of the innermost element is being collected.
    collect: bool,
    root_seen: bool,
    root_closed: bool,
    saw_markup: bool,
    cases: u64,
}

/// Turns input offsets into lines and columns (implemented by [`Source`];
/// a trait so the parser does not depend on the reader type).
trait Locate {
    fn place(&mut self, offset: u64) -> Place;
}

impl<R: Read> Locate for Source<R> {
    fn place(&mut self, offset: u64) -> Place {
        Source::place(self, offset)
    }
}

impl<'p, F: FnMut(JunitCase)> Parser<'p, F> {
    fn new(path: &'p Path, on_case: F) -> Self {
        Parser {
            path,
            on_case,
            stack: Vec::with_capacity(8),
            suites: Vec::with_capacity(4),
            case: None,
            outcome_seen: false,
            text: String::new(),
            collect: false,
            root_seen: false,
            root_closed: false,
            saw_markup: false,
            cases: 0,
        }
    }

    fn malformed(&self, place: Place, message: impl Into<String>) -> JunitError {
        JunitError::Malformed {
            path: self.path.to_path_buf(),
            line: place.line,
            column: place.column,
            message: message.into(),
        }
    }

    /// Turns a quick-xml error found at input offset `at` into ours.
    fn xml_error(&self, err: quick_xml::Error, src: &mut impl Locate, at: u64) -> JunitError {
        match err {
            quick_xml::Error::Io(source) => JunitError::Io {
                path: self.path.to_path_buf(),
                source: Arc::try_unwrap(source)
                    .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string())),
            },
            err => self.malformed(src.place(at), err.to_string()),
        }
    }

    /// Turns a problem met by [`Source::take_text`] into ours.
    fn text_error<R: Read>(&self, err: TextError, src: &mut Source<R>) -> JunitError {
        match err {
            TextError::Io(source) => JunitError::Io {
                path: self.path.to_path_buf(),
                source,
            },
            TextError::InvalidUtf8 { at } => {
                let element = self.stack.last().map_or("?", |open| &open.name);
                self.malformed(src.place(at), format!("the text of <{element}> is not valid UTF-8"))
            }
        }
    }

    /// Whether text read now belongs to the element being collected (not to
    /// an element nested in it).
    fn collecting(&self) -> bool {
        self.collect
            && matches!(
                self.stack.last().map(|open| open.kind),
                Some(Kind::Outcome | Kind::SystemOut | Kind::SystemErr)
            )
    }

    /// A start tag at input offset `at` (or, with `empty`, a self-closing one).
    fn open(&mut self, start: &BytesStart<'_>, src: &mut impl Locate, at: u64, empty: bool) -> Result<(), JunitError> {
        let qname = start.name();
        let name = qname.local_name();
        let name = name.as_ref();
        let kind = match self.stack.last().map(|open| open.kind) {
            None => {
                if self.root_closed {
                    return Err(self.malformed(
                        src.place(at),
                        format!("element <{name}> after the end of the root element"),
                    ));
                }
                self.root_seen = true;
                match name {
                    "testsuites" => Kind::Testsuites,
                    "testsuite" => self.open_suite(start, src, at)?,
                    _ => {
                        return Err(self.malformed(
                            src.place(at),
                            format!("the root element is <{name}>, not <testsuites> or <testsuite>"),
                        ))
                    }
                }
            }
            Some(Kind::Testsuites | Kind::Testsuite) => match name {
                "testsuite" => self.open_suite(start, src, at)?,
                "testcase" => self.open_case(start, src, at)?,
                _ => Kind::Ignored,
            },
            Some(Kind::Testcase) => match name {
                "failure" => self.open_outcome(start, src, at, TestStatus::Failed)?,
                "error" => self.open_outcome(start, src, at, TestStatus::Error)?,
                "skipped" => self.open_outcome(start, src, at, TestStatus::Skipped)?,
                "system-out" => {
                    self.start_collecting();
                    Kind::SystemOut
                }
                "system-err" => {
                    self.start_collecting();
                    Kind::SystemErr
                }
                _ => Kind::Ignored,
            },
            Some(Kind::Outcome | Kind::SystemOut | Kind::SystemErr | Kind::Ignored) => Kind::Ignored,
        };
        if empty {
            self.end(kind);
        } else {
            // Every failure would otherwise allocate its element's name.
            const KNOWN: [&str; 8] = [
                "testsuites",
                "testsuite",
                "testcase",
                "failure",
                "error",
                "skipped",
                "system-out",
                "system-err",
            ];
            let name = match KNOWN.iter().find(|known| **known == name) {
                Some(known) => Cow::Borrowed(*known),
                None => Cow::Owned(name.to_string()),
            };
            let line = src.place(at).line;
            self.stack.push(Open { kind, name, line });
        }
        Ok(())
    }

    fn open_suite(&mut self, start: &BytesStart<'_>, src: &mut impl Locate, at: u64) -> Result<Kind, JunitError> {
        let mut suite = Suite {
            name: None,
            hostname: None,
        };
        self.attributes(start, src, at, |key, raw| match key {
            "name" => suite.name = Some(Arc::from(attribute_value(raw))),
            "hostname" => suite.hostname = Some(Arc::from(attribute_value(raw))),
            _ => {}
        })?;
        self.suites.push(suite);
        Ok(Kind::Testsuite)
    }

    fn open_case(&mut self, start: &BytesStart<'_>, src: &mut impl Locate, at: u64) -> Result<Kind, JunitError> {
        let suite = self.suites.last();
        let mut case = JunitCase {
            name: String::new(),
            classname: String::new(),
            file: None,
            line: None,
            suite_name: suite.and_then(|suite| suite.name.clone()),
            hostname: suite.and_then(|suite| suite.hostname.clone()),
            time: None,
            status: TestStatus::Passed,
            message: None,
            error_type: None,
            details: None,
            system_out: None,
            system_err: None,
        };
        self.attributes(start, src, at, |key, raw| match key {
            "name" => case.name = attribute_value(raw).into_owned(),
            "classname" => case.classname = attribute_value(raw).into_owned(),
            "file" => case.file = Some(attribute_value(raw).into_owned()),
            "line" => case.line = attribute_value(raw).trim().parse().ok(),
            "time" => case.time = parse_seconds(&attribute_value(raw)),
            _ => {}
        })?;
        self.case = Some(case);
        self.outcome_seen = false;
        Ok(Kind::Testcase)
    }

    fn open_outcome(
        &mut self,
        start: &BytesStart<'_>,
        src: &mut impl Locate,
        at: u64,
        status: TestStatus,
    ) -> Result<Kind, JunitError> {
        let first = !self.outcome_seen;
        let mut message = None;
        let mut error_type = None;
        self.attributes(start, src, at, |key, raw| match key {
            "message" if first => message = Some(attribute_value(raw).into_owned()),
            "type" if first => error_type = Some(attribute_value(raw).into_owned()),
            _ => {}
        })?;
        if first {
            self.start_collecting();
        }
        self.outcome_seen = true;
        if let Some(case) = self.case.as_mut() {
            if severity(status) > severity(case.status) {
                case.status = status;
            }
            if first {
                case.message = message;
                case.error_type = error_type;
            }
        }
        Ok(Kind::Outcome)
    }

    fn start_collecting(&mut self) {
        self.text.clear();
        self.collect = true;
    }

    /// Calls `each` with every attribute of `start` (at input offset `at`),
    /// failing on a malformed one.
    fn attributes<'a>(
        &self,
        start: &'a BytesStart<'_>,
        src: &mut impl Locate,
        at: u64,
        mut each: impl FnMut(&'a str, &'a str),
    ) -> Result<(), JunitError> {
        for attr in RawAttributes(start.attributes_raw()) {
            match attr {
                Ok((key, raw_value)) => each(key, raw_value),
                Err(problem) => {
                    return Err(self.malformed(
                        src.place(at),
                        format!("bad attribute in <{}>: {problem}", start.name().as_ref()),
                    ))
                }
            }
        }
        Ok(())
    }

    /// An end tag (quick-xml has checked that it matches).
    fn close(&mut self) {
        if let Some(open) = self.stack.pop() {
            self.end(open.kind);
        }
    }

    /// The element of kind `kind` has ended.
    fn end(&mut self, kind: Kind) {
        match kind {
            Kind::Testsuite => {
                self.suites.pop();
            }
            Kind::Testcase => {
                if let Some(case) = self.case.take() {
                    self.cases += 1;
                    (self.on_case)(case);
                }
            }
            Kind::Outcome | Kind::SystemOut | Kind::SystemErr if self.collect => {
                let text = tidy(&self.text);
                self.text.clear();
                self.collect = false;
                if let Some(case) = self.case.as_mut() {
                    match kind {
                        Kind::Outcome => case.details = text,
                        Kind::SystemOut => append(&mut case.system_out, text),
                        _ => append(&mut case.system_err, text),
                    }
                }
            }
            _ => {}
        }
        if self.stack.is_empty() && self.root_seen {
            self.root_closed = true;
        }
    }

    /// A run of text at input offset `at`.
    fn text(&mut self, text: &BytesText<'_>, src: &mut impl Locate, at: u64) -> Result<(), JunitError> {
        if self.collecting() {
            self.text.push_str(&text.xml10_content());
        } else if self.stack.is_empty() {
            let raw: &str = text;
            if let Some(first) = raw.find(|c: char| !c.is_ascii_whitespace()) {
                return self.outside_root(src, at + first as u64, "text");
            }
        }
        Ok(())
    }

    /// An entity or character reference in text, at input offset `at`.
    fn reference(&mut self, reference: &BytesRef<'_>, src: &mut impl Locate, at: u64) -> Result<(), JunitError> {
        if self.collecting() {
            push_reference(&mut self.text, reference);
            Ok(())
        } else {
            self.outside_root(src, at, "text")
        }
    }

    /// Content (`what`) at input offset `at` that is not collected: ignored
    /// inside the document, malformed outside the root element.
    fn outside_root(&self, src: &mut impl Locate, at: u64, what: &str) -> Result<(), JunitError> {
        if !self.stack.is_empty() {
            return Ok(());
        }
        let where_ = if self.root_closed {
            "after the end of the root element"
        } else {
            "before the root element"
        };
        Err(self.malformed(src.place(at), format!("{what} {where_}")))
    }

    /// The input ended at offset `end`.
    fn finish(self, src: &mut impl Locate, end: u64) -> Result<u64, JunitError> {
        if let Some(open) = self.stack.last() {
            return Err(self.malformed(
                src.place(end),
                format!(
                    "unexpected end of file: <{}> opened at line {} is not closed (truncated report?)",
                    open.name, open.line
                ),
            ));
        }
        if !self.root_seen {
            let message = if self.saw_markup {
                "no <testsuites> or <testsuite> element"
            } else {
                "empty file"
            };
            return Err(self.malformed(src.place(end), message));
        }
        Ok(self.cases)
    }
}

/// Rank of a status when a case holds several outcome elements.
fn severity(status: TestStatus) -> u8 {
    match status {
        TestStatus::Passed => 0,
        TestStatus::Skipped => 1,
        TestStatus::Failed => 2,
        TestStatus::Error => 3,
    }
}

/// The `key="value"` pairs of a start tag, as written (local names, raw
/// values). quick-xml's own attribute iterator does more (duplicate checks)
/// and costs more than the whole rest of the reader.
struct RawAttributes<'a>(&'a str);

impl<'a> Iterator for RawAttributes<'a> {
    type Item = Result<(&'a str, &'a str), String>;

    fn next(&mut self) -> Option<Self::Item> {
        // Byte-wise: every delimiter is ASCII, so slicing at them keeps UTF-8 intact.
        let text = self.0;
        let bytes = text.as_bytes();
        let skip_space = |mut i: usize| {
            while i < bytes.len() && is_xml_space(bytes[i]) {
                i += 1;
            }
            i
        };
        let start = skip_space(0);
        if start == bytes.len() {
            return None;
        }
        // Whatever goes wrong, stop after reporting it.
        self.0 = "";
        let mut key_end = start;
        while key_end < bytes.len() && bytes[key_end] != b'=' && !is_xml_space(bytes[key_end]) {
            key_end += 1;
        }
        let key = &text[start..key_end];
        if key.is_empty() {
            return Some(Err("`=` without an attribute name".into()));
        }
        let eq = skip_space(key_end);
        if bytes.get(eq) != Some(&b'=') {
            return Some(Err(format!("attribute `{key}` has no value")));
        }
        let open = skip_space(eq + 1);
        let Some(&quote) = bytes.get(open).filter(|&&b| b == b'"' || b == b'\'') else {
            return Some(Err(format!("the value of attribute `{key}` is not quoted")));
        };
        let Some(len) = text[open + 1..].find(char::from(quote)) else {
            return Some(Err(format!("the value of attribute `{key}` is not closed")));
        };
        let close = open + 1 + len;
        if bytes.get(close + 1).is_some_and(|&b| !is_xml_space(b)) {
            return Some(Err(format!("no space after the value of attribute `{key}`")));
        }
        self.0 = &text[close + 1..];
        let local = match key.bytes().rposition(|b| b == b':') {
            Some(colon) => &key[colon + 1..],
            None => key,
        };
        Some(Ok((local, &text[open + 1..close])))
    }
}

fn is_xml_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// An attribute's value with references resolved and whitespace normalized
/// as XML says (a tab or line break is a space, `&#10;` a line break); an
/// entity only a DTD could define, or a stray `&`, is kept as written rather
/// than failing the whole report.
fn attribute_value(raw: &str) -> Cow<'_, str> {
    // No early exit, so the compiler can check many bytes at a time.
    let special = raw
        .bytes()
        .fold(false, |found, b| found | matches!(b, b'&' | b'\t' | b'\r' | b'\n'));
    if special {
        Cow::Owned(normalize_attribute_value(raw))
    } else {
        Cow::Borrowed(raw)
    }
}

/// [`attribute_value`] for values that need work.
fn normalize_attribute_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(special) = rest.find(['&', '\t', '\r', '\n']) {
        out.push_str(&rest[..special]);
        let tail = &rest[special..];
        if !tail.starts_with('&') {
            out.push(' ');
            // `\r\n` is one line break, so one space.
            rest = tail.strip_prefix("\r\n").unwrap_or(&tail[1..]);
            continue;
        }
        match tail[1..].split_once(';') {
            Some((name, _)) if push_resolved(&mut out, name) => rest = &tail[name.len() + 2..],
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Appends what the reference `&name;` stands for, if it is a predefined
/// entity or a character reference; false (and nothing appended) otherwise.
fn push_resolved(out: &mut String, name: &str) -> bool {
    if let Some(text) = resolve_predefined_entity(name) {
        out.push_str(text);
        true
    } else if let Ok(Some(c)) = BytesRef::new(name).resolve_char_ref() {
        out.push(c);
        true
    } else {
        false
    }
}

/// Appends what the reference `&name;` in text stands for; one only a DTD
/// could define (or not a character) is kept as written rather than losing
/// the whole report over it.
fn push_reference(out: &mut String, name: &str) {
    if !push_resolved(out, name) {
        out.push('&');
        out.push_str(name);
        out.push(';');
    }
}

/// `time` as seconds: any float syntax Rust reads (`0.5`, `8.6e-05`, `5.`),
/// plus a decimal comma (`0,5`) or thousands commas (`1,234.5`); negative,
/// infinite or unreadable times are dropped.
fn parse_seconds(raw: &str) -> Option<f64> {
    let raw = raw.trim();
    let value = raw.parse::<f64>().ok().or_else(|| {
        if !raw.contains(',') {
            return None;
        }
        let fixed = if raw.contains('.') {
            raw.replace(',', "")
        } else {
            raw.replace(',', ".")
        };
        fixed.parse::<f64>().ok()
    })?;
    (value.is_finite() && value >= 0.0).then_some(value)
}

/// Collected text without its leading blank lines and trailing whitespace
/// (CDATA is usually wrapped in newlines); `None` when nothing is left.
/// Indentation of the first non-blank line is kept.
fn tidy(text: &str) -> Option<String> {
    let text = text.trim_end();
    let first = text.find(|c: char| !c.is_whitespace())?;
    let start = text[..first].rfind('\n').map_or(0, |newline| newline + 1);
    Some(text[start..].to_owned())
}

/// Adds a further `<system-out>` / `<system-err>` to what a case has.
fn append(target: &mut Option<String>, more: Option<String>) {
    match (target.as_mut(), more) {
        (Some(existing), Some(more)) => {
            existing.push('\n');
            existing.push_str(&more);
        }
        (None, more) => *target = more,
        (Some(_), None) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_in_the_syntaxes_tools_write() {
        assert_eq!(parse_seconds("0.5"), Some(0.5));
        assert_eq!(parse_seconds("8.6e-05"), Some(8.6e-05));
        assert_eq!(parse_seconds("4.6E-5"), Some(4.6e-05));
        assert_eq!(parse_seconds(" 12 "), Some(12.0));
        assert_eq!(parse_seconds("5."), Some(5.0));
        assert_eq!(parse_seconds(".25"), Some(0.25));
        assert_eq!(parse_seconds("0,5"), Some(0.5));
        assert_eq!(parse_seconds("1,234.5"), Some(1234.5));
        assert_eq!(parse_seconds(""), None);
        assert_eq!(parse_seconds("fast"), None);
        assert_eq!(parse_seconds("-1"), None);
        assert_eq!(parse_seconds("inf"), None);
        assert_eq!(parse_seconds("NaN"), None);
    }

    #[test]
    fn tidy_drops_blank_lines_around_text_but_keeps_indentation() {
        assert_eq!(
            tidy("\n\n  indented\n  more\n\n  ").as_deref(),
            Some("  indented\n  more")
        );
        assert_eq!(tidy("plain").as_deref(), Some("plain"));
        assert_eq!(tidy(" \n\t\n "), None);
        assert_eq!(tidy(""), None);
    }

    #[test]
    fn attribute_values_resolve_references_and_normalize_whitespace() {
        assert_eq!(attribute_value("plain"), Cow::Borrowed("plain"));
        assert_eq!(attribute_value("a &nbsp; b &lt; &#65;&#x42;"), "a &nbsp; b < AB");
        assert_eq!(attribute_value("&quot;&apos;&amp;&gt;"), "\"'&>");
        assert_eq!(attribute_value("line&#10;break"), "line\nbreak");
        assert_eq!(attribute_value("tab\there\r\nline\nend\r"), "tab here line end ");
        assert_eq!(attribute_value("dangling & amp"), "dangling & amp");
        assert_eq!(attribute_value("bad &#xZZ; &#0; refs"), "bad &#xZZ; &#0; refs");
        assert_eq!(attribute_value("&amp"), "&amp");
        assert_eq!(attribute_value("ünï &lt;"), "ünï <");
    }

    fn attrs(raw: &str) -> Result<Vec<(&str, &str)>, String> {
        RawAttributes(raw).collect()
    }

    #[test]
    fn raw_attributes_as_xml_allows_writing_them() {
        assert_eq!(attrs(""), Ok(vec![]));
        assert_eq!(attrs("  "), Ok(vec![]));
        assert_eq!(
            attrs(" name=\"a b\" time='0.5'\n\tfile = \"x.py\" j:line=\"3\" "),
            Ok(vec![("name", "a b"), ("time", "0.5"), ("file", "x.py"), ("line", "3")])
        );
        assert_eq!(
            attrs(" message='say \"hi\"' type=\"it's\""),
            Ok(vec![("message", "say \"hi\""), ("type", "it's")])
        );
        assert_eq!(attrs(" empty=\"\""), Ok(vec![("empty", "")]));
    }

    #[test]
    fn raw_attributes_reject_what_xml_rejects() {
        assert!(attrs(" name").is_err());
        assert!(attrs(" name=").is_err());
        assert!(attrs(" name=a").is_err());
        assert!(attrs(" name=\"a").is_err());
        assert!(attrs(" =\"a\"").is_err());
        assert!(attrs(" a=\"1\"b=\"2\"").is_err());
        // Stops after the first problem.
        let mut iter = RawAttributes(" a=\"1\" b c=\"3\"");
        assert_eq!(iter.next(), Some(Ok(("a", "1"))));
        assert!(matches!(iter.next(), Some(Err(_))));
        assert_eq!(iter.next(), None);
    }

    /// A reader handing out at most `chunk` bytes per call, to exercise refills.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn source_places_offsets_across_refills() {
        let data = b"ab\ncd\n\nefg\nhij";
        let mut src = Source::new(Trickle { data, chunk: 3 });
        src.buf = vec![0; 4];
        let mut all = Vec::new();
        loop {
            let at = src.pin();
            let mut piece = [0u8; 2];
            let n = src.read(&mut piece).expect("read from memory");
            if n == 0 {
                break;
            }
            all.extend_from_slice(&piece[..n]);
            // Every place from the pin on is still known exactly.
            let expected = |offset: usize| {
                let before = &data[..offset];
                let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                Place {
                    line,
                    column: (offset - start) as u64 + 1,
                }
            };
            let at_index = usize::try_from(at).expect("small offset");
            assert_eq!(src.place(at), expected(at_index), "at {at}");
            assert_eq!(src.place(at + 1), expected(at_index + 1), "at {at} + 1");
        }
        assert_eq!(all, data);
        let end = src.position();
        assert_eq!(end, data.len() as u64);
        assert_eq!(src.place(end), Place { line: 5, column: 4 });
    }

    #[test]
    fn source_grows_for_an_event_larger_than_its_buffer() {
        let data = b"0123456789\nabcdefghij";
        let mut src = Source::new(Trickle { data, chunk: 4 });
        src.buf = vec![0; 4];
        let at = src.pin();
        let mut all = Vec::new();
        src.read_to_end(&mut all).expect("read from memory");
        assert_eq!(all, data);
        assert!(src.buf.len() >= data.len());
        assert_eq!(src.place(at), Place { line: 1, column: 1 });
        assert_eq!(src.place(at + 13), Place { line: 2, column: 3 });
    }
}

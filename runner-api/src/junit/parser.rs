//! The event-by-event reading of a report: quick-xml's events in, cases
//! out, and every way a report can be malformed turned into an error that
//! says where.

use std::borrow::Cow;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;

use quick_xml::events::{BytesCData, BytesRef, BytesStart, BytesText};

use super::case::{share, Shared, SuiteAttributes};
use super::input::{Input, Locate, Place, TextError, UNCLOSED_CDATA};
use super::values::{append, parse_count, parse_seconds, push_reference, Collected};
use super::{JunitCase, JunitError, SuiteProblem, Summary};
use crate::case::{Failure, PriorFailure, TestStatus};
use attributes::attributes;

/// Bytes of `<![CDATA[` before a CDATA section's content.
const CDATA_OPEN: u64 = 9;

/// The element names this reader gives a meaning to.
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

/// What an open element is, for deciding what its children and text mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Testsuites,
    Testsuite,
    Testcase,
    /// `<failure>`, `<error>` or `<skipped>` of a test case.
    Outcome,
    /// An earlier attempt of a test case that was run again (Maven
    /// Surefire's reruns, and the merged JUnit qaagent writes):
    /// `<flakyFailure>` / `<flakyError>` of a test that then passed,
    /// `<rerunFailure>` / `<rerunError>` of one that failed every time.
    Rerun,
    /// The `<stackTrace>` of such an attempt (Surefire): its body.
    StackTrace,
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

/// The `<testsuite>` attributes a case inherits, and what it claims.
struct Suite {
    attributes: Arc<SuiteAttributes>,
    /// `failures` plus `errors` as the suite's attributes count them.
    claimed: (u64, u64),
    /// Failed and erroneous cases (and suite-level elements) seen in it so far.
    listed: u64,
    /// It is the root `<testsuites>`, whose attributes no case inherits.
    root: bool,
    /// The `tests` attribute, and the cases seen in it so far.
    tests: (u64, u64),
}

impl Suite {
    /// The suite's `name`, for a [`SuiteProblem`].
    fn name(&self) -> Option<String> {
        self.attributes.name.as_deref().map(str::to_owned)
    }
}

/// The event-by-event state of one report being read.
pub(super) struct Parser<'p, F> {
    path: &'p Path,
    on_case: F,
    stack: Vec<Open>,
    suites: Vec<Suite>,
    case: Option<JunitCase>,
    /// Strings the previous case had, shared with the next when they match.
    shared: Shared,
    /// The current case already has its first outcome element.
    outcome_seen: bool,
    /// The status of the current case's first outcome element, when that is
    /// a `<failure>` or `<error>` (a later one makes it one of several).
    first_failure: Option<TestStatus>,
    /// A later `<failure>` or `<error>` of the current case, while its body is read.
    extra: Option<Failure>,
    /// An earlier attempt of the current case, while its body is read.
    rerun: Option<PriorFailure>,
    /// The current case has a `<rerunFailure>` or `<rerunError>`: it failed
    /// every time, whether or not a final outcome says so.
    reruns_failed: bool,
    /// Text of the element being collected (first outcome, system-out/err).
    pub(super) text: Collected,
    /// Whether text of the innermost element is being collected.
    collect: bool,
    root_seen: bool,
    root_closed: bool,
    /// A declaration, comment, processing instruction or doctype was seen.
    pub(super) saw_markup: bool,
    cases: u64,
    problems: Vec<SuiteProblem>,
}

impl<'p, F: FnMut(JunitCase)> Parser<'p, F> {
    pub(super) fn new(path: &'p Path, on_case: F) -> Self {
        Parser {
            path,
            on_case,
            stack: Vec::with_capacity(8),
            suites: Vec::with_capacity(4),
            case: None,
            shared: Shared::default(),
            outcome_seen: false,
            first_failure: None,
            extra: None,
            rerun: None,
            reruns_failed: false,
            text: Collected::default(),
            collect: false,
            root_seen: false,
            root_closed: false,
            saw_markup: false,
            cases: 0,
            problems: Vec::new(),
        }
    }

    fn malformed(&self, place: Place, message: impl Into<String>) -> JunitError {
        malformed(self.path, place, message)
    }

    /// A `<name>` at input offset `at` where this reader does not look for
    /// one (a suite or case inside a test case, any of them or an outcome
    /// inside an element it skips): malformed, as its tests or failures
    /// would otherwise be lost without a word.
    fn unread(&self, name: &str, src: &mut impl Locate, at: u64) -> JunitError {
        let parent = self.stack.last().map_or("?", |open| &open.name);
        self.malformed(
            src.place(at),
            format!("a <{name}> inside <{parent}>, where no JUnit writer puts one: it would not be read"),
        )
    }

    /// Turns a quick-xml error found at input offset `at` into ours.
    pub(super) fn xml_error(&self, err: quick_xml::Error, src: &mut impl Locate, at: u64) -> JunitError {
        match err {
            quick_xml::Error::Io(source) => JunitError::Io {
                path: self.path.to_path_buf(),
                source: Arc::try_unwrap(source)
                    .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string())),
            },
            err => self.malformed(src.place(at), err.to_string()),
        }
    }

    /// Turns a problem met by [`Input::take_text`] into ours.
    pub(super) fn text_error<R: Read>(&self, err: TextError, src: &mut Input<R>) -> JunitError {
        match err {
            TextError::Io(source) => JunitError::Io {
                path: self.path.to_path_buf(),
                source,
            },
            TextError::InvalidUtf8 { at } => self.invalid_utf8_at(src, at),
            TextError::UnclosedCdata { start } => self.malformed(start, UNCLOSED_CDATA),
            TextError::Nul { at } => self.malformed(
                src.place(at),
                "a NUL byte, which XML does not allow (a sparse file, or one cut short and padded?)",
            ),
        }
    }

    /// Text at input offset `at`, raw as `raw`, is not valid UTF-8: an
    /// error at its first bad byte.
    fn invalid_utf8(&self, raw: &[u8], src: &mut impl Locate, at: u64) -> JunitError {
        let valid = std::str::from_utf8(raw).err().map_or(0, |err| err.valid_up_to());
        self.invalid_utf8_at(src, at + valid as u64)
    }

    /// The text of the innermost element is not valid UTF-8 at input offset `at`.
    fn invalid_utf8_at(&self, src: &mut impl Locate, at: u64) -> JunitError {
        let element = self.stack.last().map_or("?", |open| &open.name);
        self.malformed(src.place(at), format!("the text of <{element}> is not valid UTF-8"))
    }

    /// The document type at input offset `at` declares entities, which this
    /// reader does not expand (see `stream`).
    pub(super) fn declares_entities(&self, src: &mut impl Locate, at: u64) -> JunitError {
        self.malformed(
            src.place(at),
            "the report declares entities (<!ENTITY …> in its <!DOCTYPE>), which qaagent does not expand",
        )
    }

    /// Whether text read now belongs to the element being collected (not to
    /// an element nested in it).
    pub(super) fn collecting(&self) -> bool {
        self.collect
            && matches!(
                self.stack.last().map(|open| open.kind),
                Some(Kind::Outcome | Kind::Rerun | Kind::StackTrace | Kind::SystemOut | Kind::SystemErr)
            )
    }

    /// Whether text read now is dropped unread: inside the root, where it
    /// is not collected (whitespace between elements, or a tool's stray
    /// text directly inside `<testsuite>`).
    pub(super) fn ignoring_text(&self) -> bool {
        !self.stack.is_empty() && !self.collecting()
    }

    /// A start tag at input offset `at` (or, with `empty`, a self-closing one).
    pub(super) fn open(
        &mut self,
        start: &BytesStart<'_>,
        src: &mut impl Locate,
        at: u64,
        empty: bool,
    ) -> Result<(), JunitError> {
        let local = start.local_name();
        // The names this reader knows are told apart as bytes, with no UTF-8
        // check; the `Open` of one borrows its name rather than allocating it.
        let known = KNOWN.iter().copied().find(|known| known.as_bytes() == local.as_ref());
        let name = match known {
            Some(known) => known,
            None => std::str::from_utf8(local.as_ref())
                .map_err(|_| self.malformed(src.place(at), "an element name is not valid UTF-8"))?,
        };
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
                    "testsuites" => {
                        // Its counts are checked as a suite's; its cases are in no suite.
                        self.open_suite(start, src, at)?;
                        if let Some(root) = self.suites.last_mut() {
                            root.root = true;
                        }
                        Kind::Testsuites
                    }
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
                // A `<testsuites>` grouping suites below the root is one more level of suites.
                "testsuite" | "testsuites" => self.open_suite(start, src, at)?,
                "testcase" => self.open_case(start, src, at)?,
                // Reruns of a whole suite: a suite that failed, whatever else it says.
                "error" | "failure" | "rerunError" | "rerunFailure" => self.suite_outcome(start, src, at)?,
                _ => Kind::Ignored,
            },
            Some(Kind::Testcase) => match name {
                // Its outcome would belong to no case: no JUnit writer nests them.
                "testcase" | "testsuite" | "testsuites" => return Err(self.unread(name, src, at)),
                "failure" => self.open_outcome(start, src, at, TestStatus::Failed)?,
                "error" => self.open_outcome(start, src, at, TestStatus::Error)?,
                "skipped" => self.open_outcome(start, src, at, TestStatus::Skipped)?,
                "flakyFailure" | "rerunFailure" => self.open_rerun(start, src, at, name, TestStatus::Failed)?,
                "flakyError" | "rerunError" => self.open_rerun(start, src, at, name, TestStatus::Error)?,
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
            Some(Kind::Rerun) if name == "stackTrace" => {
                self.start_collecting();
                Kind::StackTrace
            }
            Some(
                Kind::Outcome | Kind::Rerun | Kind::StackTrace | Kind::SystemOut | Kind::SystemErr | Kind::Ignored,
            ) => {
                if matches!(name, "testcase" | "testsuite" | "testsuites" | "failure" | "error") {
                    return Err(self.unread(name, src, at));
                }
                Kind::Ignored
            }
        };
        if empty {
            self.end(kind);
        } else {
            let name = match known {
                Some(known) => Cow::Borrowed(known),
                None => Cow::Owned(name.to_string()),
            };
            let line = src.place(at).line;
            self.stack.push(Open { kind, name, line });
        }
        Ok(())
    }

    fn open_suite(&mut self, start: &BytesStart<'_>, src: &mut impl Locate, at: u64) -> Result<Kind, JunitError> {
        let (mut shared, mut claimed, mut tests) = (SuiteAttributes::default(), (0, 0), 0);
        attributes(self.path, start, src, at, |key, value| match key {
            "name" => shared.name = Some(value.into()),
            "hostname" => shared.hostname = Some(value.into()),
            "failures" => claimed.0 = parse_count(value),
            "errors" => claimed.1 = parse_count(value),
            "tests" => tests = parse_count(value),
            _ => {}
        })?;
        self.suites.push(Suite {
            attributes: Arc::new(shared),
            claimed,
            listed: 0,
            root: false,
            tests: (tests, 0),
        });
        Ok(Kind::Testsuite)
    }

    /// An `<error>` or `<failure>` directly under `<testsuite>`.
    fn suite_outcome(&mut self, start: &BytesStart<'_>, src: &mut impl Locate, at: u64) -> Result<Kind, JunitError> {
        let (mut message, mut error_type) = (None, None);
        attributes(self.path, start, src, at, |key, value| match key {
            "message" => message = Some(value.to_owned()),
            "type" => error_type = Some(value.to_owned()),
            _ => {}
        })?;
        self.count_listed();
        self.problems.push(SuiteProblem::Reported {
            suite: self.suites.last().and_then(Suite::name),
            element: if start.local_name().as_ref().ends_with(b"rror") {
                "error"
            } else {
                "failure"
            },
            message: message.or(error_type).filter(|message| !message.trim().is_empty()),
        });
        Ok(Kind::Ignored)
    }

    /// One more failed or erroneous case (or suite-level element) in every open suite.
    fn count_listed(&mut self) {
        for suite in &mut self.suites {
            suite.listed += 1;
        }
    }

    fn open_case(&mut self, start: &BytesStart<'_>, src: &mut impl Locate, at: u64) -> Result<Kind, JunitError> {
        let suite = (self.suites.last())
            .filter(|suite| !suite.root)
            .map(|suite| Arc::clone(&suite.attributes));
        let case = self.case.insert(JunitCase::empty(suite));
        let shared = &mut self.shared;
        attributes(self.path, start, src, at, |key, value| {
            case.set_attribute(key, value, shared)
        })?;
        self.outcome_seen = false;
        self.first_failure = None;
        self.reruns_failed = false;
        Ok(Kind::Testcase)
    }

    /// An earlier attempt (`name`, of status `status`) of the current case.
    fn open_rerun(
        &mut self,
        start: &BytesStart<'_>,
        src: &mut impl Locate,
        at: u64,
        name: &str,
        status: TestStatus,
    ) -> Result<Kind, JunitError> {
        let mut prior = PriorFailure {
            status,
            message: None,
            error_type: None,
            details: None,
            duration: 0.0,
        };
        attributes(self.path, start, src, at, |key, value| match key {
            "message" => prior.message = Some(value.to_owned()),
            "type" => prior.error_type = Some(value.to_owned()),
            "time" => prior.duration = parse_seconds(value).unwrap_or(0.0),
            _ => {}
        })?;
        self.reruns_failed |= name.starts_with("rerun");
        self.rerun = Some(prior);
        self.start_collecting();
        Ok(Kind::Rerun)
    }

    fn open_outcome(
        &mut self,
        start: &BytesStart<'_>,
        src: &mut impl Locate,
        at: u64,
        status: TestStatus,
    ) -> Result<Kind, JunitError> {
        let first = !self.outcome_seen;
        // A second failure or error of a case is kept too; a later
        // `<skipped>` only counts towards the status.
        let another = !first && status.is_failure() && self.first_failure.is_some();
        let mut message: Option<Box<str>> = None;
        let mut error_type = None;
        let shared = &mut self.shared;
        attributes(self.path, start, src, at, |key, value| match key {
            "message" if first || another => message = Some(value.into()),
            "type" if first || another => error_type = Some(share(&mut shared.error_type, value)),
            _ => {}
        })?;
        if first || another {
            self.start_collecting();
        }
        if first && status.is_failure() {
            self.first_failure = Some(status);
        }
        self.outcome_seen = true;
        if another {
            self.extra = Some(Failure {
                status,
                message: message.take().map(String::from),
                error_type: error_type.take().as_deref().map(str::to_owned),
                details: None,
            });
        }
        if let Some(case) = self.case.as_mut() {
            if severity(status) > severity(case.status()) {
                case.set_status(status);
            }
            if first && (message.is_some() || error_type.is_some()) {
                let outcome = case.outcome_mut();
                outcome.message = message;
                outcome.error_type = error_type;
            }
        }
        Ok(Kind::Outcome)
    }

    fn start_collecting(&mut self) {
        self.text.clear();
        self.collect = true;
    }

    /// An end tag (quick-xml has checked that it matches).
    pub(super) fn close(&mut self) {
        if let Some(open) = self.stack.pop() {
            self.end(open.kind);
        }
    }

    /// The element of kind `kind` has ended.
    fn end(&mut self, kind: Kind) {
        match kind {
            Kind::Testsuite | Kind::Testsuites => {
                if let Some(suite) = self.suites.pop() {
                    if let (tests @ 1.., 0) = suite.tests {
                        self.problems.push(SuiteProblem::Unlisted {
                            suite: suite.name(),
                            tests,
                        });
                    }
                    let (failures, errors) = suite.claimed;
                    if failures.saturating_add(errors) > suite.listed {
                        self.problems.push(SuiteProblem::Miscounted {
                            suite: suite.name(),
                            failures,
                            errors,
                            listed: suite.listed,
                        });
                    }
                }
            }
            Kind::Testcase => {
                if let Some(mut case) = self.case.take() {
                    case.no_pass_without_a_name();
                    // Reruns then `<skipped>`: skipped after failing, which the
                    // engine fails with a warning of its own.
                    if self.reruns_failed && !self.outcome_seen {
                        case.set_status(TestStatus::Failed);
                        case.outcome_mut().message =
                            Some("the report lists reruns that failed and no final outcome".into());
                    }
                    if case.status().is_failure() {
                        // Each `<failure>` / `<error>` is one in the suite's counts (pytest's subtests).
                        for _ in 0..case.failures().len().max(1) {
                            self.count_listed();
                        }
                    }
                    self.cases += 1;
                    for suite in &mut self.suites {
                        suite.tests.1 += 1;
                    }
                    (self.on_case)(case);
                }
            }
            Kind::StackTrace => {
                let text = self.text.take();
                self.collect = false;
                if let Some(prior) = self.rerun.as_mut() {
                    prior.details = text.map(String::from);
                }
            }
            Kind::Rerun => {
                let text = self.text.take();
                self.collect = false;
                if let (Some(case), Some(mut prior)) = (self.case.as_mut(), self.rerun.take()) {
                    prior.details = prior.details.or(text.map(String::from));
                    case.outcome_mut().previous.push(prior);
                }
            }
            Kind::Outcome | Kind::SystemOut | Kind::SystemErr if self.collect => {
                let text = self.text.take();
                self.collect = false;
                if let Some(case) = self.case.as_mut() {
                    match (kind, self.extra.take()) {
                        (Kind::Outcome, Some(mut extra)) => {
                            extra.details = text.map(String::from);
                            let first = self.first_failure.unwrap_or(TestStatus::Failed);
                            case.add_failure(first, extra);
                        }
                        // Nothing to keep: no outcome allocated for it.
                        (_, _) if text.is_none() => {}
                        (Kind::Outcome, _) => case.outcome_mut().details = text,
                        (kind, _) => {
                            let outcome = case.outcome_mut();
                            let slot = if kind == Kind::SystemOut {
                                &mut outcome.system_out
                            } else {
                                &mut outcome.system_err
                            };
                            match slot {
                                None => *slot = text,
                                Some(_) => append(slot, text.as_deref(), "\n"),
                            }
                        }
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
    pub(super) fn text(&mut self, text: &BytesText<'_>, src: &mut impl Locate, at: u64) -> Result<(), JunitError> {
        if self.collecting() {
            let content = text.xml10_content().map_err(|_| self.invalid_utf8(text, src, at))?;
            self.text.text.push_str(&content);
            self.text.bound();
        } else if self.stack.is_empty() {
            if let Some(first) = text.iter().position(|b| !b.is_ascii_whitespace()) {
                return self.outside_root(src, at + first as u64, "text");
            }
        }
        Ok(())
    }

    /// A CDATA section at input offset `at`.
    pub(super) fn cdata(&mut self, cdata: &BytesCData<'_>, src: &mut impl Locate, at: u64) -> Result<(), JunitError> {
        if self.collecting() {
            let content = cdata
                .xml10_content()
                .map_err(|_| self.invalid_utf8(cdata, src, at + CDATA_OPEN))?;
            self.text.text.push_str(&content);
            self.text.bound();
            Ok(())
        } else {
            self.outside_root(src, at, "CDATA")
        }
    }

    /// An entity or character reference in text, at input offset `at`.
    pub(super) fn reference(
        &mut self,
        reference: &BytesRef<'_>,
        src: &mut impl Locate,
        at: u64,
    ) -> Result<(), JunitError> {
        if !self.collecting() {
            return self.outside_root(src, at, "text");
        }
        match std::str::from_utf8(reference) {
            Ok(name) => {
                push_reference(&mut self.text.text, name);
                Ok(())
            }
            // Past the `&`.
            Err(_) => Err(self.invalid_utf8(reference, src, at + 1)),
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
    pub(super) fn finish(self, src: &mut impl Locate, end: u64) -> Result<Summary, JunitError> {
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
        Ok(Summary {
            cases: self.cases,
            problems: self.problems,
        })
    }
}

/// A [`JunitError::Malformed`] of the report at `path`, at `place`.
fn malformed(path: &Path, place: Place, message: impl Into<String>) -> JunitError {
    JunitError::Malformed {
        path: path.to_path_buf(),
        line: place.line,
        column: place.column,
        message: message.into(),
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

mod attributes;

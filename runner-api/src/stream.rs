//! Per-test results while a tool runs.
//!
//! A built-in runner ships a small plugin for its tool (a pytest plugin, a
//! behave formatter, a Playwright reporter) that appends one JSON line to a
//! regular file in the attempt's output directory as each test starts and
//! as it finishes. [`SuiteContext::run_streaming`] follows that file from a
//! thread while the tool runs, hands each line to the runner's parser, passes
//! what it says on to [`SuiteContext::test_events`] and keeps it: when the
//! tool is stopped before it writes its report (a timeout, an interrupt, a
//! crash), the tests it finished keep their results and the ones it was
//! running are known ([`Streamed`], used by
//! [`conclude_streamed`](crate::conclude::conclude_streamed)).
//!
//! A regular file rather than a pipe: writing it never blocks the tool, it
//! outlives qaagent, and it can be read whole after the tool is gone. Its
//! lines are untrusted (a test can write there too): each is bounded, parsed
//! by the runner with serde, and a line that does not parse is skipped.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use crate::case::TestCase;
use crate::context::SuiteContext;
use crate::process::{ProcessError, ProcessOutcome};

mod reconcile;

/// The name of the stream file in an attempt's output directory.
pub const STREAM_FILE: &str = "qaagent-stream.jsonl";

/// The environment variable that names the stream file to the tool's plugin.
pub const STREAM_ENV: &str = "QAAGENT_STREAM";

/// The longest line read; a longer one is skipped as malformed.
const MAX_LINE_BYTES: usize = 1024 * 1024;

/// How often the stream file is read while the tool runs.
const POLL: Duration = Duration::from_millis(50);

/// What one line of a tool's stream said, as its runner reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamLine {
    /// How many tests the attempt will run.
    Total(usize),
    /// A test started; its case says who it is (its status means nothing yet).
    Started(TestCase),
    /// A test finished, with its result as its report's row would say it.
    Finished(TestCase),
    /// A test this share of a split suite kept, said before any test runs
    /// ([`crate::context::Share`]).
    Kept(TestCase),
    /// The end of the kept tests: how many there were, and how many the
    /// tool collected in all (when it could tell).
    KeptEnd {
        /// The tests collected, the whole suite.
        collected: Option<usize>,
        /// A digest of the collected tests' names ([`crate::ShareTests::digest`]).
        digest: Option<String>,
        /// The tests kept, the [`StreamLine::Kept`] lines before this one.
        kept: usize,
    },
    /// What one of the tool's worker processes collected, where the process
    /// that names the kept tests collects none itself (pytest-xdist): every
    /// worker says it, and they must agree.
    Collected {
        /// The tests collected, the whole suite.
        count: usize,
        /// A digest of their names.
        digest: String,
    },
    /// The tool's own version, said as it starts ([`Runner::version_in_stream`]).
    ///
    /// [`Runner::version_in_stream`]: crate::Runner::version_in_stream
    Version(String),
}

/// A test event of one attempt, for whoever follows the run.
#[derive(Debug, Clone)]
pub enum TestEvent {
    /// How many tests the attempt will run.
    Planned(usize),
    /// A test started.
    Started(Arc<TestCase>),
    /// A test finished.
    Finished(Arc<TestCase>),
}

/// Where to send [`TestEvent`]s as they happen: a function called from the
/// thread that follows the stream. It should not block for long.
#[derive(Clone)]
pub struct TestEvents {
    send: Arc<dyn Fn(TestEvent) + Send + Sync>,
}

impl TestEvents {
    /// Events through `send`, e.g. onto a channel.
    pub fn new(send: impl Fn(TestEvent) + Send + Sync + 'static) -> Self {
        TestEvents { send: Arc::new(send) }
    }

    fn send(&self, event: TestEvent) {
        (self.send)(event);
    }
}

impl std::fmt::Debug for TestEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestEvents")
    }
}

/// What an attempt's stream said, once the tool is gone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Streamed {
    /// How many tests the tool said it would run, when it said.
    pub total: Option<usize>,
    /// The tests that finished, in the order they did.
    pub finished: Vec<TestCase>,
    /// The tests that started and never finished, in the order they started.
    pub running: Vec<TestCase>,
    /// Lines that could not be read (too long, not the tool's JSON).
    pub malformed: usize,
    /// What a share that chose its own tests said it kept: the first whole
    /// list, `None` until one ended (or when it was not whole).
    pub share: Option<crate::context::ShareTests>,
    /// The kept tests read so far, until their end.
    kept: Vec<TestCase>,
    /// Whether the end of the kept tests was read: any later list is not
    /// the tool's (a test wrote it) and is ignored.
    kept_ended: bool,
    /// The tool's version, as it first said it (see [`StreamLine::Version`]).
    pub version: Option<String>,
    /// What its workers said they collected ([`StreamLine::Collected`]):
    /// `Err` once two disagreed.
    workers_collected: Option<Result<(usize, String), ()>>,
}

impl Streamed {
    /// What the tool said its share kept, and collected: where the list's
    /// end did not say what was collected, what every worker said, if they
    /// agreed ([`StreamLine::Collected`]).
    pub fn take_share(&mut self) -> Option<crate::context::ShareTests> {
        let mut share = self.share.take()?;
        if share.collected.is_none() && share.digest.is_none() {
            if let Some(Ok((count, digest))) = self.workers_collected.take() {
                share.collected = Some(count);
                share.digest = Some(digest);
            }
        }
        Some(share)
    }

    /// True when the stream named no test at all.
    pub fn is_empty(&self) -> bool {
        self.finished.is_empty() && self.running.is_empty()
    }

    /// How many tests the tool said it would run and never started, when it
    /// said. Tests, not runs: a test the tool ran again itself
    /// (pytest-rerunfailures, Playwright's `retries`) finished more than once.
    pub fn never_ran(&self) -> Option<usize> {
        let started: std::collections::HashSet<String> =
            self.finished.iter().chain(&self.running).map(TestCase::label).collect();
        self.total.map(|total| total.saturating_sub(started.len()))
    }

    fn apply(&mut self, line: StreamLine, events: Option<&TestEvents>) {
        match line {
            StreamLine::Total(total) => {
                self.total = Some(total);
                if let Some(events) = events {
                    events.send(TestEvent::Planned(total));
                }
            }
            StreamLine::Started(case) => {
                if let Some(events) = events {
                    events.send(TestEvent::Started(Arc::new(case.clone())));
                }
                // Started again: the tool retries it itself (Playwright's `retries`).
                let label = case.label();
                self.running.retain(|running| running.label() != label);
                self.running.push(case);
            }
            StreamLine::Finished(case) => {
                let label = case.label();
                self.running.retain(|running| running.label() != label);
                if let Some(events) = events {
                    events.send(TestEvent::Finished(Arc::new(case.clone())));
                }
                self.finished.push(case);
            }
            // Only the first list counts: the tool writes it before any test
            // runs, so a later one (a test writing into the stream) cannot
            // replace it. A list whose count or selectors are off is none.
            StreamLine::Kept(case) if !self.kept_ended => self.kept.push(case),
            StreamLine::KeptEnd {
                collected,
                digest,
                kept,
            } if !self.kept_ended => {
                self.kept_ended = true;
                let listed = std::mem::take(&mut self.kept);
                let selectors: Option<Vec<String>> = listed.into_iter().map(|case| case.selector).collect();
                self.share =
                    selectors
                        .filter(|selectors| selectors.len() == kept)
                        .map(|kept| crate::context::ShareTests {
                            collected,
                            digest,
                            kept,
                        });
            }
            StreamLine::Collected { count, digest } => {
                let said = (count, digest);
                self.workers_collected = match self.workers_collected.take() {
                    None => Some(Ok(said)),
                    Some(Ok(earlier)) if earlier == said => Some(Ok(earlier)),
                    Some(_) => Some(Err(())),
                };
            }
            StreamLine::Kept(_) | StreamLine::KeptEnd { .. } => {}
            // The first one is the plugin's, written as the tool starts; a
            // version is only shown, never acted on, and kept short and plain.
            StreamLine::Version(version) if self.version.is_none() => {
                self.version = Some(version).filter(|version| plausible_version(version));
            }
            StreamLine::Version(_) => {}
        }
    }

    /// The cases the stream gives the attempt when the tool wrote no report:
    /// the finished ones, then each running one as an error saying `why` it
    /// did not finish ("timed out after 4 s while running this test").
    pub fn into_cases(self, why: &str) -> Vec<TestCase> {
        let mut cases = self.finished;
        // A test run again by a plugin (pytest-rerunfailures) finishes twice: the last word stands.
        let mut seen = std::collections::HashSet::new();
        cases.reverse();
        cases.retain(|case| seen.insert(case.label()));
        cases.reverse();
        cases.extend(self.running.into_iter().map(|mut case| {
            case.status = crate::TestStatus::Error;
            case.message = Some(why.to_string());
            case
        }));
        cases
    }
}

/// Reads a growing stream file a whole line at a time.
struct Tail {
    path: PathBuf,
    offset: u64,
    partial: Vec<u8>,
    /// Inside a line too long to keep, until its end.
    skipping: bool,
}

impl Tail {
    fn new(path: &Path) -> Self {
        Tail {
            path: path.to_path_buf(),
            offset: 0,
            partial: Vec::new(),
            skipping: false,
        }
    }

    /// Calls `each` with every whole line written since the last call; a
    /// line over [`MAX_LINE_BYTES`] is given as `None`.
    fn read(&mut self, each: &mut dyn FnMut(Option<&str>)) {
        // The tool's tests can replace the file: a FIFO there would block
        // this thread (and the attempt with it) on open, a link to /dev/zero
        // would never end. Only the regular file itself is read.
        let Ok(mut file) = crate::outdir::open_written(&self.path) else {
            return;
        };
        if file.seek(SeekFrom::Start(self.offset)).is_err() {
            return;
        }
        let mut buf = [0_u8; 64 * 1024];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            self.offset += n as u64;
            let mut rest = &buf[..n];
            while !rest.is_empty() {
                let (piece, ended) = match memchr::memchr(b'\n', rest) {
                    Some(at) => (&rest[..at], true),
                    None => (rest, false),
                };
                rest = &rest[(piece.len() + usize::from(ended))..];
                if !self.skipping {
                    self.partial.extend_from_slice(piece);
                    if self.partial.len() > MAX_LINE_BYTES {
                        self.partial.clear();
                        self.skipping = true;
                        each(None);
                    }
                }
                if ended {
                    if !self.skipping {
                        each(Some(&String::from_utf8_lossy(&self.partial)));
                    }
                    self.partial.clear();
                    self.skipping = false;
                }
            }
        }
    }
}

/// Reads `tail`'s new lines into `streamed` through `parse`.
fn follow(
    tail: &mut Tail,
    streamed: &mut Streamed,
    parse: &(dyn Fn(&str) -> Option<StreamLine> + Sync),
    events: Option<&TestEvents>,
    suite: &str,
) {
    let path = tail.path.clone();
    tail.read(&mut |line| {
        let parsed = match line {
            Some(line) if line.trim().is_empty() => return,
            Some(line) => parse(line),
            None => None,
        };
        match parsed {
            Some(parsed) => streamed.apply(parsed, events),
            None => {
                if streamed.malformed == 0 {
                    log::warn!(
                        "[{suite}] skipping a malformed line of the tool's live stream {} (more are not reported)",
                        path.display()
                    );
                }
                streamed.malformed += 1;
            }
        }
    });
}

impl SuiteContext {
    /// Where this attempt's stream file goes.
    pub fn stream_file(&self) -> PathBuf {
        self.output_dir.join(STREAM_FILE)
    }

    /// [`run_supervised`](Self::run_supervised), following the stream file
    /// `stream` while the tool runs: each line goes through `parse` (`None`
    /// for a line it cannot read), then to [`test_events`](Self::test_events).
    /// Returns how the tool ended and what its stream said.
    pub fn run_streaming(
        &self,
        cmd: Command,
        stream: &Path,
        parse: &(dyn Fn(&str) -> Option<StreamLine> + Sync),
    ) -> Result<(ProcessOutcome, Streamed), ProcessError> {
        let events = self.test_events.as_ref();
        // Empty and new: nothing an earlier tool left there is read as this one's.
        if let Err(err) = crate::outdir::create_file(stream) {
            log::warn!(
                "[{}] cannot create the live stream {}: {err}",
                self.suite,
                stream.display()
            );
        }
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let follower = scope.spawn(move || {
                let mut tail = Tail::new(stream);
                let mut streamed = Streamed::default();
                // Until the tool is gone: the sender is dropped then.
                while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(POLL) {
                    follow(&mut tail, &mut streamed, parse, events, &self.suite);
                }
                follow(&mut tail, &mut streamed, parse, events, &self.suite);
                streamed
            });
            let outcome = self.run_supervised(cmd);
            drop(done_tx);
            let streamed = follower.join().unwrap_or_else(|_| {
                log::error!("[{}] the thread following the live stream panicked", self.suite);
                Streamed::default()
            });
            outcome.map(|outcome| (outcome, streamed))
        })
    }
}

/// A version string worth showing: 1 to 64 letters, digits and `.+-_`.
fn plausible_version(version: &str) -> bool {
    (1..=64).contains(&version.len())
        && (version.bytes()).all(|byte| byte.is_ascii_alphanumeric() || b".+-_".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TestStatus;

    fn parse(line: &str) -> Option<StreamLine> {
        let (kind, name) = line.split_once(' ')?;
        let mut case = TestCase::new(name, "c", TestStatus::Passed);
        case.selector = Some(name.to_string());
        match kind {
            "total" => name.parse().ok().map(StreamLine::Total),
            "start" => Some(StreamLine::Started(case)),
            "pass" => Some(StreamLine::Finished(case)),
            _ => None,
        }
    }

    fn read_all(tail: &mut Tail, streamed: &mut Streamed) {
        follow(tail, streamed, &parse, None, "s");
    }

    #[test]
    fn whole_lines_are_read_as_they_grow_and_bad_ones_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STREAM_FILE);
        let mut tail = Tail::new(&path);
        let mut streamed = Streamed::default();
        // No file yet: nothing, no error.
        read_all(&mut tail, &mut streamed);
        std::fs::write(&path, "total 3\nstart a\npass a\nstart b\npa").expect("write");
        read_all(&mut tail, &mut streamed);
        assert_eq!(streamed.total, Some(3));
        assert_eq!(streamed.finished.len(), 1);
        assert_eq!(streamed.running.len(), 1, "b runs; its half-written line waits");
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        std::io::Write::write_all(&mut file, format!("ss b\ngarbage\n{long}\nstart c\n").as_bytes()).expect("append");
        read_all(&mut tail, &mut streamed);
        assert_eq!(
            streamed.malformed, 2,
            "garbage and the long line; `pa` + `ss b` is `pass b`"
        );
        let labels: Vec<String> = streamed.running.iter().map(TestCase::label).collect();
        assert_eq!(labels, ["c"]);
        assert_eq!(streamed.never_ran(), Some(0));
        let cases = streamed.into_cases("timed out after 4 s while running this test");
        let statuses: Vec<(String, TestStatus)> = cases.iter().map(|c| (c.label(), c.status)).collect();
        assert_eq!(
            statuses,
            [
                ("a".to_string(), TestStatus::Passed),
                ("b".to_string(), TestStatus::Passed),
                ("c".to_string(), TestStatus::Error)
            ]
        );
    }

    #[test]
    fn only_the_first_whole_list_of_kept_tests_counts() {
        let kept = |name: &str| {
            let mut case = TestCase::new(name, "c", TestStatus::Error);
            case.selector = Some(name.to_string());
            StreamLine::Kept(case)
        };
        let end = |kept: usize| StreamLine::KeptEnd {
            collected: Some(4),
            digest: Some("d".to_string()),
            kept,
        };
        let mut streamed = Streamed::default();
        for line in [kept("a"), kept("b"), end(2), kept("z"), end(1)] {
            streamed.apply(line, None);
        }
        let share = streamed.share.expect("a list");
        assert_eq!(
            (share.collected, share.kept),
            (Some(4), vec!["a".to_string(), "b".to_string()])
        );
        let mut short = Streamed::default();
        for line in [kept("a"), end(2), kept("b"), end(2)] {
            short.apply(line, None);
        }
        assert_eq!(
            short.share, None,
            "a list that is not whole is none, and none comes after it"
        );
    }

    #[test]
    fn what_the_workers_collected_fills_a_list_that_did_not_say_and_must_agree() {
        let collected = |digest: &str| StreamLine::Collected {
            count: 3,
            digest: digest.to_string(),
        };
        let end = StreamLine::KeptEnd {
            collected: None,
            digest: None,
            kept: 0,
        };
        let mut agreeing = Streamed::default();
        for line in [collected("d"), end.clone(), collected("d")] {
            agreeing.apply(line, None);
        }
        let share = agreeing.take_share().expect("a list");
        assert_eq!((share.collected, share.digest.as_deref()), (Some(3), Some("d")));
        let mut apart = Streamed::default();
        for line in [collected("d"), collected("e"), end] {
            apart.apply(line, None);
        }
        let share = apart.take_share().expect("a list");
        assert_eq!(
            (share.collected, share.digest),
            (None, None),
            "workers that disagree say nothing"
        );
    }

    #[test]
    fn only_a_plain_first_version_is_kept() {
        let mut streamed = Streamed::default();
        for version in ["9.2.0", "1.0"] {
            streamed.apply(StreamLine::Version(version.to_string()), None);
        }
        assert_eq!(streamed.version.as_deref(), Some("9.2.0"));
        let mut odd = Streamed::default();
        odd.apply(StreamLine::Version("\u{1b}[31mred".to_string()), None);
        assert_eq!(odd.version, None);
    }

    #[test]
    fn a_stream_file_replaced_by_a_fifo_or_a_link_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(STREAM_FILE);
        let name = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        let mut streamed = Streamed::default();
        // Opening a FIFO for reading blocks until a writer comes: it must not.
        read_all(&mut Tail::new(&path), &mut streamed);
        std::fs::remove_file(&path).expect("remove");
        std::os::unix::fs::symlink("/dev/zero", &path).expect("symlink");
        read_all(&mut Tail::new(&path), &mut streamed);
        assert_eq!((streamed.malformed, streamed.finished.len()), (0, 0));
    }
}

//! Records of tests streamed while their suite runs.
//!
//! `tests.jsonl` holds the written suites' records, in suite order, then the
//! records of the tests that running suites reported as finished
//! ([`EvidenceMessage::TestsStreamed`](crate::EvidenceMessage::TestsStreamed)),
//! in the order they came: a qaagent killed mid-suite leaves those on disk.
//! When a suite is written, its streamed records make way for its final
//! ones (its report has the last word) and the file is rewritten: the
//! written records as they were, the new suites' records, then the streamed
//! records still waiting, their ids following on. Both updates go through
//! the `atomic` module, so the file never holds a torn line.
//!
//! An append copies the file (see the `atomic` module), so streamed records
//! are appended at most every [`MIN_GAP`], and never more often than ten
//! times the last append took: a file of many records is copied rarely
//! enough that copying it stays a tenth of the writer's time.

use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::atomic::{append_atomically_with, write_atomically_with, Sink};
use crate::error::EvidenceError;
use crate::manifest::Counts;
use crate::record::{append_records, SuiteRecordContext, TestIds};
use crate::suite::SuiteRecord;

/// The streamed records not yet replaced by their suite's.
#[derive(Debug, Default)]
pub(crate) struct Live {
    /// Each record's suite index and its line after the test id: `,"kind":…}`.
    lines: Vec<(usize, Vec<u8>)>,
    /// How many of `lines` are in the file.
    on_disk: usize,
    /// Bytes of the file holding written suites' records; streamed ones follow.
    written_len: u64,
    /// When the records not in the file yet are to be appended.
    due: Option<Instant>,
    /// How long the last append took.
    last_took: Duration,
}

/// The shortest time between two appends of streamed records.
const MIN_GAP: Duration = Duration::from_millis(200);

/// What a record line starts with, up to its id's value.
const ID_PREFIX: &[u8] = b"{\"test_id\":\"";

impl Live {
    /// True when no streamed record waits for its suite.
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// True when some streamed records are not in the file yet.
    pub(crate) fn has_unwritten(&self) -> bool {
        self.on_disk < self.lines.len()
    }

    /// When [`write_new`](Self::write_new) should run next, if anything waits.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Keeps the records of `streamed` (tests of the suite at `index`) for the file.
    pub(crate) fn add(
        &mut self,
        index: usize,
        streamed: &SuiteRecord,
        last_run: &str,
        path: &Path,
    ) -> Result<(), EvidenceError> {
        let mut bytes = Vec::new();
        let ctx = SuiteRecordContext {
            suite: &streamed.name,
            runner: &streamed.runner,
            last_run,
            artifacts: &[],
        };
        // Ids are given when written; these are placeholders of the same shape.
        let mut ids = TestIds::new("00000000");
        append_records(
            &mut bytes,
            path,
            &mut ids,
            &ctx,
            streamed.cases.as_ref(),
            &mut Counts::default(),
        )?;
        for line in bytes.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
            let rest = line.strip_prefix(ID_PREFIX).and_then(|after| {
                after
                    .iter()
                    .position(|&b| b == b'"')
                    .map(|end| after[end + 1..].to_vec())
            });
            if let Some(rest) = rest {
                self.lines.push((index, rest));
            }
        }
        if self.has_unwritten() && self.due.is_none() {
            self.due = Some(Instant::now() + MIN_GAP.max(self.last_took * 10));
        }
        Ok(())
    }

    /// Appends the streamed records not in the file yet, their ids following
    /// those `ids` handed out and the streamed records before them.
    pub(crate) fn write_new(&mut self, path: &Path, ids: &TestIds) -> Result<(), EvidenceError> {
        if !self.has_unwritten() {
            return Ok(());
        }
        let from = self.on_disk;
        let started = Instant::now();
        self.due = None;
        append_atomically_with(path, |sink| write_lines(sink, path, ids, &self.lines, from))?;
        self.last_took = started.elapsed();
        self.on_disk = self.lines.len();
        Ok(())
    }

    /// Rewrites the file: its written records, what `write` adds (the final
    /// records of the suites in `done`, with ids from `ids`), then the
    /// streamed records of the other suites.
    pub(crate) fn rewrite(
        &mut self,
        path: &Path,
        ids: &mut TestIds,
        done: &dyn Fn(usize) -> bool,
        write: impl FnOnce(&mut Sink, &mut TestIds) -> Result<(), EvidenceError>,
    ) -> Result<(), EvidenceError> {
        let mut written_len = self.written_len;
        let kept: Vec<(usize, Vec<u8>)> = self.lines.iter().filter(|(index, _)| !done(*index)).cloned().collect();
        write_atomically_with(path, |sink| {
            let mut old = std::fs::File::open(path).map_err(EvidenceError::io("open", path))?;
            std::io::copy(&mut (&mut old).take(self.written_len), sink).map_err(EvidenceError::io("copy", path))?;
            write(sink, ids)?;
            written_len = sink.stream_position().map_err(EvidenceError::io("write", path))?;
            write_lines(sink, path, ids, &kept, 0)
        })?;
        self.written_len = written_len;
        self.on_disk = kept.len();
        self.lines = kept;
        self.due = None;
        Ok(())
    }

    /// Notes that `len` bytes of written records are the whole file (after an append of them).
    pub(crate) fn set_written_len(&mut self, len: u64) {
        self.written_len = len;
    }
}

/// Writes `lines[from..]` with the ids after those `ids` handed out.
fn write_lines(
    sink: &mut Sink,
    path: &Path,
    ids: &TestIds,
    lines: &[(usize, Vec<u8>)],
    from: usize,
) -> Result<(), EvidenceError> {
    for (n, (_, rest)) in lines.iter().enumerate().skip(from) {
        sink.write_all(ID_PREFIX)
            .and_then(|()| sink.write_all(ids.after(n + 1).as_bytes()))
            .and_then(|()| sink.write_all(b"\""))
            .and_then(|()| sink.write_all(rest))
            .and_then(|()| sink.write_all(b"\n"))
            .map_err(EvidenceError::io("write", path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::suite::{Case, TestStatus};
    use crate::writer::{EvidenceMessage, Run, RunInfo};
    use crate::{RunStatus, SuiteRecord, TESTS_FILE};

    fn streamed(suite: &str, names: &[&'static str]) -> Box<SuiteRecord> {
        let cases = names
            .iter()
            .map(|name| Case::new(name, "c", TestStatus::Passed))
            .collect();
        Box::new(SuiteRecord::of(suite, "pytest", cases))
    }

    /// (test_id, name) of every line of tests.jsonl, once it has `n` of them
    /// (or after two seconds).
    fn lines(run_dir: &std::path::Path, n: usize) -> Vec<(String, String)> {
        let mut parsed = Vec::new();
        for _ in 0..200 {
            let text = std::fs::read_to_string(run_dir.join(TESTS_FILE)).expect("read");
            parsed = text
                .lines()
                .map(|line| {
                    let value: serde_json::Value = serde_json::from_str(line).expect("whole lines");
                    (
                        value["test_id"].as_str().expect("id").into(),
                        value["name"].as_str().expect("name").into(),
                    )
                })
                .collect();
            if parsed.len() == n {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        parsed
    }

    #[test]
    fn streamed_records_are_on_disk_at_once_and_give_way_to_their_suites() {
        let root = tempfile::tempdir().expect("root");
        let run = Run::create(
            root.path(),
            RunInfo {
                project_name: "shop".into(),
                project_path: root.path().to_path_buf(),
                suites: vec!["unit".into(), "api".into()],
                qaagent_version: "0".into(),
                partition: None,
            },
        )
        .expect("create");
        let dir = run.dir().to_path_buf();
        let date = run.run_id()[..8].to_string();
        let id = |n: u32| format!("TST-{date}-{n:04}");
        let writer = run.start_writer().expect("writer");
        let send = |message| writer.send(message).expect("send");
        send(EvidenceMessage::TestsStreamed {
            index: 1,
            result: streamed("api", &["api_a"]),
        });
        send(EvidenceMessage::TestsStreamed {
            index: 0,
            result: streamed("unit", &["unit_a"]),
        });
        let seen = lines(&dir, 2);
        assert_eq!(seen, [(id(1), "api_a".into()), (id(2), "unit_a".into())]);
        // unit's report has the last word: its two tests, then api's streamed one after them.
        let final_unit = SuiteRecord::of(
            "unit",
            "pytest",
            vec![
                Case::new("unit_a", "c", TestStatus::Failed),
                Case::new("unit_b", "c", TestStatus::Passed),
            ],
        );
        send(EvidenceMessage::SuiteFinished {
            index: 0,
            result: Box::new(final_unit),
        });
        send(EvidenceMessage::TestsStreamed {
            index: 1,
            result: streamed("api", &["api_b"]),
        });
        let seen = lines(&dir, 4);
        let names: Vec<(String, &str)> = seen.iter().map(|(id, name)| (id.clone(), name.as_str())).collect();
        assert_eq!(
            names,
            [(id(1), "unit_a"), (id(2), "unit_b"), (id(3), "api_a"), (id(4), "api_b")]
        );
        // api never finishes: its streamed records are left out, as it is.
        let manifest = writer.finish(RunStatus::Interrupted, Duration::ZERO).expect("finish");
        assert_eq!(lines(&dir, 2), [(id(1), "unit_a".into()), (id(2), "unit_b".into())]);
        assert_eq!(manifest.counts.tests, 2);
    }
}

//! The durations file a partition is balanced with (`--durations FILE`),
//! written by `qaagent runs durations` from stored runs:
//!
//! ```json
//! {"version": 1, "suites": {"unit": {"suite": 12.5, "tests": {"tests/test_a.py::test_x": 0.25}}}}
//! ```
//!
//! `tests` maps a test's selector to its seconds; `suite` is the whole
//! suite's, for suites that cannot be listed. Meant to be committed or
//! cached in CI: every machine must read the same file.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::assign::{median, stable_hash};

/// The format's version this qaagent writes and reads.
const VERSION: u32 = 1;

/// Why a durations file could not be used or made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DurationsError {
    /// It could not be read.
    #[error("cannot read the durations file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// It is not a durations file.
    #[error("{} is not a qaagent durations file: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A stored run could not be read.
    #[error(transparent)]
    Evidence(#[from] evidence::EvidenceError),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct SuiteDurations {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    suite: Option<f64>,
    #[serde(default)]
    tests: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct DurationsFile {
    #[serde(default = "version")]
    version: u32,
    suites: BTreeMap<String, SuiteDurations>,
}

fn version() -> u32 {
    VERSION
}

/// Past durations, by suite and test.
#[derive(Debug, Clone, PartialEq)]
pub struct Durations {
    file: DurationsFile,
    /// Hex FNV-1a of the file's bytes, recorded in the manifest.
    hash: String,
}

impl Durations {
    /// Reads the durations file at `path`.
    pub fn load(path: &Path) -> Result<Durations, DurationsError> {
        let mut bytes = Vec::new();
        let read = evidence::open_regular_file(path).and_then(|mut file| file.read_to_end(&mut bytes));
        read.map_err(|source| DurationsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Durations::parse(&bytes).map_err(|reason| DurationsError::Malformed {
            path: path.to_path_buf(),
            reason,
        })
    }

    /// No durations at all: every test counts as long as any other.
    pub(crate) fn empty() -> Durations {
        let file = DurationsFile {
            version: VERSION,
            suites: BTreeMap::new(),
        };
        Durations {
            file,
            hash: String::new(),
        }
    }

    /// Reads a durations file's contents.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Durations, String> {
        let file: DurationsFile = serde_json::from_slice(bytes).map_err(|err| err.to_string())?;
        if file.version != VERSION {
            return Err(format!(
                "version {} (this qaagent reads version {VERSION})",
                file.version
            ));
        }
        let bad = file.suites.iter().find_map(|(suite, entry)| {
            let values = entry.suite.iter().chain(entry.tests.values());
            values
                .copied()
                .find(|seconds| !seconds.is_finite() || *seconds < 0.0)
                .map(|seconds| format!("suite {suite} has a duration of {seconds}"))
        });
        if let Some(bad) = bad {
            return Err(bad);
        }
        Ok(Durations {
            file,
            hash: format!("{:016x}", stable_hash(bytes)),
        })
    }

    /// The seconds of a test (by selector) or, for `None`, a whole suite.
    pub(crate) fn seconds(&self, suite: &str, selector: Option<&str>) -> Option<f64> {
        let entry = self.file.suites.get(suite)?;
        match selector {
            Some(selector) => entry.tests.get(selector).copied(),
            None => entry.suite,
        }
    }

    /// The seconds of each test of `suite`, by selector.
    pub(crate) fn tests_of(&self, suite: &str) -> Option<&BTreeMap<String, f64>> {
        self.file.suites.get(suite).map(|entry| &entry.tests)
    }

    /// The median seconds of the tests of `suite`, or of every test.
    pub(crate) fn median(&self, suite: Option<&str>) -> Option<f64> {
        let values = match suite {
            Some(suite) => self.file.suites.get(suite)?.tests.values().copied().collect(),
            None => self
                .file
                .suites
                .values()
                .flat_map(|entry| entry.tests.values().copied())
                .collect(),
        };
        median(values)
    }

    /// The hash the manifest records.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The median durations of `runs`' tests (by suite and selector) and
    /// suites: what `qaagent runs durations` writes. Tests without a
    /// selector, skipped tests and suites that did not finish are left out;
    /// so, with a warning, are records that do not read, and a run's records
    /// after one that cannot be read at all: one damaged earlier run once
    /// failed every CI job's `runs durations`, as `runs flaky` never did.
    pub fn from_runs(runs: &[evidence::LoadedRun]) -> Durations {
        let mut tests: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
        let mut suites: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for run in runs {
            for entry in &run.manifest.suites {
                if entry.attempts > 0 {
                    suites.entry(entry.name.clone()).or_default().push(entry.duration);
                }
            }
            let records = run.records().inspect_err(|err| {
                log::warn!("run {}: {err}: its tests' durations are left out", run.run_id);
            });
            for record in records.into_iter().flatten() {
                let record = match record {
                    Ok(record) => record,
                    Err(err @ evidence::EvidenceError::BadRecord { .. }) => {
                        log::warn!("run {}: {err}: left out", run.run_id);
                        continue;
                    }
                    Err(err) => {
                        log::warn!("run {}: {err}: its records after that are left out", run.run_id);
                        break;
                    }
                };
                let (Some(suite), Some(seconds)) = (record.suite_name.as_ref(), record.duration) else {
                    continue;
                };
                let Some(selector) = record.metadata.get("selector").and_then(|value| value.as_str()) else {
                    continue;
                };
                if record.status == evidence::TestStatus::Skipped || !seconds.is_finite() || seconds < 0.0 {
                    continue;
                }
                tests
                    .entry((suite.clone(), selector.to_string()))
                    .or_default()
                    .push(seconds);
            }
        }
        let mut file = DurationsFile {
            version: VERSION,
            suites: BTreeMap::new(),
        };
        for (suite, values) in suites {
            file.suites.entry(suite).or_default().suite = median(values);
        }
        for ((suite, selector), values) in tests {
            if let Some(seconds) = median(values) {
                file.suites.entry(suite).or_default().tests.insert(selector, seconds);
            }
        }
        let bytes = serde_json::to_vec(&file).unwrap_or_default();
        Durations {
            hash: format!("{:016x}", stable_hash(&bytes)),
            file,
        }
    }

    /// The file's JSON, pretty-printed (diffs well when committed).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.file).unwrap_or_default();
        text.push('\n');
        text
    }

    /// How many tests and suites it knows.
    pub fn len(&self) -> (usize, usize) {
        let tests = self.file.suites.values().map(|entry| entry.tests.len()).sum();
        (tests, self.file.suites.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tests_and_suites_and_rejects_nonsense() {
        let durations =
            Durations::parse(br#"{"version":1,"suites":{"unit":{"suite":4.5,"tests":{"a":1.5}}}}"#).expect("valid");
        assert_eq!(durations.seconds("unit", Some("a")), Some(1.5));
        assert_eq!(durations.seconds("unit", None), Some(4.5));
        assert_eq!(durations.seconds("other", None), None);
        assert!(Durations::parse(br#"{"suites":{"unit":{"tests":{"a":-1}}}}"#).is_err());
        assert!(Durations::parse(br#"{"version":2,"suites":{}}"#).is_err());
        assert!(Durations::parse(b"[]").is_err());
    }

    #[test]
    fn written_json_reads_back_the_same() {
        let durations = Durations::parse(br#"{"suites":{"unit":{"suite":2,"tests":{"a":1}}}}"#).expect("valid");
        let again = Durations::parse(durations.to_json().as_bytes()).expect("valid");
        assert_eq!(again.file, durations.file);
    }
}

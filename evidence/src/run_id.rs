//! Run ids: `YYYYMMDD_HHMMSSZ` (UTC), then `_01`, `_02`… when that second is taken.
//!
//! The id is claimed by `create_dir` itself, never by checking first: two qaagents
//! started in the same second race on the same `mkdir`, exactly one wins each
//! name, and the loser moves on to the next suffix.

use std::cmp::Ordering;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::error::EvidenceError;

/// strftime format of the timestamp part of a run id (the Python qaagent's `_RUN_TIMESTAMP`).
const RUN_ID_FORMAT: &str = "%Y%m%d_%H%M%SZ";

/// The highest collision suffix tried before giving up.
const MAX_SUFFIX: u32 = 9999;

/// Creates `<root>/<run id>` for a run started at `now`, claiming the first free
/// id atomically. Creates `root` (and its parents) when missing.
pub(crate) fn create_run_dir(root: &Path, now: DateTime<Utc>) -> Result<(String, PathBuf), EvidenceError> {
    fs::create_dir_all(root).map_err(EvidenceError::io("create runs directory", root))?;
    let base = now.format(RUN_ID_FORMAT).to_string();
    for suffix in 0..=MAX_SUFFIX {
        let id = if suffix == 0 {
            base.clone()
        } else {
            format!("{base}_{suffix:02}")
        };
        let dir = root.join(&id);
        match fs::create_dir(&dir) {
            Ok(()) => return Ok((id, dir)),
            Err(err) if err.kind() == ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(EvidenceError::io("create run directory", dir)(err)),
        }
    }
    Err(EvidenceError::RunIdsExhausted {
        base,
        root: root.to_path_buf(),
    })
}

/// A parsed run id, ordered by time and then by collision suffix (so `_10` sorts after `_9`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RunIdKey<'a> {
    stamp: &'a str,
    suffix: u32,
}

impl Ord for RunIdKey<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.stamp.cmp(other.stamp).then(self.suffix.cmp(&other.suffix))
    }
}

impl PartialOrd for RunIdKey<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Parses `name` as a run id, or `None` when it is not one (so stray directories are not runs).
pub(crate) fn parse_run_id(name: &str) -> Option<RunIdKey<'_>> {
    const STAMP_LEN: usize = "YYYYMMDD_HHMMSSZ".len();
    let stamp = name.get(..STAMP_LEN)?;
    let bytes = stamp.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes[range].iter().all(u8::is_ascii_digit);
    if !(digits(0..8) && bytes[8] == b'_' && digits(9..15) && bytes[15] == b'Z') {
        return None;
    }
    let suffix = match &name[STAMP_LEN..] {
        "" => 0,
        rest => {
            let number = rest.strip_prefix('_')?;
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            number.parse().ok()?
        }
    };
    Some(RunIdKey { stamp, suffix })
}

/// When the run `run_id` was created, from its id (which every run has, a
/// damaged one too).
pub(crate) fn run_time(run_id: &str) -> Option<DateTime<Utc>> {
    parse_run_id(run_id)?;
    let stamp = run_id.get(..15)?;
    let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S").ok()?;
    Some(naive.and_utc())
}

/// The `YYYYMMDD` date of a run id, used in test ids (`TST-YYYYMMDD-0001`).
pub(crate) fn run_date(run_id: &str) -> &str {
    run_id.get(..8).unwrap_or(run_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::collections::HashSet;
    use std::sync::{Arc, Barrier};

    #[test]
    fn a_run_id_tells_when_its_run_was_created() {
        assert_eq!(run_time("20250304_050607Z_02"), Some(fixed_time()));
        assert_eq!(run_time("20251304_050607Z"), None, "month 13");
        assert_eq!(run_time("notes"), None);
    }

    fn fixed_time() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).single().expect("valid time")
    }

    #[test]
    fn id_is_utc_timestamp_then_suffixes() {
        let root = tempfile::tempdir().expect("tempdir");
        let ids: Vec<String> = (0..3)
            .map(|_| create_run_dir(root.path(), fixed_time()).expect("created").0)
            .collect();
        assert_eq!(ids, ["20250304_050607Z", "20250304_050607Z_01", "20250304_050607Z_02"]);
        for id in &ids {
            assert!(root.path().join(id).is_dir());
        }
    }

    #[test]
    fn many_threads_in_the_same_second_get_distinct_dirs() {
        let root = tempfile::tempdir().expect("tempdir");
        let threads = 24;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                let root = root.path().to_path_buf();
                std::thread::spawn(move || {
                    barrier.wait();
                    create_run_dir(&root, fixed_time()).expect("created")
                })
            })
            .collect();
        let ids: HashSet<String> = handles.into_iter().map(|h| h.join().expect("thread").0).collect();
        assert_eq!(ids.len(), threads, "every thread got its own run id");
        let on_disk = fs::read_dir(root.path()).expect("read root").count();
        assert_eq!(on_disk, threads);
        let expected: HashSet<String> = std::iter::once("20250304_050607Z".to_string())
            .chain((1..threads).map(|n| format!("20250304_050607Z_{n:02}")))
            .collect();
        assert_eq!(ids, expected, "suffixes are dense: no id skipped, none shared");
    }

    #[test]
    fn parse_accepts_ids_and_rejects_others() {
        assert!(parse_run_id("20250304_050607Z").is_some());
        assert!(parse_run_id("20250304_050607Z_01").is_some());
        assert!(parse_run_id("20250304_050607Z_123").is_some());
        for bad in [
            "",
            "latest",
            "20250304_050607",
            "20250304-050607Z",
            "20250304_050607Z_",
            "20250304_050607Zx",
            "2025030a_050607Z",
            "20250304_050607Z_1a",
        ] {
            assert!(parse_run_id(bad).is_none(), "{bad:?} is not a run id");
        }
    }

    #[test]
    fn ordering_is_by_time_then_numeric_suffix() {
        let mut ids = vec![
            "20250304_050607Z_10",
            "20250304_050608Z",
            "20250304_050607Z",
            "20250304_050607Z_09",
            "20240101_000000Z_99",
        ];
        ids.sort_by(|a, b| parse_run_id(a).cmp(&parse_run_id(b)));
        assert_eq!(
            ids,
            [
                "20240101_000000Z_99",
                "20250304_050607Z",
                "20250304_050607Z_09",
                "20250304_050607Z_10",
                "20250304_050608Z"
            ]
        );
    }

    #[test]
    fn run_date_is_the_first_eight_characters() {
        assert_eq!(run_date("20250304_050607Z_01"), "20250304");
    }
}

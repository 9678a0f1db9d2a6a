//! `split = N | "auto"` (and `run-all --split N`): one suite's tests run as
//! several concurrent processes of its tool on this machine, merged back into
//! one suite result.
//!
//! Planning happens here, once, before the run starts. A whole suite whose
//! runner chooses its own share (pytest, through its shipped plugin: see
//! [`runner_api::Runner::selects_own_share`]) is not listed at all: each
//! share's process collects the whole suite and keeps its part, balanced by
//! the stored durations qaagent hands it, so no extra start-up of the tool
//! delays the shares. Otherwise the suites to split are listed with the same
//! collection `--partition` uses (a suite that `--partition` or
//! `--rerun-failed` narrowed already is split over its selection, without
//! listing again), and their tests are divided into shares by the
//! partition's assigner. Both balance alike: longest first onto the least
//! loaded share, by the durations of this project's latest stored runs; a
//! test without a stored duration counts as its suite's median, and with
//! none at all every test counts the same, so the shares are balanced by
//! count.
//!
//! Running the shares, and merging them, is `shares.rs`'s; how many tool
//! processes may run at once across the run is `slots.rs`'s. In a run with
//! split suites, the suites start longest expected work first
//! (`start_order`).

pub(crate) mod shares;
pub(crate) mod slots;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use runner_api::{CancelToken, Selection};

use crate::partition::assign::{assign, estimates, Unit};
use crate::partition::collect::collect_all;
use crate::partition::Durations;
use crate::plan::{Plan, PlannedSuite};

/// A share of a split suite that is expected to take less than this is not
/// worth its process: starting Python and pytest or behave costs about
/// 0.3–0.6 s of a core (BENCHMARKS.md, target 9), paid again by every
/// share, so that splitting a suite of T seconds in N saves T − T/N but
/// spends (N − 1) start-ups. With at least this much work per share, the
/// start-ups cost at most a quarter of what splitting saves; `"auto"` never
/// splits a suite expected to take less than twice this.
pub const AUTO_MIN_SHARE_SECONDS: f64 = 2.0;

/// How many of this project's latest finished runs the shares are balanced by.
const STORED_RUNS: usize = 5;

/// How a suite's first attempt is split into processes.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Shares {
    /// One process.
    #[default]
    Whole,
    /// One process per list of selectors: the planner listed the suite.
    Listed(Vec<Vec<String>>),
    /// This many processes, each collecting the whole suite and keeping its
    /// share ([`runner_api::Share`]), balanced by these stored durations
    /// (selector → seconds; empty: by count).
    Chosen {
        /// How many processes.
        count: usize,
        /// The durations of the suite's tests in the latest stored runs.
        durations: BTreeMap<String, f64>,
    },
}

impl Shares {
    /// How many processes the first attempt runs.
    pub fn count(&self) -> usize {
        match self {
            Shares::Whole => 1,
            Shares::Listed(lists) => lists.len(),
            Shares::Chosen { count, .. } => *count,
        }
    }
}

/// A suite's `split` setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// This many processes (1: not split).
    Shares(u32),
    /// As many as the cores, `max_workers` and the suite's expected time
    /// make worth it (see [`AUTO_MIN_SHARE_SECONDS`]).
    Auto,
}

/// The most processes a suite may be split into: each pays its tool's
/// start-up and a directory of its own, so many more than a machine has
/// cores is a slip of the keyboard (`--split 20000` made 20,000 share
/// directories before starting them one by one).
pub const MAX_SHARES: u32 = 256;

impl Split {
    /// `2` or `"auto"`, as written in a `[tests.NAME]` table; `None` for
    /// anything else (0, a negative number, more than [`MAX_SHARES`],
    /// another string).
    pub fn from_toml(value: &toml::Value) -> Option<Split> {
        match value {
            toml::Value::Integer(n) => u32::try_from(*n).ok().and_then(Split::shares),
            toml::Value::String(text) if text == "auto" => Some(Split::Auto),
            _ => None,
        }
    }

    /// `n` processes, when `n` is from 1 to [`MAX_SHARES`].
    pub fn shares(n: u32) -> Option<Split> {
        (1..=MAX_SHARES).contains(&n).then_some(Split::Shares(n))
    }
}

/// The cores this process may use (1 when that cannot be told).
pub(crate) fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// Whether `suite` asks to be split and can be; logs why not when it asks
/// but cannot.
fn wants_split(suite: &PlannedSuite) -> bool {
    let asked = match suite.config.split {
        None | Some(Split::Shares(0 | 1)) => false,
        Some(_) => true,
    };
    if !asked || suite.missing_path.is_some() {
        return false;
    }
    if suite.runner.has_own_workers() {
        log::info!(
            "[{}] not split: runner `{}` runs its tests on workers of its own",
            suite.config.name,
            suite.runner.name()
        );
        return false;
    }
    true
}

/// Divides the first attempt of every suite of `plan` that asks for it
/// into shares, and notes each suite's expected time for the scheduler.
/// Durations come from the latest finished runs of this project under
/// `runs_dir` (see [`evidence::runs_root`]).
pub(crate) fn apply(plan: &mut Plan, runs_dir: Option<PathBuf>, cancel: &CancelToken) {
    let wanted: Vec<bool> = plan.suites.iter().map(wants_split).collect();
    if !wanted.contains(&true) {
        return;
    }
    let durations = stored_durations(runs_dir, &plan.project_dir);
    // Listing a suite whose tool keeps its own share would only delay it.
    let chosen: Vec<bool> = (plan.suites.iter().zip(&wanted))
        .map(|(suite, &wanted)| wanted && suite.selection == Selection::All && suite.runner.selects_own_share())
        .collect();
    let listed = collect_all(plan, cancel, &|suite| wanted[suite.index] && !chosen[suite.index]);
    let cap = cores().min(plan.settings.processes);
    let equal = Durations::empty();
    for (((suite, listed), wanted), chosen) in plan.suites.iter_mut().zip(listed).zip(wanted).zip(chosen) {
        if chosen {
            let stored = (durations.as_ref())
                .and_then(|known| known.tests_of(&suite.config.name))
                .cloned()
                .unwrap_or_default();
            choose_in_shares(suite, stored, cap);
            continue;
        }
        let name = suite.config.name.clone();
        let selectors = match &suite.selection {
            Selection::Only(selectors) => Some(selectors.clone()),
            Selection::All => listed,
        };
        let Some(selectors) = selectors.filter(|_| wanted) else {
            if wanted {
                log::warn!("[{name}] not split: its tests could not be listed; it runs as one process");
            }
            suite.expected_seconds = durations.as_ref().and_then(|known| known.seconds(&name, None));
            continue;
        };
        // Each test once, in the tool's order: the order of the shares' lists
        // and of the merged result. The assigner gets them sorted, so that its
        // answer does not depend on that order.
        let mut seen = HashSet::new();
        let listing: Vec<String> = (selectors.into_iter())
            .filter(|selector| seen.insert(selector.clone()))
            .collect();
        let mut units: Vec<Unit> = (listing.iter())
            .map(|selector| Unit {
                suite: name.clone(),
                selector: Some(selector.clone()),
            })
            .collect();
        units.sort();
        let known = durations.as_ref().filter(|known| known.median(Some(&name)).is_some());
        let expected = known.map(|known| estimates(&units, known).iter().sum::<f64>());
        suite.expected_seconds = expected;
        let asked = match suite.config.split {
            Some(Split::Shares(n)) => n as usize,
            _ => auto_shares(expected, cap),
        };
        let count = asked.min(units.len());
        if count < 2 {
            match suite.config.split {
                Some(Split::Auto) => {
                    log::info!("[{name}] not split: `auto` chose 1 process for {} test(s)", units.len())
                }
                _ => log::info!("[{name}] not split: {} test(s), {asked} share(s) asked", units.len()),
            }
            continue;
        }
        let assignment = assign(&units, count as u32, Some(known.unwrap_or(&equal)));
        let share_of: HashMap<&str, usize> = (units.iter().zip(&assignment.machines))
            .filter_map(|(unit, &share)| Some((unit.selector.as_deref()?, share as usize)))
            .collect();
        let mut shares = vec![Vec::new(); count];
        for selector in &listing {
            if let Some(list) = share_of.get(selector.as_str()).and_then(|&share| shares.get_mut(share)) {
                list.push(selector.clone());
            }
        }
        // A share given no test would run them all (a tool told no test to
        // select runs its whole suite): never one.
        shares.retain(|share| !share.is_empty());
        if shares.len() < 2 {
            log::info!("[{name}] not split: one share would hold every test");
            continue;
        }
        let count = shares.len();
        log::info!(
            "[{name}] split into {count} processes of {} tests{}",
            shares
                .iter()
                .map(|share| share.len().to_string())
                .collect::<Vec<_>>()
                .join(" + "),
            match &assignment.expected {
                Some(loads) if known.is_some() => format!(
                    ", about {} s each",
                    loads.iter().map(|s| format!("{s:.1}")).collect::<Vec<_>>().join(" / ")
                ),
                _ => " (balanced by count: no stored durations)".to_string(),
            }
        );
        suite.shares = Shares::Listed(shares);
        // Every listed test is selected: one the tool then does not run is
        // an errored test (as for a partition's share), never left out.
        suite.selection = Selection::Only(listing);
    }
}

/// Splits `suite` into shares its tool chooses itself, balanced by the
/// `stored` durations of its tests: as many as its `split` asks, or for
/// `"auto"` as its stored time makes worth it, up to `cap`.
fn choose_in_shares(suite: &mut PlannedSuite, stored: BTreeMap<String, f64>, cap: usize) {
    let name = &suite.config.name;
    let expected = (!stored.is_empty()).then(|| stored.values().sum::<f64>());
    suite.expected_seconds = expected;
    let count = match suite.config.split {
        Some(Split::Shares(n)) => n as usize,
        _ => auto_shares(expected, cap),
    };
    if count < 2 {
        log::info!("[{name}] not split: {count} share asked");
        return;
    }
    log::info!(
        "[{name}] split into {count} processes, each keeping its share of the tests it collects{}",
        match expected {
            Some(seconds) => format!(", about {:.1} s each", seconds / count as f64),
            None => " (balanced by count: no stored durations)".to_string(),
        }
    );
    suite.shares = Shares::Chosen {
        count,
        durations: stored,
    };
}

/// `"auto"`: one share per [`AUTO_MIN_SHARE_SECONDS`] of expected work, at
/// most `cap` (the cores, or `max_workers` when lower); without stored
/// durations, `cap` (the first run is split by count).
fn auto_shares(expected: Option<f64>, cap: usize) -> usize {
    match expected {
        Some(seconds) => ((seconds / AUTO_MIN_SHARE_SECONDS).floor() as usize).clamp(1, cap.max(1)),
        None => cap,
    }
}

/// The durations of the latest finished runs of the project in
/// `project_dir`, when there are any; a store that cannot be read is a
/// warning (the shares are then balanced by count).
fn stored_durations(runs_dir: Option<PathBuf>, project_dir: &Path) -> Option<Durations> {
    let loaded = (|| -> Result<Option<Durations>, crate::partition::DurationsError> {
        let root = evidence::runs_root(runs_dir)?;
        let ids: Vec<String> = (evidence::list_runs(&root)?.into_iter())
            .filter(|run| run.belongs_to(project_dir))
            .filter(|run| {
                matches!(
                    run.status(),
                    Some(evidence::RunStatus::Passed | evidence::RunStatus::Failed)
                )
            })
            .take(STORED_RUNS)
            .map(|run| run.run_id)
            .collect();
        if ids.is_empty() {
            return Ok(None);
        }
        let runs = (ids.iter())
            .map(|id| evidence::load_run(&root, id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Durations::from_runs(&runs)))
    })();
    loaded.unwrap_or_else(|err| {
        log::warn!("split: cannot read the durations of earlier runs ({err}); shares are balanced by count");
        None
    })
}

/// The suites of `plan` in the order they start: in parallel runs, the
/// longest expected work first ([`longest_first`]); in sequential runs, plan
/// order. Either way, results are reported in plan order.
pub(crate) fn start_order(plan: &Plan) -> Vec<&PlannedSuite> {
    if plan.settings.workers < 2 {
        return plan.suites.iter().collect();
    }
    // A split suite takes its share of the work.
    let walls: Vec<Option<f64>> = (plan.suites.iter())
        .map(|suite| (suite.expected_seconds).map(|seconds| seconds / suite.shares.count() as f64))
        .collect();
    longest_first(&walls)
        .into_iter()
        .map(|index| &plan.suites[index])
        .collect()
}

/// Longest-processing-time order of jobs expected to take `walls` seconds:
/// the indices, longest first; a job of unknown length first of all (it may
/// be long); equal ones in their given order.
fn longest_first(walls: &[Option<f64>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..walls.len()).collect();
    let key = |index: usize| walls[index].unwrap_or(f64::INFINITY);
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_values_are_counts_or_auto() {
        assert_eq!(Split::from_toml(&toml::Value::Integer(3)), Some(Split::Shares(3)));
        assert_eq!(Split::from_toml(&toml::Value::String("auto".into())), Some(Split::Auto));
        for bad in [
            toml::Value::Integer(0),
            toml::Value::Integer(-2),
            toml::Value::Integer(i64::from(MAX_SHARES) + 1),
            toml::Value::String("2".into()),
            toml::Value::Boolean(true),
        ] {
            assert_eq!(Split::from_toml(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn auto_never_splits_short_suites_and_stops_at_the_cap() {
        assert_eq!(auto_shares(Some(3.9), 4), 1, "below twice the minimum share");
        assert_eq!(auto_shares(Some(4.0), 4), 2);
        assert_eq!(auto_shares(Some(600.0), 4), 4);
        assert_eq!(auto_shares(Some(600.0), 0), 1);
        assert_eq!(auto_shares(None, 2), 2, "no stored durations: by the cores");
    }

    #[test]
    fn the_longest_work_starts_first_and_unknown_work_before_it() {
        assert_eq!(
            longest_first(&[Some(1.0), Some(30.0), None, Some(5.0), Some(5.0)]),
            [2, 1, 3, 4, 0]
        );
        assert_eq!(longest_first(&[]), Vec::<usize>::new());
    }
}

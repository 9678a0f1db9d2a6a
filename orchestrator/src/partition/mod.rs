//! `run-all --partition K/N`: one machine's share of a run spread over N
//! machines of a CI matrix, which each compute the same plan on their own.
//!
//! Every suite's tests are listed without running them ([`Runner::collect`]);
//! a suite that cannot be listed (or lists nothing) is one unit. The units
//! are assigned to machines by `assign` — a pure function of the units,
//! the durations file and N — and this machine keeps the suites with units
//! of its own, each selecting only those ([`Selection::Only`]), so retries
//! stay inside the share. A suite `--rerun-failed` narrowed already is
//! partitioned over its failed tests, without listing.
//!
//! [`Runner::collect`]: runner_api::Runner::collect

pub(crate) mod assign;
mod durations;

use std::collections::BTreeSet;

use runner_api::{CancelToken, Selection};

pub use durations::{Durations, DurationsError};

use crate::plan::Plan;
use assign::{assign, stable_hash, unit_key, Unit};

/// Which share this machine runs.
#[derive(Debug, Clone)]
pub struct PartitionSpec {
    /// K, from 1.
    pub index: u32,
    /// N.
    pub total: u32,
    /// Past durations to balance the shares with.
    pub durations: Option<Durations>,
}

/// Why `--partition` could not be understood.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartitionError {
    /// Not `K/N` with 1 ≤ K ≤ N.
    #[error("--partition {0}: expected K/N with 1 <= K <= N (e.g. 2/4), or `auto`")]
    Malformed(String),
    /// `auto` found no CI variables to take K and N from.
    #[error(
        "--partition auto: no CI partition variables found (GitLab CI_NODE_INDEX/CI_NODE_TOTAL, \
         Buildkite BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT, \
         JOB_COMPLETION_INDEX with QAAGENT_PARTITION_TOTAL)"
    )]
    NoCiVariables,
    /// The CI's variables are there but not numbers in range.
    #[error("--partition auto: {0}")]
    BadCiVariables(String),
}

/// `K/N`, checked.
pub fn parse_partition(text: &str) -> Result<(u32, u32), PartitionError> {
    let malformed = || PartitionError::Malformed(text.to_string());
    let (k, n) = text.split_once('/').ok_or_else(malformed)?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| malformed())?,
        n.trim().parse().map_err(|_| malformed())?,
    );
    if k == 0 || n == 0 || k > n {
        return Err(malformed());
    }
    Ok((k, n))
}

/// K and N from a CI's own variables, with a few words on where they came
/// from; `var` reads the environment.
pub fn partition_from_ci(var: impl Fn(&str) -> Option<String>) -> Result<(u32, u32, String), PartitionError> {
    // (index variable, total variable, index base, CI)
    let sources: [(&str, &str, u32, &str); 3] = [
        ("CI_NODE_INDEX", "CI_NODE_TOTAL", 1, "GitLab"),
        ("BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0, "Buildkite"),
        (
            "JOB_COMPLETION_INDEX",
            "QAAGENT_PARTITION_TOTAL",
            0,
            "a Kubernetes indexed Job",
        ),
    ];
    for (index_var, total_var, base, ci) in sources {
        let (index, total) = match (var(index_var), var(total_var)) {
            (Some(index), Some(total)) => (index, total),
            (Some(_), None) => {
                return Err(PartitionError::BadCiVariables(format!(
                    "{index_var} is set but {total_var} is not: set it to the number of machines"
                )))
            }
            _ => continue,
        };
        let bad = || PartitionError::BadCiVariables(format!("{index_var}={index:?}, {total_var}={total:?}"));
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let total: u32 = total.trim().parse().map_err(|_| bad())?;
        let k = index.checked_add(1 - base).ok_or_else(bad)?;
        if k == 0 || total == 0 || k > total {
            return Err(bad());
        }
        return Ok((k, total, format!("{ci}'s {index_var}/{total_var}")));
    }
    Err(PartitionError::NoCiVariables)
}

/// Narrows `plan` to this machine's share and says what the manifest
/// records of it. Lists the suites' tests first (concurrently, bounded by
/// `cancel`; a listing that fails makes its suite one unit, with a warning).
pub(crate) fn apply(plan: &mut Plan, spec: &PartitionSpec, cancel: &CancelToken) -> evidence::Partition {
    let whole_plan = plan.names();
    let listed = collect::collect_all(plan, cancel, &|_| true);
    let mut units: BTreeSet<Unit> = BTreeSet::new();
    for (suite, listed) in plan.suites.iter().zip(listed) {
        let selectors = match &suite.selection {
            Selection::Only(selectors) => Some(selectors.clone()),
            Selection::All => listed.filter(|selectors| !selectors.is_empty()),
        };
        match selectors {
            Some(selectors) => units.extend(selectors.into_iter().map(|selector| Unit {
                suite: suite.config.name.clone(),
                selector: Some(selector),
            })),
            None => {
                units.insert(Unit {
                    suite: suite.config.name.clone(),
                    selector: None,
                });
            }
        }
    }
    let units: Vec<Unit> = units.into_iter().collect();
    let assignment = assign(&units, spec.total, spec.durations.as_ref());
    let mine = spec.index - 1;

    let mut plan_bytes = format!("{}\n", spec.total).into_bytes();
    for (unit, machine) in units.iter().zip(&assignment.machines) {
        plan_bytes.extend_from_slice(unit_key(unit).as_bytes());
        plan_bytes.extend_from_slice(format!("\0{machine}\n").as_bytes());
    }
    if let Some(durations) = &spec.durations {
        plan_bytes.extend_from_slice(durations.hash().as_bytes());
    }
    log_plan(spec, &units, &assignment);

    plan.suites.retain_mut(|suite| {
        let name = &suite.config.name;
        let share: Vec<&Unit> = units
            .iter()
            .zip(&assignment.machines)
            .filter(|(unit, &machine)| &unit.suite == name && machine == mine)
            .map(|(unit, _)| unit)
            .collect();
        if share.is_empty() {
            return false;
        }
        if share.iter().all(|unit| unit.selector.is_some()) {
            suite.selection = Selection::Only(share.iter().filter_map(|unit| unit.selector.clone()).collect());
        }
        true
    });
    for (index, suite) in plan.suites.iter_mut().enumerate() {
        suite.index = index;
    }
    evidence::Partition {
        index: spec.index,
        total: spec.total,
        plan: format!("{:016x}", stable_hash(&plan_bytes)),
        durations: spec.durations.as_ref().map(|durations| durations.hash().to_string()),
        suites: whole_plan,
    }
}

/// With `-v`: what each machine gets, and how long it should take.
fn log_plan(spec: &PartitionSpec, units: &[Unit], assignment: &assign::Assignment) {
    for machine in 0..spec.total {
        let count = assignment.machines.iter().filter(|&&m| m == machine).count();
        let expected = assignment
            .expected
            .as_ref()
            .and_then(|loads| loads.get(machine as usize))
            .map_or(String::new(), |seconds| format!(", about {seconds:.1} s"));
        let mark = if machine + 1 == spec.index {
            " (this machine)"
        } else {
            ""
        };
        log::info!(
            "partition {}/{}: {count} of {} units{expected}{mark}",
            machine + 1,
            spec.total,
            units.len()
        );
    }
}

pub(crate) mod collect {
    //! Listing suites' tests at once: for `--partition`, and for `split`.

    use runner_api::CancelToken;

    use crate::execute::suite_context;
    use crate::plan::{Plan, PlannedSuite};

    /// Each suite's selectors, in plan order; `None` for a suite not
    /// `wanted`, that cannot be listed, is narrowed already, or whose
    /// listing failed (logged).
    pub(crate) fn collect_all(
        plan: &Plan,
        cancel: &CancelToken,
        wanted: &(dyn Fn(&PlannedSuite) -> bool + Sync),
    ) -> Vec<Option<Vec<String>>> {
        let scratch = match tempfile::Builder::new().prefix("qaagent-collect-").tempdir() {
            Ok(dir) => dir,
            Err(err) => {
                log::warn!("cannot make a directory to list tests in ({err}); every suite is one unit");
                return vec![None; plan.suites.len()];
            }
        };
        crossbeam_utils::thread::scope(|scope| {
            let handles: Vec<_> = plan
                .suites
                .iter()
                .map(|suite| {
                    let out = scratch.path().join(&suite.config.name);
                    scope.spawn(move |_| {
                        if !wanted(suite) || suite.missing_path.is_some() || suite.selection != runner_api::Selection::All
                        {
                            return None;
                        }
                        if let Err(err) = std::fs::create_dir_all(&out) {
                            log::warn!("[{}] cannot list tests: {err}", suite.config.name);
                            return None;
                        }
                        let ctx = suite_context(plan, suite, &out, cancel);
                        match suite.runner.collect(&ctx) {
                            Ok(listed) => listed,
                            Err(err) => {
                                log::warn!(
                                    "[{}] cannot list the tests ({err}); the suite is one unit of the partition or split",
                                    suite.config.name
                                );
                                None
                            }
                        }
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap_or(None))
                .collect()
        })
        .unwrap_or_else(|_| vec![None; plan.suites.len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_of_n_is_checked() {
        assert_eq!(parse_partition("2/4"), Ok((2, 4)));
        for bad in ["0/4", "5/4", "1/0", "x/2", "2", "", "1/2/3", "-1/2"] {
            assert!(parse_partition(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ci_variables_are_read_with_their_base() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value.to_string())
            }
        };
        let gitlab = partition_from_ci(env(&[("CI_NODE_INDEX", "2"), ("CI_NODE_TOTAL", "3")])).expect("gitlab");
        assert_eq!((gitlab.0, gitlab.1), (2, 3));
        assert!(gitlab.2.contains("GitLab"));
        let buildkite = partition_from_ci(env(&[
            ("BUILDKITE_PARALLEL_JOB", "0"),
            ("BUILDKITE_PARALLEL_JOB_COUNT", "4"),
        ]))
        .expect("buildkite");
        assert_eq!((buildkite.0, buildkite.1), (1, 4));
        let k8s =
            partition_from_ci(env(&[("JOB_COMPLETION_INDEX", "3"), ("QAAGENT_PARTITION_TOTAL", "4")])).expect("k8s");
        assert_eq!((k8s.0, k8s.1), (4, 4));
        assert_eq!(partition_from_ci(env(&[])), Err(PartitionError::NoCiVariables));
        assert!(partition_from_ci(env(&[("CI_NODE_INDEX", "5"), ("CI_NODE_TOTAL", "4")])).is_err());
        assert!(partition_from_ci(env(&[("CI_NODE_INDEX", "x"), ("CI_NODE_TOTAL", "4")])).is_err());
        let half = partition_from_ci(env(&[("JOB_COMPLETION_INDEX", "1")])).expect_err("no total");
        assert!(half.to_string().contains("QAAGENT_PARTITION_TOTAL"), "{half}");
    }
}

//! Whether the runs given to `qaagent merge` are one complete partitioned
//! run: every share `K/N` of one plan, once each, every one finished.
//!
//! Some problems make a merge meaningless whatever the user says — a run
//! that is no share of a partitioned run, a share given twice (its records
//! would count twice; by its index, or by its run id where a copy was
//! relabelled), shares of different plans or of different commits
//! (their union is no run: a test that failed on one commit and passed on
//! another would merge as passed) — and are [`Problems::fatal`]. The others — a share missing, a share that
//! did not finish — leave a merge that is true as far as it goes, which
//! `--allow-partial` accepts and marks partial ([`Problems::partial`]).

use std::collections::BTreeMap;

use evidence::{Partition, RunStatus};

use super::Shard;

/// What is wrong with a set of shards, in words that name the shard.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    /// Problems no merge can get past.
    pub(crate) fatal: Vec<String>,
    /// Problems that make a merge partial.
    pub(crate) partial: Vec<String>,
}

/// Checks `shards` and returns them sorted by share index, with their problems.
pub(crate) fn check(shards: &mut [Shard]) -> Problems {
    let mut problems = Problems::default();
    let mut first: Option<(&str, Partition)> = None;
    let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
    shards.sort_by_key(|shard| shard.partition().map(|p| p.index));
    for shard in shards.iter() {
        let Some(partition) = shard.partition() else {
            problems.fatal.push(format!(
                "{} is not a share of a partitioned run (its manifest has no `partition`: \
                 run each share with `run-all --partition K/N`)",
                shard.source
            ));
            continue;
        };
        let name = format!("shard {}/{}", partition.index, partition.total);
        match &first {
            None => first = Some((&shard.source, partition.clone())),
            Some((other, plan)) if plan.total != partition.total || plan.plan != partition.plan => {
                problems.fatal.push(format!(
                    "{} ({name}, plan {}) is from a different plan than {other} (shard {}/{}, plan {})",
                    shard.source,
                    short(&partition.plan),
                    plan.index,
                    plan.total,
                    short(&plan.plan)
                ));
                continue;
            }
            Some(_) => {}
        }
        if partition.index == 0 || partition.index > partition.total {
            problems.fatal.push(format!(
                "{}: {name} is not a share of {}",
                shard.source, partition.total
            ));
            continue;
        }
        if let Some(other) = seen.insert(partition.index, &shard.source) {
            problems
                .fatal
                .push(format!("{name} given twice: {other} and {}", shard.source));
        }
        match shard.run.status() {
            Some(RunStatus::Passed | RunStatus::Failed) => {
                // A finished run records every suite it planned.
                let manifest = &shard.run.manifest;
                let unrecorded: Vec<&str> = (manifest.suite_order.iter())
                    .filter(|name| !manifest.suites.iter().any(|suite| &suite.name == *name))
                    .map(String::as_str)
                    .collect();
                if !unrecorded.is_empty() {
                    problems.partial.push(format!(
                        "{name} ({}) says it finished but recorded no result of suite(s) it planned: {}",
                        shard.source,
                        unrecorded.join(", ")
                    ));
                }
            }
            status => problems.partial.push(format!(
                "{name} ({}) did not finish: it is {}",
                shard.source,
                status.map_or("without a status", RunStatus::as_str)
            )),
        }
    }
    copies(shards, &mut problems);
    different_commits(shards, &mut problems);
    if let Some((_, plan)) = &first {
        for index in (1..=plan.total).filter(|index| !seen.contains_key(index)) {
            problems.partial.push(format!("shard {index}/{} missing", plan.total));
        }
    }
    problems
}

/// Shards whose manifests are one but for their share (`partition`): one
/// run given as two shares, a copy relabelled. Their run ids alone do not
/// tell: shares started in the same second on two machines have the same.
/// A copy whose manifest was edited further is caught by its records (a test
/// in two shares, see `consistency`).
fn copies(shards: &[Shard], problems: &mut Problems) {
    let unlabelled: Vec<evidence::Manifest> = (shards.iter())
        .map(|shard| evidence::Manifest {
            partition: None,
            ..shard.run.manifest.clone()
        })
        .collect();
    for (at, manifest) in unlabelled.iter().enumerate() {
        if let Some(first) = unlabelled[..at].iter().position(|other| other == manifest) {
            problems.fatal.push(format!(
                "{} and {} are the same run ({}) given as two shares",
                shards[first].source, shards[at].source, manifest.run_id
            ));
        }
    }
}

/// Shards that ran different commits (or one in a git repository and one
/// not, or one with uncommitted changes and one without), named with what
/// each ran. Shards that all have uncommitted changes cannot be told apart.
fn different_commits(shards: &[Shard], problems: &mut Problems) {
    let commit = |shard: &Shard| {
        let git = &shard.run.manifest.target.git;
        (git.commit.clone(), git.dirty == Some(true))
    };
    let Some(first) = shards.first() else {
        return;
    };
    let expected = commit(first);
    let name = |(commit, dirty): &(Option<String>, bool)| {
        let commit = commit.as_deref().map_or("no git commit", short);
        if *dirty {
            format!("{commit} with uncommitted changes")
        } else {
            commit.to_string()
        }
    };
    for shard in shards.iter().filter(|shard| commit(shard) != expected) {
        problems.fatal.push(format!(
            "{} ran {} and {} ran {}: shards of one run must run the same commit",
            shard.source,
            name(&commit(shard)),
            first.source,
            name(&expected)
        ));
    }
}

/// The first 12 characters of a hash: enough to tell plans apart in a message.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

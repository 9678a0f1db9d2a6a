//! The merged run's suites: one order over all shards, and one manifest
//! entry per suite however many shards ran a share of it.

use evidence::{SuiteEntry, SuiteOutcome};

use super::Shard;

/// One order holding every shard's suite_order (and suites recorded outside
/// it), keeping each shard's relative order: a suite a shard did not run is
/// missing from its list, not moved.
pub(crate) fn suite_order(shards: &[Shard]) -> Vec<String> {
    // The whole plan's order, where the shares recorded it.
    let mut order: Vec<String> = (shards.iter())
        .find_map(|shard| {
            shard
                .partition()
                .map(|p| p.suites.clone())
                .filter(|suites| !suites.is_empty())
        })
        .unwrap_or_default();
    for shard in shards {
        let manifest = &shard.run.manifest;
        let names = (manifest.suite_order.iter()).chain(manifest.suites.iter().map(|suite| &suite.name));
        let mut after: Option<usize> = None;
        for name in names {
            after = Some(match order.iter().position(|known| known == name) {
                Some(at) => at,
                None => {
                    let at = after.map_or(order.len(), |at| at + 1);
                    order.insert(at, name.clone());
                    at
                }
            });
        }
    }
    order
}

/// How bad an outcome is: the merged suite takes the worst of its shares'.
fn severity(outcome: SuiteOutcome) -> u8 {
    match outcome {
        SuiteOutcome::Skipped => 0,
        SuiteOutcome::Passed => 1,
        SuiteOutcome::Failed => 2,
        SuiteOutcome::Errored => 3,
        SuiteOutcome::TimedOut => 4,
        SuiteOutcome::Interrupted => 5,
    }
}

/// The entry of suite `name` over all shards' entries of it (given with
/// their shard index): counts and durations summed, the worst outcome, the
/// most attempts, errors and log tails labelled by shard, artifacts as
/// `rewrite` maps them. None when no shard recorded it.
pub(crate) fn merge_entries(
    name: &str,
    entries: &[(u32, &SuiteEntry)],
    rewrite: &mut dyn FnMut(u32, &str) -> Option<String>,
) -> Option<SuiteEntry> {
    let (_, first) = entries.first()?;
    let mut merged = SuiteEntry {
        name: name.to_string(),
        runner: first.runner.clone(),
        outcome: first.outcome,
        tests: 0,
        passed: 0,
        failed: 0,
        errors: 0,
        skipped: 0,
        flaky: 0,
        duration: 0.0,
        return_code: None,
        error: None,
        log_tail: None,
        skip_reason: None,
        attempts: 0,
        leaked: Vec::new(),
        artifacts: Vec::new(),
        attempt_spans: Vec::new(),
    };
    let mut errors = Vec::new();
    let mut tails = Vec::new();
    for &(shard, entry) in entries {
        if severity(entry.outcome) > severity(merged.outcome) {
            merged.outcome = entry.outcome;
        }
        merged.tests += entry.tests;
        merged.passed += entry.passed;
        merged.failed += entry.failed;
        merged.errors += entry.errors;
        merged.skipped += entry.skipped;
        merged.flaky += entry.flaky;
        if entry.duration.is_finite() {
            merged.duration += entry.duration;
        }
        merged.attempts = merged.attempts.max(entry.attempts);
        // A failing exit code wins over a clean one.
        if merged.return_code.is_none_or(|code| code == 0) {
            merged.return_code = entry.return_code.or(merged.return_code);
        }
        if let Some(error) = &entry.error {
            errors.push(format!("shard {shard}: {error}"));
        }
        if let Some(tail) = &entry.log_tail {
            tails.push(format!("shard {shard}:\n{tail}"));
        }
        if merged.skip_reason.is_none() {
            merged.skip_reason.clone_from(&entry.skip_reason);
        }
        merged.leaked.extend(entry.leaked.iter().cloned());
        merged
            .attempt_spans
            .extend(entry.attempt_spans.iter().map(|span| evidence::AttemptSpan {
                shard: Some(shard),
                ..span.clone()
            }));
        merged
            .artifacts
            .extend(entry.artifacts.iter().filter_map(|path| rewrite(shard, path)));
    }
    merged.error = (!errors.is_empty()).then(|| errors.join("; "));
    merged.log_tail = (!tails.is_empty()).then(|| tails.join("\n"));
    if merged.outcome != SuiteOutcome::Skipped {
        merged.skip_reason = None;
    }
    Some(merged)
}

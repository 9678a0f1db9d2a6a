//! The run's diagnostics summary: the lines of the manifest's `diagnostics`.

use std::collections::HashMap;

use super::categories::{ENVIRONMENT_CATEGORY, FLAKY_CATEGORY, FLAKY_PROVEN_CONFIDENCE};
use super::Diagnosis;

/// The run's summary for the manifest's `diagnostics` list: first the line
/// "N test failure(s) detected. Breakdown: cat: n, …. Suggestions: …",
/// then one line per category with its count and suggestion. Categories
/// are listed most frequent first (ties in order of first appearance).
/// Flaky tests count as failures here (each failed at least once), and the
/// first line says how many of them passed on a retry; suites' own errors
/// (`environment`) are counted apart, not as test failures. Empty when there
/// is nothing to diagnose.
pub fn summary(diagnoses: &[Diagnosis]) -> Vec<String> {
    if diagnoses.is_empty() {
        return Vec::new();
    }
    // (category, count, suggestion of its first diagnosis), in order of first appearance.
    let mut groups: Vec<(&str, usize, &str)> = Vec::new();
    let mut positions: HashMap<&str, usize> = HashMap::new();
    for diagnosis in diagnoses {
        match positions.get(diagnosis.category.as_str()) {
            Some(&position) => groups[position].1 += 1,
            None => {
                positions.insert(&diagnosis.category, groups.len());
                groups.push((&diagnosis.category, 1, &diagnosis.suggestion));
            }
        }
    }
    // A stable sort keeps first-appearance order among equal counts.
    groups.sort_by_key(|group| std::cmp::Reverse(group.1));
    let breakdown: Vec<String> = groups
        .iter()
        .map(|(name, count, _)| format!("{name}: {count}"))
        .collect();
    let mut suggestions: Vec<&str> = Vec::new();
    for (_, _, suggestion) in &groups {
        if !suggestions.contains(suggestion) {
            suggestions.push(suggestion);
        }
    }
    let mut lines = Vec::with_capacity(groups.len() + 1);
    // Say how many of the failures the retries cured, so "N failures" is not
    // read as N tests failing now.
    let passed_on_retry = diagnoses
        .iter()
        .filter(|d| d.category == FLAKY_CATEGORY && d.confidence >= FLAKY_PROVEN_CONFIDENCE)
        .count();
    let cured = if passed_on_retry > 0 {
        format!(" ({passed_on_retry} of them flaky: passed on a retry)")
    } else {
        String::new()
    };
    // A suite's own error is no test failure: counted apart.
    let suite_errors = diagnoses.iter().filter(|d| d.category == ENVIRONMENT_CATEGORY).count();
    let apart = if suite_errors > 0 {
        format!("; {suite_errors} suite error(s)")
    } else {
        String::new()
    };
    lines.push(format!(
        "{} test failure(s) detected{cured}{apart}. Breakdown: {}. Suggestions: {}",
        diagnoses.len() - suite_errors,
        breakdown.join(", "),
        suggestions.join(" ")
    ));
    lines.extend(
        groups
            .iter()
            .map(|(name, count, suggestion)| format!("{name} ({count}): {suggestion}")),
    );
    lines
}

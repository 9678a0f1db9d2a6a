//! Target 4: post-processing at scale.

use std::fs;
use std::path::PathBuf;

use qaagent_bench::measure::{self, mb, Stats};
use qaagent_bench::{postprocess, projects};

use crate::harness::{big_report, get, latest_run, qaagent_cmd, row, run_child, secs, tool_commands, Opts, Outcome};

/// Child: one in-process post-processing run.
pub(crate) fn postprocess_child(args: &[String]) -> Result<String, String> {
    let report = PathBuf::from(args.first().ok_or("postprocess-child needs a report")?);
    let work = PathBuf::from(args.get(1).ok_or("postprocess-child needs a work dir")?);
    let before = measure::own_vm_hwm().unwrap_or(0);
    let t = postprocess::run_once(&report, &work)?;
    let peak = measure::own_vm_hwm().unwrap_or(0);
    Ok(format!(
        "total={} parse={} forwarded={} cases={} records={} diagnoses={} before={before} peak={peak} \
         peak_parsed={} peak_forwarded={}",
        secs(t.total),
        secs(t.parse),
        secs(t.forwarded),
        t.cases,
        t.records,
        t.diagnoses,
        t.hwm_parsed,
        t.hwm_forwarded
    ))
}

/// Child: the post-processing stages one by one.
pub(crate) fn stages_child(args: &[String]) -> Result<String, String> {
    let report = PathBuf::from(args.first().ok_or("stages-child needs a report")?);
    let work = PathBuf::from(args.get(1).ok_or("stages-child needs a work dir")?);
    let stages = postprocess::stages(&report, &work)?;
    let _ = fs::remove_dir_all(&work);
    Ok(stages
        .iter()
        .map(|(name, took)| format!("{:>7.1} ms  {name}", secs(*took) * 1e3))
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Target 4: from the tool's exit to the evidence finalized, for 100,000 cases.
pub(crate) fn run(opts: &Opts) -> Outcome {
    let runs = opts.runs(7);
    let (report, size) = big_report(opts)?;
    let (mut totals, mut parses, mut forwards, mut peaks) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for n in 0..runs {
        let work = opts.work.path().join(format!("postprocess-{n}"));
        let values = run_child("postprocess-child", &[&report, &work])?;
        let (cases, records, diagnoses) = (
            get(&values, "cases")?,
            get(&values, "records")?,
            get(&values, "diagnoses")?,
        );
        if cases != 100_000.0 || records != 100_000.0 || diagnoses != 30_000.0 {
            return Err(format!(
                "expected 100000 cases and records, 30000 diagnoses: {values:?}"
            ));
        }
        totals.push(get(&values, "total")?);
        parses.push(get(&values, "parse")?);
        forwards.push(get(&values, "forwarded")?);
        peaks.push(get(&values, "peak")?);
        // Each run leaves ~150 MB of evidence; keep the disk tidy.
        let _ = fs::remove_dir_all(&work);
    }
    let (total, parse, forward) = (Stats::of(&totals), Stats::of(&parses), Stats::of(&forwards));
    let peak = Stats::of(&peaks).max as u64;
    println!(
        "in-process ({} report, 100,000 cases, 30,000 failing), from the tool's exit:",
        mb(size)
    );
    println!("- JUnit read and attempt concluded: {}", parse.ms());
    println!(
        "- result at the coordinator, sent to the evidence writer: {}",
        forward.ms()
    );
    println!(
        "- evidence finalized (diagnostics, 100,000 records, manifest): {}",
        total.ms()
    );
    println!("- peak RSS of the whole process: {}", mb(peak));

    // The same through the real binary and a real pytest whose JUnit is the big report.
    let project = opts.work.path().join("postprocess-project");
    let suites = projects::replayed_report(&project, &opts.python, &report).map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("postprocess-runs");
    let (mut diffs, mut hwms, mut uppers) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..opts.runs(5) {
        let _ = fs::remove_dir_all(&runs_dir);
        let mut cmd = qaagent_cmd(opts, &project, &runs_dir, &[]);
        let sample = measure::run_sampled(&mut cmd).map_err(|e| e.to_string())?;
        if sample.code != 1 {
            return Err(format!(
                "run-all on the big report exited with {} (expected 1: tests failed)",
                sample.code
            ));
        }
        let mut alone = tool_commands(opts, &project, &suites, "postprocess-alone")?;
        let alone = measure::run(&mut alone[0]).map_err(|e| e.to_string())?;
        diffs.push(secs(sample.wall) - secs(alone.wall));
        hwms.push(sample.own_hwm as f64);
        uppers.push(sample.max_rss_with_children as f64);
    }
    let records = postprocess::count_lines(&latest_run(&runs_dir)?.join(evidence::TESTS_FILE));
    let diff = Stats::of(&diffs);
    println!(
        "whole process: `qaagent run-all` minus the same pytest alone: {} ({records} records); qaagent's own peak \
         RSS (sampled) {}, peak of qaagent and pytest together {}",
        diff.ms(),
        mb(Stats::of(&hwms).max as u64),
        mb(Stats::of(&uppers).max as u64)
    );
    let _ = fs::remove_dir_all(&runs_dir);
    Ok(vec![
        row(
            "4. tool exit → evidence finalized, 100,000 cases",
            total.ms(),
            "≤ 500 ms",
            total.median <= 0.5,
        ),
        row("4. peak RSS while doing it", mb(peak), "≤ 150 MB", peak <= 150_000_000),
        row(
            "4. whole process: run-all − pytest alone",
            diff.ms(),
            "(for reference)",
            diff.median <= 0.5,
        ),
    ])
}

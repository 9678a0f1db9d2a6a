//! Target 6: big output.

use std::fs;
use std::path::Path;

use qaagent_bench::measure::{self, mb};
use qaagent_bench::projects;

use crate::harness::{latest_run, qaagent_cmd, row, secs, tool_commands, Opts, Outcome};

/// Target 6: a suite printing 1 GB, to log files and with `--output immediate`.
pub(crate) fn run(opts: &Opts) -> Outcome {
    const MEGABYTES: usize = 1000;
    let project = opts.work.path().join("big-output");
    let suites = projects::big_output(&project, &opts.python, MEGABYTES).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut alone = tool_commands(opts, &project, &suites, "big-output-alone")?;
    let alone = measure::run(&mut alone[0]).map_err(|e| e.to_string())?;
    let _ = fs::remove_dir_all(opts.work.path().join("big-output-alone"));
    println!(
        "pytest alone, printing {MEGABYTES} MB to a file: {:.2} s",
        secs(alone.wall)
    );
    for (label, extra) in [
        ("log files", &[][..]),
        ("--output immediate", &["--output", "immediate"][..]),
    ] {
        let runs_dir = opts.work.path().join("big-output-runs");
        let _ = fs::remove_dir_all(&runs_dir);
        let mut cmd = qaagent_cmd(opts, &project, &runs_dir, extra);
        let sample = measure::run_sampled(&mut cmd).map_err(|e| e.to_string())?;
        if sample.code != 0 {
            return Err(format!("{label}: run-all exited with {}", sample.code));
        }
        let log = latest_run(&runs_dir)?.join("artifacts/loud/stdout.log");
        let lines = count_exact_lines(&log, projects::BIG_OUTPUT_LINE);
        let complete = lines == MEGABYTES * 10_000;
        println!(
            "{label}: {:.2} s; stdout.log {} with {lines} of the {} lines printed; qaagent's own peak RSS \
             (sampled) {}, with pytest's {}",
            secs(sample.wall),
            mb(fs::metadata(&log).map_or(0, |m| m.len())),
            MEGABYTES * 10_000,
            mb(sample.own_hwm),
            mb(sample.max_rss_with_children)
        );
        let _ = fs::remove_dir_all(&runs_dir);
        rows.push(row(
            &format!("6. 1 GB of output, {label}: RSS, log complete"),
            format!(
                "{}, {}",
                mb(sample.own_hwm),
                if complete { "complete" } else { "INCOMPLETE" }
            ),
            "< 50 MB, complete",
            sample.own_hwm < 50_000_000 && complete,
        ));
    }
    Ok(rows)
}

/// How many lines of `path` end with `line` (the first one printed follows
/// pytest's own output on its line).
fn count_exact_lines(path: &Path, line: &[u8]) -> usize {
    use std::io::{BufRead, BufReader};
    let Ok(file) = fs::File::open(path) else {
        return 0;
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(256);
    let mut count = 0;
    while let Ok(n) = reader.read_until(b'\n', &mut buf) {
        if n == 0 {
            break;
        }
        if buf.ends_with(line) {
            count += 1;
        }
        buf.clear();
    }
    count
}

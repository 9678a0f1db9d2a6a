//! `qaagent-bench`: the whole-process benchmarks of BENCHMARKS.md, run
//! against the release `qaagent` binary and real pytest processes.
//!
//! ```text
//! qaagent-bench [all|startup|overhead|playwright|junit|postprocess|scaling|big-output|merge|partition|split|flaky]... [--runs N] [--qaagent PATH]
//! qaagent-bench gen-junit OUT.xml [--cases N]
//! qaagent-bench gen-shards OUT_DIR [--shards N] [--records N]
//! ```
//!
//! Every scenario prints what it measured and a line per target; `all` (the
//! default) ends with a summary table. Numbers are medians over repeated
//! runs, and overheads are differences between runs interleaved round by
//! round, so a noisy shared machine disturbs both sides alike.

mod harness;
mod scenarios;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use qaagent_bench::junit_gen::{self, ReportShape};
use qaagent_bench::measure::mb;
use qaagent_bench::projects;

use harness::{child, Opts, Row};
use scenarios::{
    big_output, flaky, junit, merge, overhead, partition, playwright, postprocess, scaling, split, startup,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match real_main(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}

fn real_main(args: &[String]) -> Result<ExitCode, String> {
    let mut scenarios = Vec::new();
    let mut runs = None;
    let mut qaagent = None;
    let mut cases = ReportShape::default().cases;
    let mut shards = 50;
    let mut records = 1_000_000;
    let mut positional = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| iter.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => runs = Some(value("--runs")?.parse::<usize>().map_err(|e| e.to_string())?),
            "--qaagent" => qaagent = Some(PathBuf::from(value("--qaagent")?)),
            "--cases" => cases = value("--cases")?.parse::<usize>().map_err(|e| e.to_string())?,
            "--shards" => shards = value("--shards")?.parse::<usize>().map_err(|e| e.to_string())?.max(1),
            "--records" => records = value("--records")?.parse::<usize>().map_err(|e| e.to_string())?,
            "-h" | "--help" => {
                println!("{}", usage());
                return Ok(ExitCode::SUCCESS);
            }
            other if other.starts_with('-') => return Err(format!("unknown option {other}\n{}", usage())),
            other => positional.push(other.to_string()),
        }
    }
    match positional.first().map(String::as_str) {
        Some("gen-junit") => {
            let out = positional.get(1).ok_or("gen-junit needs an output file")?;
            let shape = ReportShape {
                cases,
                ..ReportShape::default()
            };
            let size = junit_gen::write_report(Path::new(out), &shape).map_err(|e| e.to_string())?;
            println!("{out}: {} cases, {}", shape.cases, mb(size));
            return Ok(ExitCode::SUCCESS);
        }
        Some("gen-shards") => {
            let out = positional.get(1).ok_or("gen-shards needs an output directory")?;
            let dirs =
                qaagent_bench::shard_gen::write_shards(Path::new(out), shards, records).map_err(|e| e.to_string())?;
            println!("{out}: {} shard runs, {records} records", dirs.len());
            return Ok(ExitCode::SUCCESS);
        }
        Some("postprocess-child") => return child(&positional[1..], postprocess::postprocess_child),
        Some("junit-child") => return child(&positional[1..], junit::junit_child),
        Some("stages-child") => return child(&positional[1..], postprocess::stages_child),
        _ => {}
    }
    for name in &positional {
        match name.as_str() {
            "all" => scenarios.extend(ALL),
            "startup" | "overhead" | "playwright" | "junit" | "postprocess" | "scaling" | "big-output" | "merge"
            | "partition" | "split" | "flaky" => scenarios.push(name.as_str()),
            other => return Err(format!("unknown scenario {other}\n{}", usage())),
        }
    }
    if scenarios.is_empty() {
        scenarios.extend(ALL);
    }
    let qaagent = qaagent.unwrap_or_else(default_qaagent);
    if !qaagent.is_file() {
        return Err(format!(
            "no qaagent binary at {} (build it with `cargo build --release -p qaagent-cli`, or pass --qaagent)",
            qaagent.display()
        ));
    }
    let python = projects::python();
    let work = tempfile::Builder::new()
        .prefix("qaagent-bench-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let opts = Opts {
        qaagent,
        python,
        runs,
        work,
    };
    print_machine(&opts);
    let mut rows = Vec::new();
    for scenario in scenarios {
        let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        println!("\n## {scenario}\n\n(load average at the start: {})\n", load.join(" "));
        let outcome = match scenario {
            "startup" => startup::run(&opts),
            "overhead" => overhead::run(&opts),
            "playwright" => playwright::run(&opts),
            "junit" => junit::run(&opts),
            "postprocess" => postprocess::run(&opts),
            "scaling" => scaling::run(&opts),
            "big-output" => big_output::run(&opts),
            "merge" => merge::run(&opts),
            "partition" => partition::run(&opts),
            "split" => split::run(&opts),
            "flaky" => flaky::run(&opts),
            _ => unreachable!("scenario names are checked above"),
        };
        match outcome {
            Ok(found) => rows.extend(found),
            Err(err) => {
                println!("FAILED: {err}");
                rows.push(Row {
                    target: scenario.to_string(),
                    measured: format!("error: {err}"),
                    limit: String::new(),
                    met: false,
                });
            }
        }
    }
    println!("\n## Summary\n\n| target | measured | limit | met |\n|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {} |",
            row.target,
            row.measured,
            row.limit,
            if row.met { "yes" } else { "**no**" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

const ALL: [&str; 11] = [
    "startup",
    "overhead",
    "playwright",
    "junit",
    "postprocess",
    "scaling",
    "big-output",
    "merge",
    "partition",
    "split",
    "flaky",
];

fn usage() -> &'static str {
    "usage: qaagent-bench [all|startup|overhead|playwright|junit|postprocess|scaling|big-output|merge|partition|split|flaky]... [--runs N] [--qaagent PATH]\n       \
     qaagent-bench gen-junit OUT.xml [--cases N]\n       \
     qaagent-bench gen-shards OUT_DIR [--shards N] [--records N]"
}

/// `target/release/qaagent` next to this binary.
fn default_qaagent() -> PathBuf {
    sibling("qaagent")
}

/// The program `name` in this binary's directory.
fn sibling(name: &str) -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn print_machine(opts: &Opts) {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    println!("# qaagent benchmarks\n");
    println!("- date: {date}");
    println!("- machine: {cores} cores, {cpu}, Linux {}", kernel.trim());
    println!("- qaagent: {}", opts.qaagent.display());
    println!("- python: {}", opts.python.display());
}

//! `qaagent-bench`: the whole-process benchmarks of BENCHMARKS.md, run
//! against the release `qaagent` binary and real pytest processes.
//!
//! ```text
//! qaagent-bench [all|startup|overhead|junit|postprocess|scaling|big-output]... [--runs N] [--qaagent PATH]
//! qaagent-bench gen-junit OUT.xml [--cases N]
//! ```
//!
//! Every scenario prints what it measured and a line per target; `all` (the
//! default) ends with a summary table. Numbers are medians over repeated
//! runs, and overheads are differences between runs interleaved round by
//! round, so a noisy shared machine disturbs both sides alike.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use qaagent_bench::junit_gen::{self, ReportShape};
use qaagent_bench::measure::{self, mb, Stats};
use qaagent_bench::postprocess;
use qaagent_bench::projects::{self, Suite};

/// One line of the summary: a target and what was measured against it.
struct Row {
    target: String,
    measured: String,
    limit: String,
    met: bool,
}

/// Options shared by the scenarios.
struct Opts {
    qaagent: PathBuf,
    python: PathBuf,
    runs: Option<usize>,
    work: tempfile::TempDir,
}

impl Opts {
    fn runs(&self, default: usize) -> usize {
        self.runs.unwrap_or(default).max(1)
    }
}

type Outcome = Result<Vec<Row>, String>;

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
    let mut positional = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let mut value = |name: &str| iter.next().cloned().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--runs" => runs = Some(value("--runs")?.parse::<usize>().map_err(|e| e.to_string())?),
            "--qaagent" => qaagent = Some(PathBuf::from(value("--qaagent")?)),
            "--cases" => cases = value("--cases")?.parse::<usize>().map_err(|e| e.to_string())?,
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
        Some("postprocess-child") => return child(&positional[1..], postprocess_child),
        Some("junit-child") => return child(&positional[1..], junit_child),
        Some("stages-child") => return child(&positional[1..], stages_child),
        _ => {}
    }
    for name in &positional {
        match name.as_str() {
            "all" => scenarios.extend(ALL),
            "startup" | "overhead" | "junit" | "postprocess" | "scaling" | "big-output" => {
                scenarios.push(name.as_str())
            }
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
            "startup" => startup(&opts),
            "overhead" => overhead(&opts),
            "junit" => junit(&opts),
            "postprocess" => postprocess(&opts),
            "scaling" => scaling(&opts),
            "big-output" => big_output(&opts),
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

const ALL: [&str; 6] = ["startup", "overhead", "junit", "postprocess", "scaling", "big-output"];

fn usage() -> &'static str {
    "usage: qaagent-bench [all|startup|overhead|junit|postprocess|scaling|big-output]... [--runs N] [--qaagent PATH]\n       \
     qaagent-bench gen-junit OUT.xml [--cases N]"
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

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn qaagent_cmd(opts: &Opts, project: &Path, runs_dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::new(&opts.qaagent);
    cmd.arg("-C")
        .arg(project)
        .arg("run-all")
        .arg("--runs-dir")
        .arg(runs_dir)
        .args(extra)
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    cmd
}

fn ok_run(cmd: &mut Command, what: &str) -> Result<measure::Sample, String> {
    let sample = measure::run(cmd).map_err(|e| format!("{what}: {e}"))?;
    if sample.code != 0 {
        return Err(format!("{what} exited with {}", sample.code));
    }
    Ok(sample)
}

/// The newest run directory under `runs`.
fn latest_run(runs: &Path) -> Result<PathBuf, String> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(runs)
        .map_err(|e| format!("{}: {e}", runs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs.pop().ok_or_else(|| format!("no run in {}", runs.display()))
}

fn manifest(run: &Path) -> Result<serde_json::Value, String> {
    let text = fs::read_to_string(run.join("manifest.json")).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn row(target: &str, measured: String, limit: &str, met: bool) -> Row {
    println!(
        "- {target}: {measured} (target {limit}) {}",
        if met { "" } else { "— MISSED" }
    );
    Row {
        target: target.to_string(),
        measured,
        limit: limit.to_string(),
        met,
    }
}

/// Target 2: `qaagent --version`, and `run-all` on a project whose suites are all disabled.
fn startup(opts: &Opts) -> Outcome {
    let runs = opts.runs(50);
    let project = opts.work.path().join("startup");
    projects::all_disabled(&project, &opts.python).map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("startup-runs");
    let mut version = Vec::new();
    let mut run_all = Vec::new();
    // Warm-up: page cache, dynamic loader.
    for _ in 0..3 {
        ok_run(
            Command::new(&opts.qaagent).arg("--version").stdout(Stdio::null()),
            "qaagent --version",
        )?;
        ok_run(
            &mut qaagent_cmd(opts, &project, &runs_dir, &["--no-tests=pass"]),
            "run-all",
        )?;
    }
    for _ in 0..runs {
        let sample = ok_run(
            Command::new(&opts.qaagent).arg("--version").stdout(Stdio::null()),
            "qaagent --version",
        )?;
        version.push(secs(sample.wall));
        let sample = ok_run(
            &mut qaagent_cmd(opts, &project, &runs_dir, &["--no-tests=pass"]),
            "run-all",
        )?;
        run_all.push(secs(sample.wall));
    }
    let last = manifest(&latest_run(&runs_dir)?)?;
    if last["status"] != "passed" || last["finished_at"].is_null() || last["target"]["git"]["commit"].is_null() {
        return Err(format!("the run was not finalized as expected: {last}"));
    }
    let version = Stats::of(&version);
    let run_all = Stats::of(&run_all);
    println!("`qaagent --version`: {}", version.ms());
    println!(
        "`qaagent run-all`, every suite disabled, project in git: {}",
        run_all.ms()
    );
    Ok(vec![
        row(
            "2. `qaagent --version`",
            version.ms(),
            "≤ 5 ms",
            version.median <= 0.005,
        ),
        row(
            "2. `run-all`, all suites disabled",
            run_all.ms(),
            "≤ 15 ms",
            run_all.median <= 0.015,
        ),
    ])
}

/// Runs `commands` with at most `workers` at once, as a plain shell script
/// with `xargs -P` would; returns the wall time of the whole.
fn run_pool(mut commands: Vec<Command>, workers: usize) -> Result<Duration, String> {
    let start = Instant::now();
    commands.reverse();
    let queue = Mutex::new(commands);
    let failure = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop());
                let Some(mut cmd) = next else { break };
                let status = cmd.stdin(Stdio::null()).status();
                if !matches!(&status, Ok(s) if s.success()) {
                    if let Ok(mut f) = failure.lock() {
                        *f = Some(format!("{cmd:?}: {status:?}"));
                    }
                }
            });
        }
    });
    if let Some(err) = failure.into_inner().ok().flatten() {
        return Err(err);
    }
    Ok(start.elapsed())
}

fn tool_commands(opts: &Opts, project: &Path, suites: &[Suite], tag: &str) -> Result<Vec<Command>, String> {
    suites
        .iter()
        .map(|suite| {
            projects::pytest_alone(
                project,
                &opts.python,
                suite,
                &opts.work.path().join(tag).join(&suite.name),
            )
            .map_err(|e| e.to_string())
        })
        .collect()
}

/// The tools of a project's [`projects::sleep_suites`], each with its
/// output in `out/<suite>`.
fn sleep_commands(project: &Path, suites: &[(String, f64)], out: &Path) -> Result<Vec<Command>, String> {
    suites
        .iter()
        .map(|(name, secs)| projects::sleep_alone(project, *secs, &out.join(name)).map_err(|e| e.to_string()))
        .collect()
}

/// One round of target 1 on a project: parallel and sequential `run-all`,
/// each tool alone, and the three tools side by side without qaagent.
struct OverheadRound {
    parallel: f64,
    sequential: f64,
    alone: Vec<f64>,
    side_by_side: f64,
}

/// Target 1: three suites sleeping 1, 2 and 3 s, in parallel and in sequence,
/// against the same tools run alone. First with `command` runner suites whose
/// tool (`sh`, `sleep`) takes a time known to the millisecond; then with
/// pytest, whose interpreter start-up alone varies by tens of milliseconds.
fn overhead(opts: &Opts) -> Outcome {
    let mut rows = Vec::new();

    let project = opts.work.path().join("overhead-sleep");
    let suites = projects::sleep_suites(&project, &[1.0, 2.0, 3.0], "max_workers = 3\n").map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("overhead-sleep-runs");
    let alone = |tag: &str| sleep_commands(&project, &suites, &opts.work.path().join(tag));
    println!(
        "### `command` runner (tools: `sh -c 'sleep N && printf <junit> > {{junit}}'`), `{}`\n",
        opts.qaagent.display()
    );
    let rounds = overhead_rounds(opts, opts.runs(10), &project, &runs_dir, &alone)?;
    rows.extend(overhead_rows(&rounds, "command runner"));

    let project = opts.work.path().join("overhead-pytest");
    let suites = projects::sleepers(&project, &opts.python).map_err(|e| e.to_string())?;
    let runs_dir = opts.work.path().join("overhead-pytest-runs");
    let alone = |tag: &str| tool_commands(opts, &project, &suites, tag);
    println!("\n### pytest (tests: `time.sleep(N)`), `{}`\n", opts.qaagent.display());
    let rounds = overhead_rounds(opts, opts.runs(5), &project, &runs_dir, &alone)?;
    rows.extend(overhead_rows(&rounds, "pytest"));
    Ok(rows)
}

fn overhead_rounds(
    opts: &Opts,
    rounds: usize,
    project: &Path,
    runs_dir: &Path,
    alone: &dyn Fn(&str) -> Result<Vec<Command>, String>,
) -> Result<Vec<OverheadRound>, String> {
    let mut out = Vec::new();
    for round in 0..rounds {
        let parallel = ok_run(
            &mut qaagent_cmd(opts, project, runs_dir, &["--parallel"]),
            "run-all --parallel",
        )?;
        let sequential = ok_run(&mut qaagent_cmd(opts, project, runs_dir, &["--sequential"]), "run-all")?;
        let mut times = Vec::new();
        for mut cmd in alone("overhead-alone")? {
            times.push(secs(ok_run(&mut cmd, "tool alone")?.wall));
        }
        let side_by_side = secs(run_pool(alone("overhead-pool")?, 3)?);
        println!(
            "round {}: parallel {:.3} s, sequential {:.3} s, tools alone {:?} s, tools side by side {:.3} s",
            round + 1,
            secs(parallel.wall),
            secs(sequential.wall),
            times.iter().map(|a| (a * 1e3).round() / 1e3).collect::<Vec<_>>(),
            side_by_side
        );
        out.push(OverheadRound {
            parallel: secs(parallel.wall),
            sequential: secs(sequential.wall),
            alone: times,
            side_by_side,
        });
    }
    let manifest = manifest(&latest_run(runs_dir)?)?;
    if manifest["counts"]["tests"] != 3 || manifest["status"] != "passed" {
        return Err(format!("unexpected evidence: {}", manifest["counts"]));
    }
    Ok(out)
}

fn overhead_rows(rounds: &[OverheadRound], label: &str) -> Vec<Row> {
    let max = |r: &OverheadRound| r.alone.iter().copied().fold(0.0, f64::max);
    let sum = |r: &OverheadRound| r.alone.iter().sum::<f64>();
    let par = Stats::of(&rounds.iter().map(|r| r.parallel - max(r)).collect::<Vec<_>>());
    let seq = Stats::of(&rounds.iter().map(|r| r.sequential - sum(r)).collect::<Vec<_>>());
    let pvs = Stats::of(&rounds.iter().map(|r| r.parallel - r.side_by_side).collect::<Vec<_>>());
    println!(
        "\nmedians: parallel run-all {:.3} s, slowest tool alone {:.3} s, tools side by side {:.3} s; \
         sequential run-all {:.3} s, sum of tools {:.3} s",
        Stats::of(&rounds.iter().map(|r| r.parallel).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(max).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(|r| r.side_by_side).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(|r| r.sequential).collect::<Vec<_>>()).median,
        Stats::of(&rounds.iter().map(sum).collect::<Vec<_>>()).median,
    );
    vec![
        row(
            &format!("1. {label}: parallel − slowest tool alone"),
            par.ms(),
            "≤ 20 ms",
            par.median <= 0.020,
        ),
        row(
            &format!("1. {label}: sequential − sum of tools"),
            seq.ms(),
            "≤ 20 ms",
            seq.median <= 0.020,
        ),
        row(
            &format!("1. {label}: parallel − the 3 tools side by side"),
            pvs.ms(),
            "(reference)",
            pvs.median <= 0.020,
        ),
    ]
}

/// The large report, generated once per benchmark run.
fn big_report(opts: &Opts) -> Result<(PathBuf, u64), String> {
    let path = opts.work.path().join("big-junit.xml");
    if let Ok(meta) = fs::metadata(&path) {
        return Ok((path, meta.len()));
    }
    let size = junit_gen::write_report(&path, &ReportShape::default()).map_err(|e| e.to_string())?;
    Ok((path, size))
}

/// Runs this binary's `sub` child mode and parses its `key=value` output.
fn run_child(sub: &str, args: &[&Path]) -> Result<Vec<(String, f64)>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg(sub)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("{sub} failed: {}", String::from_utf8_lossy(&out.stdout)));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect())
}

fn get(values: &[(String, f64)], key: &str) -> Result<f64, String> {
    values
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| *v)
        .ok_or(format!("child output lacks {key}"))
}

/// A child mode: runs `f` on its arguments and prints what it returns.
fn child(args: &[String], f: fn(&[String]) -> Result<String, String>) -> Result<ExitCode, String> {
    let line = f(args)?;
    println!("{line}");
    Ok(ExitCode::SUCCESS)
}

/// Child: the bare quick-xml scan and the reader, best of 3 each, then peak memory.
fn junit_child(args: &[String]) -> Result<String, String> {
    use quick_xml::events::Event;
    let path = PathBuf::from(args.first().ok_or("junit-child needs a file")?);
    let before = measure::own_vm_hwm().unwrap_or(0);
    // Memory first, while the high-water mark is still the process's baseline.
    let start = Instant::now();
    let cases = runner_api::junit::read_file(&path).map_err(|e| e.to_string())?;
    let first = start.elapsed();
    let peak = measure::own_vm_hwm().unwrap_or(0);
    let count = cases.len();
    drop(cases);
    let scan = || -> Result<Duration, String> {
        let start = Instant::now();
        let file = fs::File::open(&path).map_err(|e| e.to_string())?;
        let mut reader = quick_xml::Reader::from_reader(std::io::BufReader::with_capacity(64 * 1024, file));
        let mut buf = Vec::new();
        loop {
            match reader.read_event_into(&mut buf).map_err(|e| e.to_string())? {
                Event::Eof => break,
                _ => buf.clear(),
            }
        }
        Ok(start.elapsed())
    };
    let read = || -> Result<Duration, String> {
        let start = Instant::now();
        let cases = runner_api::junit::read_file(&path).map_err(|e| e.to_string())?;
        let took = start.elapsed();
        drop(cases);
        Ok(took)
    };
    let mut best_scan = Duration::MAX;
    let mut best_read = Duration::MAX;
    for _ in 0..3 {
        best_scan = best_scan.min(scan()?);
        best_read = best_read.min(read()?);
    }
    Ok(format!(
        "cases={count} scan={} read={} first_read={} before={before} peak={peak}",
        secs(best_scan),
        secs(best_read),
        secs(first)
    ))
}

/// Target 3: reading the 54 MB report, against a bare quick-xml scan of it.
fn junit(opts: &Opts) -> Outcome {
    let (report, size) = big_report(opts)?;
    let values = run_child("junit-child", &[&report])?;
    let (scan, read) = (get(&values, "scan")?, get(&values, "read")?);
    let (before, peak) = (get(&values, "before")? as u64, get(&values, "peak")? as u64);
    let ratio = scan / read;
    println!(
        "report: {}, {} cases; bare quick-xml scan {:.0} ms ({:.0} MB/s), read_file {:.0} ms ({:.0} MB/s); \
         process peak RSS {} (baseline {})",
        mb(size),
        get(&values, "cases")?,
        scan * 1e3,
        size as f64 / 1e6 / scan,
        read * 1e3,
        size as f64 / 1e6 / read,
        mb(peak),
        mb(before)
    );
    Ok(vec![
        row(
            "3. JUnit read throughput vs bare scan",
            format!(
                "{:.0} % ({:.0} vs {:.0} MB/s)",
                ratio * 100.0,
                size as f64 / 1e6 / read,
                size as f64 / 1e6 / scan
            ),
            "≥ 50 %",
            ratio >= 0.5,
        ),
        row(
            "3. JUnit read peak memory",
            format!("{} = {:.2} × the file", mb(peak), peak as f64 / size as f64),
            "≤ 2 × file",
            peak <= 2 * size,
        ),
    ])
}

/// Child: one in-process post-processing run.
fn postprocess_child(args: &[String]) -> Result<String, String> {
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
fn stages_child(args: &[String]) -> Result<String, String> {
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
fn postprocess(opts: &Opts) -> Outcome {
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

/// Makes the commands of a project's tools, to run them without qaagent.
type ToolCommands<'a> = Box<dyn Fn() -> Result<Vec<Command>, String> + 'a>;

/// Target 5: 1, 8 and 64 trivial suites at max_workers = 8, against the same
/// tools run 8 at a time without qaagent; with `command` runner suites (tool:
/// `sh` writing a report), then with pytest.
fn scaling(opts: &Opts) -> Outcome {
    let mut rows = Vec::new();
    for pytest in [false, true] {
        let label = if pytest { "pytest" } else { "command runner" };
        println!("### {label}\n");
        let mut per_suite = Vec::new();
        for count in [1usize, 8, 64] {
            let rounds = opts
                .runs(if count == 64 { 5 } else { 10 })
                .min(if pytest && count == 64 { 3 } else { usize::MAX });
            let project = opts
                .work
                .path()
                .join(format!("scaling-{label}-{count}").replace(' ', "-"));
            let runs_dir = project.with_extension("runs");
            let commands: ToolCommands<'_> = if pytest {
                let suites = projects::trivial(&project, &opts.python, count).map_err(|e| e.to_string())?;
                let project = project.clone();
                Box::new(move || tool_commands(opts, &project, &suites, "scaling-pool"))
            } else {
                let suites = projects::sleep_suites(&project, &vec![0.0; count], "max_workers = 8\n")
                    .map_err(|e| e.to_string())?;
                let project = project.clone();
                let pool = opts.work.path().join("scaling-pool");
                Box::new(move || sleep_commands(&project, &suites, &pool))
            };
            let (mut diffs, mut qa, mut pool) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..rounds {
                let sample = ok_run(&mut qaagent_cmd(opts, &project, &runs_dir, &["--parallel"]), "run-all")?;
                let baseline = run_pool(commands()?, 8)?;
                qa.push(secs(sample.wall));
                pool.push(secs(baseline));
                diffs.push((secs(sample.wall) - secs(baseline)) / count as f64);
            }
            let manifest = manifest(&latest_run(&runs_dir)?)?;
            if manifest["counts"]["tests"] != count {
                return Err(format!("{count} suites: unexpected counts {}", manifest["counts"]));
            }
            let diff = Stats::of(&diffs);
            println!(
                "{count} suite(s): run-all {:.3} s, the same tools 8 at a time {:.3} s; overhead per suite {}",
                Stats::of(&qa).median,
                Stats::of(&pool).median,
                diff.ms()
            );
            per_suite.push((count, diff.median, Stats::of(&qa).median - Stats::of(&pool).median));
            let _ = fs::remove_dir_all(&runs_dir);
        }
        // Linear growth of the total is a per-suite overhead that does not grow with the count.
        let first = per_suite.first().map_or(0.0, |p| p.2);
        let last = per_suite.last().map_or(0.0, |p| p.2);
        let text: Vec<String> = per_suite
            .iter()
            .map(|(n, d, total)| format!("{n}: {:.1} ms/suite ({:.0} ms in all)", d * 1e3, total * 1e3))
            .collect();
        println!();
        // At most linear: 64 suites cost no more than 64 times what one costs (with 5 ms of slack for noise).
        rows.push(row(
            &format!("5. {label}: overhead per suite at 1, 8, 64 suites"),
            text.join("; "),
            "total grows at most linearly",
            last <= 64.0 * first.max(0.0) + 0.005 * 64.0,
        ));
    }
    Ok(rows)
}

/// Target 6: a suite printing 1 GB, to log files and with `--output immediate`.
fn big_output(opts: &Opts) -> Outcome {
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

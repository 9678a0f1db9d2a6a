//! Target 3: JUnit reading.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use qaagent_bench::measure::{self, mb};

use crate::harness::{big_report, get, row, run_child, secs, Opts, Outcome};

/// Child: the bare quick-xml scan and the reader, best of 3 each, then peak memory.
pub(crate) fn junit_child(args: &[String]) -> Result<String, String> {
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
pub(crate) fn run(opts: &Opts) -> Outcome {
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

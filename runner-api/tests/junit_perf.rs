//! Throughput and memory of the JUnit reader on a large report: a 54 MB,
//! 100,000-case file must read at no less than half the speed of a bare
//! quick-xml event scan of it, with peak heap no more than twice its size.
//!
//! Timing only means something optimized, so this is ignored by default; run
//! it with `cargo test -p runner-api --release --test junit_perf -- --ignored --nocapture`.
//! It is the only test in this binary because it counts every allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use quick_xml::events::Event;
use quick_xml::Reader;
use runner_api::junit::{for_each_case, read_file};
use runner_api::TestStatus;

/// The system allocator, counting live and peak bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
/// Counting is switched on only while memory is measured, so that timing
/// runs pay nothing for it.
static COUNTING: AtomicBool = AtomicBool::new(false);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

// SAFETY: every call is forwarded unchanged to `System`; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() && COUNTING.load(Ordering::Relaxed) {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        if COUNTING.load(Ordering::Relaxed) {
            // Saturating: blocks allocated before counting began may be freed now.
            let _ = LIVE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                Some(live.saturating_sub(layout.size()))
            });
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() && COUNTING.load(Ordering::Relaxed) {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                let shrunk = layout.size() - new_size;
                let _ = LIVE.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |live| {
                    Some(live.saturating_sub(shrunk))
                });
            }
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CASES: usize = 100_000;
const CASES_PER_SUITE: usize = 250;

/// Writes a pytest-like report: mostly passes, one case in ten failing with a
/// long traceback (entities included) and captured output in CDATA.
fn write_report(path: &Path) -> std::io::Result<u64> {
    let mut out = BufWriter::new(File::create(path)?);
    writeln!(out, r#"<?xml version="1.0" encoding="utf-8"?>"#)?;
    writeln!(out, r#"<testsuites name="pytest tests">"#)?;
    let traceback_line = "    assert response.status_code == 200, f&quot;unexpected {response.status_code} &lt;body&gt; &amp; headers&quot;\n";
    for suite in 0..CASES / CASES_PER_SUITE {
        writeln!(
            out,
            r#"  <testsuite name="tests.api.test_module_{suite}" errors="0" failures="25" skipped="0" tests="{CASES_PER_SUITE}" time="12.5" timestamp="2026-01-01T00:00:00" hostname="ci-runner-7">"#
        )?;
        for n in 0..CASES_PER_SUITE {
            let id = suite * CASES_PER_SUITE + n;
            write!(
                out,
                r#"    <testcase classname="tests.api.test_module_{suite}.TestEndpoints" name="test_get_items_item_id_success[case-{id}]" file="tests/api/test_module_{suite}.py" line="{line}" time="{time:e}""#,
                line = 10 + n,
                time = 0.000_123 * (n + 1) as f64,
            )?;
            if n % 10 == 3 {
                writeln!(out, ">")?;
                writeln!(
                    out,
                    r#"      <failure message="AssertionError: unexpected 500 &lt;body&gt; for item {id}">client = &lt;TestClient&gt;"#
                )?;
                for _ in 0..25 {
                    out.write_all(traceback_line.as_bytes())?;
                }
                writeln!(out, "E       AssertionError: unexpected 500</failure>")?;
                writeln!(
                    out,
                    "      <system-out><![CDATA[GET /items/{id} -> 500\n{}]]></system-out>",
                    "log line with some payload data in it\n".repeat(12)
                )?;
                writeln!(out, "    </testcase>")?;
            } else {
                writeln!(out, " />")?;
            }
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")?;
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// The baseline: every event of the file, nothing done with them.
fn bare_scan(path: &Path) -> usize {
    let file = File::open(path).expect("open report");
    let mut reader = Reader::from_reader(BufReader::with_capacity(64 * 1024, file));
    let mut buf = Vec::new();
    let mut events = 0;
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed report") {
            Event::Eof => break,
            _ => events += 1,
        }
        buf.clear();
    }
    events
}

/// CPU time of the calling thread: steadier than wall time on a shared machine.
fn thread_cpu_time() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `usage` is a valid place for one `rusage`, which getrusage fills.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_THREAD, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage failed");
    // SAFETY: getrusage succeeded, so it initialized `usage`.
    let usage = unsafe { usage.assume_init() };
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// The least CPU time `f` took over `runs` runs, and its last result (the
/// previous results are dropped outside the timed part).
fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None;
    let mut last = None;
    for _ in 0..runs {
        drop(last.take());
        let start = thread_cpu_time();
        let value = f();
        let took = thread_cpu_time() - start;
        best = Some(best.map_or(took, |b: Duration| b.min(took)));
        last = Some(value);
    }
    (best.expect("at least one run"), last.expect("at least one run"))
}

#[test]
#[ignore = "slow and timing-based; run optimized with --release -- --ignored"]
fn large_report_reads_fast_and_lean() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("large.xml");
    let size = write_report(&path).expect("write report");
    let mb = size as f64 / 1e6;
    assert!((50e6..60e6).contains(&(size as f64)), "report is {mb:.1} MB");

    let (scan_time, events) = best_of(3, || bare_scan(&path));
    let (stream_time, streamed) = best_of(3, || {
        let file = File::open(&path).expect("open report");
        for_each_case(file, &path, drop).expect("stream report")
    });
    assert_eq!(streamed, CASES as u64);
    let (read_time, cases) = best_of(3, || read_file(&path).expect("read report"));
    assert_eq!(cases.len(), CASES);
    assert_eq!(
        cases.iter().filter(|c| c.status == TestStatus::Failed).count(),
        CASES / 10
    );
    drop(cases);

    LIVE.store(0, Ordering::Relaxed);
    PEAK.store(0, Ordering::Relaxed);
    COUNTING.store(true, Ordering::Relaxed);
    let cases = read_file(&path).expect("read report");
    COUNTING.store(false, Ordering::Relaxed);
    let peak = PEAK.load(Ordering::Relaxed);
    let kept = LIVE.load(Ordering::Relaxed);
    assert_eq!(cases.len(), CASES);

    eprintln!(
        "{mb:.1} MB, {events} events, CPU time: bare scan {scan_time:?} ({:.0} MB/s), \
         streaming {stream_time:?} ({:.0} MB/s), read {read_time:?} ({:.0} MB/s); heap peak {:.1} MB, kept {:.1} MB",
        mb / scan_time.as_secs_f64(),
        mb / stream_time.as_secs_f64(),
        mb / read_time.as_secs_f64(),
        peak as f64 / 1e6,
        kept as f64 / 1e6,
    );
    assert!(
        read_time <= scan_time * 2,
        "reading took {read_time:?}, more than twice the bare scan's {scan_time:?}"
    );
    assert!(
        peak as u64 <= 2 * size,
        "peak heap {peak} bytes is more than twice the file's {size} bytes"
    );
}

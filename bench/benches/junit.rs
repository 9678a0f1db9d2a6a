//! JUnit reading on the report (100,000 pytest cases, 30 % failing with
//! ~1.3 KB tracebacks, ≈ 54 MB), against a bare quick-xml event scan of the
//! same file in the same group: the reader must keep at least half the
//! scan's throughput.

use std::fs::File;
use std::hint::black_box;
use std::io::BufReader;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use qaagent_bench::junit_gen::{write_report, ReportShape};
use quick_xml::events::Event;
use quick_xml::Reader;
use runner_api::junit::{for_each_case, read_file};

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

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.xml");
    let size = write_report(&path, &ReportShape::default()).expect("write report");

    let mut group = c.benchmark_group("junit 100k cases");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(size));
    group.bench_function("bare quick-xml scan (baseline)", |b| {
        b.iter(|| bare_scan(black_box(&path)))
    });
    group.bench_function("for_each_case (streaming)", |b| {
        b.iter(|| {
            let file = File::open(&path).expect("open report");
            for_each_case(file, &path, drop).expect("read report")
        })
    });
    group.bench_function("read_file", |b| {
        b.iter(|| read_file(black_box(&path)).expect("read report"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Writing evidence for a large suite: 100,000 `TestRecord`s (30,000 of them
//! failures with ~1.3 KB tracebacks) through the evidence writer thread, from
//! the suite's result arriving to the run finalized on disk.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use evidence::{Run, RunInfo, RunStatus};
use qaagent_bench::junit_gen::{write_report, ReportShape};
use runner_api::SuiteResult;

/// Deletes a run directory once criterion drops it, outside the timed part
/// (runs would pile up otherwise: ~100 MB each).
struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("report.xml");
    write_report(&path, &ReportShape::default()).expect("write report");
    let mut result = SuiteResult::new("unit", "pytest");
    result.cases = runner_api::junit::read_file(&path)
        .expect("read report")
        .into_iter()
        .map(|row| row.into_test_case())
        .collect();
    let cases = result.cases.len() as u64;
    let runs = dir.path().join("runs");
    let info = RunInfo {
        project_name: "bench".into(),
        project_path: dir.path().to_path_buf(),
        suites: vec!["unit".into()],
        qaagent_version: "0".into(),
        partition: None,
    };

    let mut group = c.benchmark_group("evidence");
    group.sample_size(10);
    group.throughput(Throughput::Elements(cases));
    group.bench_function("write 100k TestRecords and finalize", |b| {
        b.iter_batched(
            || {
                let run = Run::create(&runs, info.clone()).expect("create run");
                let record = orchestrator::evidence_map::suite_record(result.clone());
                (run.start_writer().expect("writer"), record)
            },
            |(writer, result)| {
                writer.suite_finished(0, result).expect("send");
                let dir = writer.dir().to_path_buf();
                writer.finish(RunStatus::Failed, Duration::ZERO).expect("finalized");
                RemoveOnDrop(dir)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

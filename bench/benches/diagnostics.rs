//! How long diagnosing a large, badly failing run takes: 30,000 failing cases
//! with ~1.3 KB tracebacks, a mix of every category and of unknown failures
//! (the costliest: every tier of text is searched).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use orchestrator::diagnostics::{summary, CategorySpec, Diagnoser};
use runner_api::{SuiteResult, TestCase, TestStatus};

const CASES: usize = 30_000;

/// Failure messages, one per kind of failure, cycled through.
const MESSAGES: &[&str] = &[
    "AssertionError: assert 41 == 42\n +  where 41 = total(cart)",
    "TimeoutError: page.click: Timeout 5000ms exceeded.\nCall log:\n  - waiting for locator('#pay')",
    "requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8000): Max retries exceeded \
     with url: /api/pets (Caused by NewConnectionError('Failed to establish a new connection: [Errno 111] \
     Connection refused'))",
    "assert 401 == 200\n +  where 401 = <Response [401]>.status_code",
    "KeyError: 'owner_id'",
    "RuntimeError: worker exited with signal 11",
    "Exception: the frobnicator returned an unexpected value",
];

/// A ~1.3 KB pytest-like traceback that matches no category on its own.
fn traceback(index: usize) -> String {
    let mut body = String::new();
    let mut frame = 0;
    while body.len() < 1300 {
        body.push_str(&format!(
            "shop/services/orders.py:{line}: in place_order_{index}\n    result = self._gateway.submit(order, \
             retries=self.retries, idempotency_key=key_{frame})\nshop/gateway/client.py:{line2}: in submit\n    \
             response = self._session.post(self._url, json=payload)\n",
            line = 100 + frame,
            line2 = 200 + frame,
        ));
        frame += 1;
    }
    body
}

fn failing_suite() -> SuiteResult {
    let mut result = SuiteResult::new("unit", "pytest");
    result.cases = (0..CASES)
        .map(|index| {
            let mut case = TestCase::new(format!("test_case_{index}"), "tests.test_shop", TestStatus::Failed);
            case.message = Some(MESSAGES[index % MESSAGES.len()].to_string());
            case.details = Some(traceback(index));
            case.system_out = Some(format!("INFO placing order {index}\nINFO order rejected\n"));
            case
        })
        .collect();
    result
}

fn bench(c: &mut Criterion) {
    let custom = [CategorySpec {
        name: "database".into(),
        pattern: r"psycopg2\.OperationalError|could not connect to server".into(),
        suggestion: "Start the test database.".into(),
    }];
    let diagnoser = Diagnoser::new(&custom).expect("patterns compile");
    let result = failing_suite();

    let mut group = c.benchmark_group("diagnostics");
    group.sample_size(10);
    group.throughput(Throughput::Elements(CASES as u64));
    group.bench_function("diagnose_suite 30k failing cases", |b| {
        b.iter(|| {
            let diagnoses = diagnoser.diagnose_suite(black_box(&result));
            black_box(summary(&diagnoses))
        })
    });
    group.finish();
    c.bench_function("Diagnoser::new", |b| b.iter(|| Diagnoser::new(black_box(&custom))));
}

criterion_group!(benches, bench);
criterion_main!(benches);

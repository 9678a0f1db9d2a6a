//! A generator of large pytest-style JUnit reports (the `xunit1` family
//! qaagent runs pytest with), deterministic so every machine reads the same
//! bytes.
//!
//! The default shape is the issue's: 100,000 cases in one `<testsuite>`, 30 %
//! failing with a ~1.3 KB traceback each (entities included, as pytest escapes
//! them), which comes to about 54 MB. Failure messages cycle through every
//! diagnostics category and through failures no category matches, which cost
//! the diagnoser most.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct ReportShape {
    /// Test cases in the report.
    pub cases: usize,
    /// Percentage of them (0..=100) that fail.
    pub failing_percent: usize,
    /// Approximate bytes of each failure's body.
    pub body_bytes: usize,
    /// Cases per test module (the `file` and `classname` change every this many).
    pub cases_per_module: usize,
}

impl Default for ReportShape {
    /// The issue's report: 100,000 cases, 30 % failing with ~1.3 KB bodies.
    fn default() -> Self {
        ReportShape {
            cases: 100_000,
            failing_percent: 30,
            body_bytes: 1300,
            cases_per_module: 200,
        }
    }
}

/// Failure messages, one per kind of failure, cycled through (escaped for an attribute).
const MESSAGES: &[&str] = &[
    "AssertionError: assert 500 == 200\n +  where 500 = &lt;Response [500]&gt;.status_code",
    "TimeoutError: page.click: Timeout 5000ms exceeded.",
    "requests.exceptions.ConnectionError: HTTPConnectionPool(host=&apos;localhost&apos;, port=8000): Max retries \
     exceeded (Caused by NewConnectionError(&apos;Failed to establish a new connection: [Errno 111] Connection \
     refused&apos;))",
    "assert 401 == 200",
    "KeyError: &apos;owner_id&apos;",
    "RuntimeError: worker exited with signal 11",
    "Exception: the frobnicator returned an unexpected value",
];

/// Whether case `index` fails, spreading failures evenly.
pub fn is_failing(shape: &ReportShape, index: usize) -> bool {
    (index * shape.failing_percent) % 100 + shape.failing_percent >= 100
}

/// How many cases of `shape` fail.
pub fn failing_count(shape: &ReportShape) -> usize {
    (0..shape.cases).filter(|&i| is_failing(shape, i)).count()
}

/// Writes the report to `path`; returns its size in bytes.
pub fn write_report(path: &Path, shape: &ReportShape) -> io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    write_to(&mut out, shape)?;
    out.flush()?;
    drop(out);
    Ok(std::fs::metadata(path)?.len())
}

/// Writes the report to `out`.
pub fn write_to(out: &mut impl Write, shape: &ReportShape) -> io::Result<()> {
    let failures = failing_count(shape);
    writeln!(out, r#"<?xml version="1.0" encoding="utf-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="pytest tests"><testsuite name="pytest" errors="0" failures="{failures}" skipped="0" tests="{}" time="123.456" timestamp="2026-01-01T00:00:00.000000+00:00" hostname="ci-runner-7">"#,
        shape.cases
    )?;
    let mut body = String::with_capacity(shape.body_bytes + 512);
    for index in 0..shape.cases {
        let module = index / shape.cases_per_module.max(1);
        let line = 10 + (index % shape.cases_per_module.max(1)) * 7;
        let time = 0.000_5 + (index % 97) as f64 * 0.001;
        write!(
            out,
            r#"<testcase classname="tests.test_items_{module}" name="test_get_items_{index}" file="tests/test_items_{module}.py" line="{line}" time="{time:.3}""#,
        )?;
        if !is_failing(shape, index) {
            out.write_all(b" />\n")?;
            continue;
        }
        let message = MESSAGES[index % MESSAGES.len()];
        traceback(&mut body, shape.body_bytes, module, index, line);
        writeln!(out, "><failure message=\"{message}\">{body}</failure></testcase>")?;
    }
    writeln!(out, "</testsuite></testsuites>")?;
    Ok(())
}

/// A pytest traceback of about `bytes` bytes, escaped for XML text.
fn traceback(body: &mut String, bytes: usize, module: usize, index: usize, line: usize) {
    use std::fmt::Write as _;
    body.clear();
    let _ = write!(
        body,
        "client = &lt;starlette.testclient.TestClient object at 0x7f3a{index:08x}&gt;, item_id = {index}\n\n    \
         def test_get_items(client, item_id):\n        response = client.get(f&quot;/items/{{item_id}}&quot;)\n"
    );
    let mut frame = 0;
    while body.len() + 200 < bytes {
        let _ = write!(
            body,
            "\nshop/services/items.py:{n}: in fetch_{frame}\n    return self._gateway.get(item_id, retries=self.retries, \
             key=&quot;k{frame}&quot;)\n",
            n = 100 + frame * 3,
        );
        frame += 1;
    }
    let _ = write!(
        body,
        "&gt;       assert response.status_code == 200, response.text\nE       assert 500 == 200\nE        +  \
         where 500 = &lt;Response [500]&gt;.status_code\n\ntests/test_items_{module}.py:{line}: AssertionError"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_report_has_the_issue_s_shape_and_reads_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("big.xml");
        let shape = ReportShape::default();
        let size = write_report(&path, &shape).expect("write");
        assert!((50e6..58e6).contains(&(size as f64)), "{size} bytes");
        let cases = runner_api::junit::read_file(&path).expect("well-formed");
        assert_eq!(cases.len(), 100_000);
        let failed = cases.iter().filter(|c| c.status().is_failure()).count();
        assert_eq!(failed, 30_000);
        let body = cases.iter().find_map(|c| c.details()).expect("a body");
        assert!((1100..1500).contains(&body.len()), "body of {} bytes", body.len());
        assert!(body.contains("<Response [500]>"), "entities resolved: {body}");
    }
}

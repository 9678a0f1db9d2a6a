//! Listing a Playwright suite's tests without running them: `playwright
//! test --list --reporter=json` writes a JSON report of the same shape as a
//! run's, every test in it skipped, which [`json_report`] reads.

use std::path::PathBuf;

use runner_api::{RunnerError, SuiteContext};

use crate::json_report;

/// Where the list goes, in the collection's scratch directory.
pub(crate) fn list_file(ctx: &SuiteContext) -> PathBuf {
    ctx.output_dir.join("list.json")
}

/// The selectors of every test (one per project) the list names.
pub(crate) fn selectors(ctx: &SuiteContext) -> Result<Vec<String>, RunnerError> {
    let report = json_report::read(&list_file(ctx), &ctx.path)
        .map_err(|err| RunnerError::Other(format!("cannot read Playwright's test list: {err}")))?;
    Ok(report.cases.into_iter().filter_map(|case| case.selector).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx_with_list(list: &str) -> (tempfile::TempDir, SuiteContext) {
        let dir = tempfile::tempdir().expect("tempdir");
        let ctx = SuiteContext::new("e2e", dir.path(), dir.path(), dir.path());
        std::fs::write(list_file(&ctx), list).expect("write");
        (dir, ctx)
    }

    #[test]
    fn nested_describes_and_projects_become_selectors() {
        let test = |project: &str| {
            format!(r#"{{"projectName":"{project}","status":"skipped","expectedStatus":"passed","results":[]}}"#)
        };
        let list = format!(
            r#"{{"config":{{"rootDir":"/p/tests"}},"errors":[],
                "stats":{{"expected":0,"unexpected":0,"flaky":0,"skipped":3}},
                "suites":[{{"title":"cart.spec.ts","specs":[],"suites":[{{"title":"cart","specs":[
                {{"title":"shows","file":"cart.spec.ts","tests":[{},{}]}}],
                "suites":[{{"title":"checkout","specs":[{{"title":"pays","file":"cart.spec.ts","tests":[{}]}}]}}]}}]}}]}}"#,
            test("desktop"),
            test("mobile"),
            test("")
        );
        let (_dir, ctx) = ctx_with_list(&list);
        assert_eq!(
            selectors(&ctx).expect("read"),
            [
                "[desktop] › cart.spec.ts › cart › shows",
                "[mobile] › cart.spec.ts › cart › shows",
                "cart.spec.ts › cart › checkout › pays"
            ]
        );
    }

    #[test]
    fn a_malformed_list_is_an_error() {
        let (_dir, ctx) = ctx_with_list("{\"suites\": [");
        assert!(selectors(&ctx).is_err());
    }
}

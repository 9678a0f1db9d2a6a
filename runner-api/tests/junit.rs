//! The JUnit reader against reports real tools wrote (see `tests/data/README.md`)
//! and against the ways a report goes wrong.

use std::path::{Path, PathBuf};

use runner_api::junit::{
    for_each_case, looks_like_report, read_dir, read_file, read_reader, xml_files_in, JunitCase, JunitError,
};
use runner_api::TestStatus;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Input that arrives at most `chunk` bytes per read, the way a pipe or a
/// slow disk may hand it over (a `BufReader` would not do: it passes large
/// reads straight through to what it wraps).
struct Trickle<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl<'a> Trickle<'a> {
    fn new(data: impl Into<&'a [u8]>, chunk: usize) -> Self {
        Trickle {
            data: data.into(),
            chunk,
        }
    }
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(out.len()).min(self.chunk);
        out[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

fn read_str(xml: &str) -> Result<Vec<JunitCase>, JunitError> {
    read_reader(xml.as_bytes(), Path::new("inline.xml"))
}

fn read_ok(xml: &str) -> Vec<JunitCase> {
    read_str(xml).expect("well-formed report")
}

/// The (line, column, message) of a malformed report; panics on anything else.
fn malformed(result: Result<Vec<JunitCase>, JunitError>) -> (u64, u64, String) {
    match result {
        Err(JunitError::Malformed {
            line, column, message, ..
        }) => (line, column, message),
        Err(other) => panic!("expected a malformed-report error, got {other}"),
        Ok(cases) => panic!("expected a malformed-report error, got {} cases", cases.len()),
    }
}

fn case<'a>(cases: &'a [JunitCase], name: &str) -> &'a JunitCase {
    cases
        .iter()
        .find(|case| case.name() == name)
        .unwrap_or_else(|| panic!("no case named {name:?} in {:?}", names(cases)))
}

fn names(cases: &[JunitCase]) -> Vec<&str> {
    cases.iter().map(|case| case.name()).collect()
}

// ---------------------------------------------------------------- pytest

#[test]
fn pytest9_xunit1_rows_in_order() {
    let cases = read_file(&data("pytest9-xunit1.xml")).expect("pytest report");
    assert_eq!(
        names(&cases),
        [
            "test_passes",
            "test_fails",
            "test_errors_in_setup",
            "test_fails_then_teardown_error",
            "test_fails_then_teardown_error",
            "test_skipped",
            "test_xfail",
            "test_param[with space]",
            "test_param[with [brackets]]",
            r"test_param[\xfcn\xefcode]",
            "test_in_class",
        ]
    );
    let statuses: Vec<TestStatus> = cases.iter().map(|case| case.status()).collect();
    use TestStatus::*;
    assert_eq!(
        statuses,
        [Passed, Failed, Error, Failed, Error, Skipped, Skipped, Passed, Failed, Passed, Passed]
    );
    for case in &cases {
        assert_eq!(case.suite_name(), Some("pytest"), "{}", case.name());
        assert_eq!(case.hostname(), Some("vm"));
        assert_eq!(case.file(), Some("test_sample.py"));
        assert!(case.time().is_some());
    }
}

#[test]
fn pytest9_xunit1_details() {
    let cases = read_file(&data("pytest9-xunit1.xml")).expect("pytest report");

    let passed = case(&cases, "test_passes");
    assert_eq!(passed.classname(), "test_sample");
    assert_eq!(passed.line(), Some(3));
    assert_eq!(passed.time(), Some(0.0));
    assert_eq!((&passed.message(), &passed.details()), (&None, &None));
    let out = passed.system_out().expect("captured stdout");
    assert!(
        out.starts_with("--------------------------------- Captured Log"),
        "{out:?}"
    );
    assert!(out.contains("hello from stdout"), "{out:?}");

    let failed = case(&cases, "test_fails");
    // `&lt;`, `&amp;` and a `&#10;` newline in the attribute.
    assert_eq!(
        failed.message(),
        Some("AssertionError: values <differ> & 'quoted'\nassert 1 == 2")
    );
    assert_eq!(failed.error_type(), None);
    let details = failed.details().expect("traceback");
    assert!(details.starts_with("def test_fails():\n"), "{details:?}");
    assert!(
        details.contains(">       assert x[\"a\"] == 2, \"values <differ> & 'quoted'\""),
        "{details:?}"
    );
    assert!(details.ends_with("test_sample.py:10: AssertionError"), "{details:?}");

    let setup_error = case(&cases, "test_errors_in_setup");
    assert_eq!(
        setup_error.message(),
        Some("failed on setup with \"RuntimeError: fixture exploded\"")
    );

    let rows: Vec<&JunitCase> = cases
        .iter()
        .filter(|c| c.name() == "test_fails_then_teardown_error")
        .collect();
    assert_eq!(rows[0].message(), Some("assert False"));
    assert_eq!(
        rows[1].message(),
        Some("failed on teardown with \"ValueError: teardown failed\"")
    );

    let skipped = case(&cases, "test_skipped");
    assert_eq!(skipped.error_type(), Some("pytest.skip"));
    assert_eq!(skipped.message(), Some("not today"));
    assert!(skipped
        .details()
        .is_some_and(|d| d.ends_with("test_sample.py:32: not today")));

    let xfail = case(&cases, "test_xfail");
    assert_eq!(xfail.error_type(), Some("pytest.xfail"));
    assert_eq!(xfail.message(), Some("known bug #12"));
    assert_eq!(xfail.details(), None);

    let in_class = case(&cases, "test_in_class");
    assert_eq!(in_class.classname(), "test_sample.TestGroup");
    assert_eq!(in_class.line(), Some(47));
    assert!(in_class.system_err().is_some_and(|err| err.contains("to stderr")));
}

// ---------------------------------------------------------------- behave

#[test]
fn behave_directory_one_file_per_feature_in_name_order() {
    let dir = data("behave");
    let files = xml_files_in(&dir).expect("list reports");
    let file_names: Vec<_> = files.iter().map(|f| f.file_name().expect("a file name")).collect();
    assert_eq!(file_names, ["TESTS-auth.xml", "TESTS-cart.xml"]);

    let cases = read_dir(&dir).expect("behave reports");
    assert_eq!(
        names(&cases),
        [
            "Good password",
            "Add one item",
            "Broken total",
            "Add 1 of kiwi -- @1.1 Fruits",
            "Add 2 of mangö -- @1.2 Fruits",
            "Skipped one",
            "Undefined step",
        ]
    );
    assert_eq!(cases[0].suite_name(), Some("auth.Login"));
    // Bare <testsuite> root, time in exponent syntax.
    assert_eq!(cases[0].time(), Some(9.8e-05));
    assert_eq!(cases[0].classname(), "auth.Login");

    let passed = case(&cases, "Add 2 of mangö -- @1.2 Fruits");
    assert_eq!(passed.status(), TestStatus::Passed);
    assert_eq!(passed.suite_name(), Some("cart.Shopping cart"));
    let out = passed.system_out().expect("scenario output");
    assert!(out.starts_with("@scenario.begin\n"), "{out:?}");
    assert!(out.contains("adding 2 mangö"));

    let failed = case(&cases, "Broken total");
    assert_eq!(failed.status(), TestStatus::Failed);
    assert_eq!(failed.error_type(), Some("AssertionError"));
    assert_eq!(failed.message(), Some("expected 3 <items>, got 2 & more"));
    assert_eq!(
        failed.details(),
        Some(
            "Failing step: Then the cart holds 3 items ... failed in 0.000s\n\
             Location: features/cart.feature:12\n\
             ASSERT FAILED: expected 3 <items>, got 2 & more"
        )
    );

    let skipped = case(&cases, "Skipped one");
    assert_eq!(skipped.status(), TestStatus::Skipped);
    assert_eq!((&skipped.message(), &skipped.details()), (&None, &None));
    assert_eq!(skipped.time(), Some(0.0));

    let undefined = case(&cases, "Undefined step");
    assert_eq!(undefined.status(), TestStatus::Error);
    assert_eq!(undefined.time(), Some(4.4e-05));
    assert!(undefined
        .details()
        .is_some_and(|d| d.starts_with("Failing step: When I do something nobody wrote ... undefined")));
}

// ---------------------------------------------------------------- Playwright

#[test]
fn playwright_projects_come_from_hostname() {
    let cases = read_file(&data("playwright.xml")).expect("playwright report");
    let rows: Vec<(&str, Option<&str>, TestStatus)> =
        cases.iter().map(|c| (c.name(), c.hostname(), c.status())).collect();
    assert_eq!(
        rows,
        [
            ("has title", Some("chromium"), TestStatus::Passed),
            ("cart › checkout › adds an item", Some("chromium"), TestStatus::Failed),
            ("skipped on chromium", Some("chromium"), TestStatus::Skipped),
            ("has title", Some("firefox"), TestStatus::Passed),
        ]
    );
    assert!(cases.iter().all(|c| c.suite_name() == Some("example.spec.ts")));
    assert!(cases.iter().all(|c| c.classname() == "example.spec.ts"));

    let failed = &cases[1];
    assert_eq!(failed.time(), Some(1.7));
    assert_eq!(failed.message(), Some("example.spec.ts:10:5 adds an item"));
    assert_eq!(failed.error_type(), Some("FAILURE"));
    let details = failed.details().expect("failure body");
    // The CDATA's own indentation stays; the blank line before it goes.
    assert!(
        details.starts_with("  [chromium] › example.spec.ts:10:5 › cart › checkout › adds an item"),
        "{details:?}"
    );
    assert!(details.contains("Expected: \"1\"\n    Received: \"0\""));
    assert!(details.ends_with("──────"), "{details:?}");
    // Two CDATA pieces and the text between them, joined.
    assert_eq!(
        failed.system_out(),
        Some("opening the cart\n\n\n[[ATTACHMENT|example-cart-checkout-adds-an-item-chromium/test-failed-1.png]]")
    );
    assert_eq!(failed.system_err(), Some("warning: slow network"));

    let skipped = &cases[2];
    assert_eq!((&skipped.message(), &skipped.details()), (&None, &None));
}

// ---------------------------------------------------------------- Node

#[test]
fn node_test_runner_cases_directly_under_testsuites() {
    let cases = read_file(&data("node-test-runner.xml")).expect("node report");
    let rows: Vec<(&str, Option<&str>, TestStatus)> =
        cases.iter().map(|c| (c.name(), c.suite_name(), c.status())).collect();
    assert_eq!(
        rows,
        [
            ("top level passes", None, TestStatus::Passed),
            ("top level fails", None, TestStatus::Failed),
            ("skipped one", None, TestStatus::Skipped),
            ("todo one", None, TestStatus::Skipped),
            ("inner passes", Some("a suite"), TestStatus::Passed),
            ("deep fails", Some("nested"), TestStatus::Failed),
        ]
    );
    assert_eq!(cases[0].time(), Some(0.001646));
    assert_eq!(cases[0].hostname(), None);
    assert_eq!(cases[5].hostname(), Some("vm"));
    // Node escapes `"` twice; one level of escaping is undone, as XML says.
    assert_eq!(cases[1].message(), Some("math <is> & &quot;hard&quot;2 !== 3"));
    assert_eq!(cases[1].error_type(), Some("testCodeFailure"));
    let details = cases[1].details().expect("failure body");
    assert!(
        details.starts_with("[Error [ERR_TEST_FAILURE]: math <is> & \"hard\""),
        "{details:?}"
    );
    assert!(details.ends_with('}'), "{details:?}");
    assert_eq!(cases[2].error_type(), Some("skipped"));
    assert_eq!(cases[2].message(), Some("not now"));
    assert_eq!(cases[3].error_type(), Some("todo"));
    assert_eq!(cases[5].message(), Some("déjà vu"));
}

// ---------------------------------------------------------------- structure

#[test]
fn nested_suites_give_the_innermost_name_and_hostname() {
    let cases = read_ok(
        r#"<testsuites name="all">
             <testsuite name="outer" hostname="h-outer">
               <testcase name="a"/>
               <testsuite name="inner">
                 <testcase name="b"/>
                 <testsuite name="innermost" hostname="h-innermost"><testcase name="c"></testcase></testsuite>
               </testsuite>
               <testcase name="d"/>
             </testsuite>
             <testsuite><testcase name="e"/></testsuite>
           </testsuites>"#,
    );
    let rows: Vec<(&str, Option<&str>, Option<&str>)> =
        cases.iter().map(|c| (c.name(), c.suite_name(), c.hostname())).collect();
    assert_eq!(
        rows,
        [
            ("a", Some("outer"), Some("h-outer")),
            ("b", Some("inner"), None),
            ("c", Some("innermost"), Some("h-innermost")),
            ("d", Some("outer"), Some("h-outer")),
            ("e", None, None),
        ]
    );
}

#[test]
fn empty_roots_are_reports_with_no_tests() {
    assert!(read_ok("<testsuites/>").is_empty());
    assert!(read_ok("<testsuites></testsuites>").is_empty());
    assert!(read_ok(r#"<testsuite name="none" tests="0"/>"#).is_empty());
    assert!(read_ok("<testsuites><testsuite/></testsuites>").is_empty());
}

#[test]
fn times_in_any_float_syntax_or_absent() {
    let cases = read_ok(
        r#"<testsuite>
             <testcase name="exp" time="8.6e-05"/>
             <testcase name="upper" time="1E3"/>
             <testcase name="plain" time="12.5"/>
             <testcase name="int" time="3"/>
             <testcase name="comma" time="0,25"/>
             <testcase name="absent"/>
             <testcase name="empty" time=""/>
             <testcase name="junk" time="soon"/>
             <testcase name="negative" time="-1"/>
           </testsuite>"#,
    );
    let times: Vec<Option<f64>> = cases.iter().map(|c| c.time()).collect();
    assert_eq!(
        times,
        [
            Some(8.6e-05),
            Some(1000.0),
            Some(12.5),
            Some(3.0),
            Some(0.25),
            None,
            None,
            None,
            None
        ]
    );
    assert_eq!(cases[5].clone().into_test_case().duration, 0.0);
}

#[test]
fn file_and_line_attributes() {
    let cases = read_ok(
        r#"<testsuite><testcase name="a" file="t/a.py" line="12"/><testcase name="b" line="x"/><testcase name="c"/></testsuite>"#,
    );
    assert_eq!((cases[0].file(), cases[0].line()), (Some("t/a.py"), Some(12)));
    assert_eq!((cases[1].file(), cases[1].line()), (None, None));
    assert_eq!((cases[2].classname(), cases[2].line()), ("", None));
}

#[test]
fn error_beats_failure_beats_skipped_and_the_first_message_stays() {
    let cases = read_ok(
        r#"<testsuite>
             <testcase name="skipped-then-failure">
               <skipped message="skip"/>
               <failure message="boom"/>
             </testcase>
             <testcase name="error-then-skipped"><error message="e"/><skipped message="s"/></testcase>
             <testcase name="bare-failure"><failure/></testcase>
           </testsuite>"#,
    );
    let second = case(&cases, "skipped-then-failure");
    assert_eq!((second.status(), second.message()), (TestStatus::Failed, Some("skip")));
    let third = case(&cases, "error-then-skipped");
    assert_eq!((third.status(), third.message()), (TestStatus::Error, Some("e")));
    assert!(third.failures().is_empty(), "one failure: nothing extra kept");
    let fourth = case(&cases, "bare-failure");
    assert_eq!(
        (fourth.status(), &fourth.message(), &fourth.details()),
        (TestStatus::Failed, &None, &None)
    );
}

/// pytest writes one `<failure>` per failing subtest in one `<testcase>`,
/// and counts each in the suite's `failures`.
#[test]
fn every_failure_and_error_of_a_case_is_kept() {
    let xml = r#"<testsuite name="s" failures="2" errors="1">
             <testcase name="subtests">
               <failure message="first" type="AssertionError">body one</failure>
               <skipped message="not this"/>
               <error message="second" type="OSError">body two</error>
               <failure>body three</failure>
             </testcase>
           </testsuite>"#;
    let cases = read_ok(xml);
    let case = case(&cases, "subtests");
    assert_eq!(case.status(), TestStatus::Error);
    assert_eq!(case.message(), Some("first\nsecond"));
    assert_eq!(case.error_type(), Some("AssertionError"));
    assert_eq!(case.details(), Some("body one\n\nbody two\n\nbody three"));
    let kept: Vec<_> = (case.failures().iter())
        .map(|f| {
            (
                f.status,
                f.message.as_deref(),
                f.error_type.as_deref(),
                f.details.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        kept,
        [
            (
                TestStatus::Failed,
                Some("first"),
                Some("AssertionError"),
                Some("body one")
            ),
            (TestStatus::Error, Some("second"), Some("OSError"), Some("body two")),
            (TestStatus::Failed, None, None, Some("body three")),
        ]
    );
    let summary = for_each_case(xml.as_bytes(), Path::new("p.xml"), drop).expect("well-formed");
    assert!(summary.problems.is_empty(), "three listed: {:?}", summary.problems);
}

/// The problems a report states beyond its cases, as text.
fn problems(xml: &str) -> Vec<String> {
    let summary = for_each_case(xml.as_bytes(), Path::new("p.xml"), drop).expect("well-formed");
    summary.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn nested_suites_count_their_children_and_consistent_counts_flag_nothing() {
    let nested = r#"<testsuites><testsuite name="all" failures="2" errors="1"><testsuite name="a" failures="1">
            <testcase name="x"><failure/></testcase></testsuite><testsuite name="b" failures="1" errors="1">
            <testcase name="y"><failure/></testcase><testcase name="z"><error/></testcase></testsuite></testsuite></testsuites>"#;
    assert!(problems(nested).is_empty(), "{:?}", problems(nested));
    let short = r#"<testsuite name="s" failures="1"><testsuite name="inner" errors="1"/></testsuite>"#;
    assert_eq!(
        problems(short),
        [
            "the report counts 1 error of suite \"inner\" but lists 0",
            "the report counts 1 failure of suite \"s\" but lists 0"
        ]
    );
}

#[test]
fn rerun_and_flaky_failures_do_not_change_the_status() {
    let cases = read_ok(
        r#"<testsuite>
             <testcase name="flaky">
               <flakyFailure message="first try" type="AssertionError">
                 <stackTrace>trace</stackTrace>
                 <system-out>attempt output</system-out>
               </flakyFailure>
               <system-out>final output</system-out>
             </testcase>
             <testcase name="rerun">
               <rerunFailure message="try 1"/>
               <rerunError message="try 2"><system-err>e</system-err></rerunError>
               <failure message="final">last</failure>
             </testcase>
           </testsuite>"#,
    );
    assert_eq!(cases[0].status(), TestStatus::Passed);
    assert_eq!(cases[0].message(), None);
    assert_eq!(cases[0].system_out(), Some("final output"));
    assert_eq!(cases[1].status(), TestStatus::Failed);
    assert_eq!(cases[1].message(), Some("final"));
    assert_eq!(cases[1].details(), Some("last"));
    assert_eq!(cases[1].system_err(), None);

    // As test cases: the earlier attempts are theirs, and passing after
    // them is flaky.
    let flaky = cases[0].clone().into_test_case();
    assert_eq!(
        (flaky.status, flaky.flaky, flaky.attempts),
        (TestStatus::Passed, true, 2)
    );
    assert_eq!(flaky.previous_failures[0].message.as_deref(), Some("first try"));
    assert_eq!(
        flaky.previous_failures[0].details.as_deref(),
        Some("trace"),
        "Surefire's <stackTrace>"
    );
    assert_eq!(flaky.previous_failures[0].error_type.as_deref(), Some("AssertionError"));
    let rerun = cases[1].clone().into_test_case();
    assert_eq!(
        (rerun.status, rerun.flaky, rerun.attempts),
        (TestStatus::Failed, false, 3)
    );
    let earlier: Vec<_> = rerun
        .previous_failures
        .iter()
        .map(|p| (p.status, p.message.as_deref()))
        .collect();
    assert_eq!(
        earlier,
        [(TestStatus::Failed, Some("try 1")), (TestStatus::Error, Some("try 2"))]
    );
}

#[test]
fn reruns_that_failed_without_a_final_outcome_fail_the_case() {
    let cases = read_ok(
        r#"<testsuite tests="2" failures="1">
             <testcase name="only-reruns"><rerunFailure message="try 1">body</rerunFailure></testcase>
             <testcase name="flaky-only"><flakyError message="first"/></testcase>
           </testsuite>"#,
    );
    assert_eq!(cases[0].status(), TestStatus::Failed);
    assert_eq!(
        cases[0].message(),
        Some("the report lists reruns that failed and no final outcome")
    );
    let earlier = cases[0].clone().into_test_case().previous_failures;
    assert_eq!(earlier[0].details.as_deref(), Some("body"));
    assert_eq!(cases[1].status(), TestStatus::Passed);
    assert!(cases[1].clone().into_test_case().flaky);

    // Reruns, then skipped: skipped after failing, for the engine to fail
    // with its warning; reruns of a whole suite are a suite problem.
    let skipped = read_ok(
        r#"<testsuite><testcase name="s"><rerunFailure message="try 1"/><skipped message="gone"/></testcase></testsuite>"#,
    );
    let case = skipped[0].clone().into_test_case();
    assert_eq!((case.status, case.previous_failures.len()), (TestStatus::Skipped, 1));
    assert_eq!(
        problems(r#"<testsuite name="s"><testcase name="a"/><rerunError message="set-up"/></testsuite>"#),
        ["the report has a suite-level <error> of suite \"s\": set-up"]
    );
}

#[test]
fn properties_unknown_elements_and_suite_output_are_skipped() {
    let cases = read_ok(
        r#"<testsuites>
             <properties><property name="k" value="v"/></properties>
             <testsuite name="s">
               <properties><property name="os" value="linux"/><property name="body">text</property></properties>
               <testcase name="a">
                 <properties><property name="annotation" value="slow"/></properties>
                 <vendor-extension><skipped/><system-out>no</system-out></vendor-extension>
                 <failure message="real">text <b>bold</b> more</failure>
               </testcase>
               <unknown><property name="x"/></unknown>
               <system-out>suite level output</system-out>
               <system-err>suite level errors</system-err>
             </testsuite>
           </testsuites>"#,
    );
    assert_eq!(names(&cases), ["a"]);
    assert_eq!(cases[0].status(), TestStatus::Failed);
    assert_eq!(cases[0].message(), Some("real"));
    // Text of elements nested in the failure is not the failure's text.
    assert_eq!(cases[0].details(), Some("text  more"));
    assert_eq!((&cases[0].system_out(), &cases[0].system_err()), (&None, &None));
}

#[test]
fn several_system_out_elements_are_joined() {
    let cases = read_ok(
        "<testsuite><testcase name=\"a\"><system-out>one</system-out><system-out>  </system-out>\
         <system-out><![CDATA[two]]></system-out></testcase></testsuite>",
    );
    assert_eq!(cases[0].system_out(), Some("one\ntwo"));
}

#[test]
fn entities_cdata_and_non_ascii() {
    let cases = read_ok(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuite name=\"ünïcødé &amp; co\">\
         <testcase name=\"a &lt;b&gt; &quot;c&quot; &apos;d&apos; &#65;&#x42;\" classname=\"日本.テスト\">\
         <failure message=\"x &lt; y\">if x &lt; y &amp;&amp; z &gt; 0: &#x1F600; &nbsp;<![CDATA[ <raw> & ]]>end</failure>\
         </testcase></testsuite>",
    );
    let case = &cases[0];
    assert_eq!(case.suite_name(), Some("ünïcødé & co"));
    assert_eq!(case.name(), "a <b> \"c\" 'd' AB");
    assert_eq!(case.classname(), "日本.テスト");
    assert_eq!(case.message(), Some("x < y"));
    // An entity no DTD defines is kept as written rather than failing the report.
    assert_eq!(case.details(), Some("if x < y && z > 0: 😀 &nbsp; <raw> & end"));
}

#[test]
fn unknown_entity_in_an_attribute_is_kept() {
    let cases = read_ok(r#"<testsuite><testcase name="a&nbsp;b &amp; c"/></testsuite>"#);
    assert_eq!(cases[0].name(), "a&nbsp;b & c");
}

#[test]
fn attribute_whitespace_is_normalized_and_char_refs_are_kept() {
    let cases = read_ok("<testsuite><testcase name=\"a\nb\tc\" classname=\"x&#10;y\"/></testsuite>");
    assert_eq!(cases[0].name(), "a b c");
    assert_eq!(cases[0].classname(), "x\ny");
}

#[test]
fn crlf_text_is_normalized() {
    let cases = read_ok("<testsuite>\r\n<testcase name=\"a\">\r\n<failure>line one\r\nline two\r\n</failure>\r\n</testcase>\r\n</testsuite>\r\n");
    assert_eq!(cases[0].details(), Some("line one\nline two"));
}

#[test]
fn declaration_bom_comments_doctype_and_processing_instructions() {
    let xml = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- written by a tool -->\n\
               <!DOCTYPE testsuites>\n<?stylesheet href=\"x.xsl\"?>\n\
               <testsuites><!-- tests 1 --><testcase name=\"a\"><!-- c --></testcase></testsuites>\n<!-- trailing -->\n";
    let cases = read_ok(xml);
    assert_eq!(names(&cases), ["a"]);
}

#[test]
fn namespace_prefixes_are_ignored() {
    let cases = read_ok(
        r#"<j:testsuites xmlns:j="urn:x"><j:testsuite j:name="s"><j:testcase name="a"><j:skipped/></j:testcase></j:testsuite></j:testsuites>"#,
    );
    assert_eq!(cases[0].status(), TestStatus::Skipped);
    assert_eq!(cases[0].suite_name(), Some("s"));
}

// ---------------------------------------------------------------- broken reports

#[test]
fn empty_file_is_an_error_not_zero_tests() {
    let (line, column, message) = malformed(read_str(""));
    assert_eq!((line, column, message.as_str()), (1, 1, "empty file"));
    let (_, _, message) = malformed(read_str(" \n\t\n"));
    assert_eq!(message, "empty file");
    let (_, _, message) = malformed(read_str("\u{feff}"));
    assert_eq!(message, "empty file");
}

#[test]
fn empty_file_on_disk_names_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("junit.xml");
    std::fs::write(&path, "").expect("write");
    let err = read_file(&path).expect_err("empty file is an error");
    let shown = err.to_string();
    assert!(shown.contains(&path.display().to_string()), "{shown}");
    assert!(shown.contains("line 1, column 1: empty file"), "{shown}");
}

#[test]
fn only_a_declaration_or_comments_is_an_error() {
    let (line, _, message) = malformed(read_str("<?xml version=\"1.0\"?>\n<!-- nothing ran -->\n"));
    assert_eq!(line, 3);
    assert_eq!(message, "no <testsuites> or <testsuite> element");
}

#[test]
fn wrong_root_is_named() {
    let (line, column, message) = malformed(read_str(
        "<?xml version=\"1.0\"?>\n  <html><body><testcase name=\"a\"/></body></html>",
    ));
    assert_eq!((line, column), (2, 3));
    assert!(message.contains("<html>"), "{message}");
    assert!(message.contains("not <testsuites> or <testsuite>"), "{message}");
    let (_, _, message) = malformed(read_str("<testcase name=\"a\"/>"));
    assert!(message.contains("<testcase>"), "{message}");
}

#[test]
fn garbage_text_is_an_error_at_its_position() {
    let (line, column, message) = malformed(read_str("\n   this is not xml\n"));
    assert_eq!((line, column), (2, 4));
    assert_eq!(message, "text before the root element");
    let (line, column, _) = malformed(read_str("{\"tests\": []}"));
    assert_eq!((line, column), (1, 1));
}

#[test]
fn binary_garbage_is_an_error() {
    let bytes: Vec<u8> = (0..=255u8).rev().cycle().take(2048).collect();
    let result = read_reader(&bytes[..], Path::new("garbage.bin"));
    malformed(result);
    let result = read_reader(
        &b"<testsuite name=\"\xff\xfe\"><testcase name=\"a\"/></testsuite>"[..],
        Path::new("x"),
    );
    malformed(result);
}

#[test]
fn content_after_the_root_is_an_error() {
    let (line, column, message) = malformed(read_str("<testsuites/>\n<testsuites/>"));
    assert_eq!((line, column), (2, 1));
    assert!(message.contains("after the end of the root element"), "{message}");
    let (_, _, message) = malformed(read_str("<testsuites/>\ntrailing junk"));
    assert_eq!(message, "text after the end of the root element");
}

#[test]
fn mismatched_end_tag_is_an_error_where_it_is() {
    let (line, column, message) = malformed(read_str(
        "<testsuites>\n  <testsuite>\n    <testcase name=\"a\">\n  </testsuite>\n</testsuites>",
    ));
    assert_eq!((line, column), (4, 3));
    assert!(message.contains("testcase"), "{message}");
}

#[test]
fn bad_attribute_is_an_error_at_its_tag() {
    let (line, column, message) = malformed(read_str("<testsuite>\n <testcase name=\"a\" time/></testsuite>"));
    assert_eq!((line, column), (2, 2));
    assert_eq!(message, "bad attribute in <testcase>: attribute `time` has no value");
    let (_, _, message) = malformed(read_str("<testsuite name=unquoted></testsuite>"));
    assert_eq!(
        message,
        "bad attribute in <testsuite>: the value of attribute `name` is not quoted"
    );
}

#[test]
fn truncated_after_a_case_names_the_unclosed_element() {
    let full = std::fs::read_to_string(data("playwright.xml")).expect("fixture");
    let cut = full.find("<testcase name=\"skipped on chromium\"").expect("third case");
    let (line, column, message) = malformed(read_str(&full[..cut]));
    // The end of what is there: right after the newline ending line 37.
    assert_eq!((line, column), (full[..cut].lines().count() as u64 + 1, 1));
    assert_eq!(
        message,
        "unexpected end of file: <testsuite> opened at line 2 is not closed (truncated report?)"
    );
}

#[test]
fn truncated_inside_cdata_points_at_the_cdata() {
    let full = std::fs::read_to_string(data("playwright.xml")).expect("fixture");
    let cut = full.find("Received: \"0\"").expect("inside the failure's CDATA");
    let (line, column, message) = malformed(read_str(&full[..cut]));
    let cdata_line = full
        .lines()
        .position(|l| l.starts_with("<![CDATA[  [chromium]"))
        .expect("cdata line") as u64
        + 1;
    assert_eq!((line, column), (cdata_line, 1));
    assert!(message.contains("CDATA"), "{message}");
}

#[test]
fn truncated_inside_a_tag_points_at_the_tag() {
    let xml = "<testsuites>\n  <testsuite name=\"s\">\n    <testcase name=\"a\" time=\"0.";
    let (line, column, message) = malformed(read_str(xml));
    assert_eq!((line, column), (3, 5));
    assert!(message.contains("syntax error"), "{message}");
}

/// Cutting a report anywhere — every byte offset of every fixture — is an
/// error at a place within what is left, never a shorter list of cases.
#[test]
fn every_truncation_of_every_fixture_is_an_error() {
    for fixture in [
        "playwright.xml",
        "pytest9-xunit1.xml",
        "node-test-runner.xml",
        "behave/TESTS-cart.xml",
    ] {
        let full = std::fs::read(data(fixture)).expect("fixture");
        let complete_until = full.len() - full.iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
        for cut in 0..complete_until {
            let part = &full[..cut];
            match read_reader(part, Path::new(fixture)) {
                Err(JunitError::Malformed { line, column, .. }) => {
                    let lines_in_part = part.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                    assert!(
                        line >= 1 && line <= lines_in_part,
                        "{fixture} cut at {cut}: line {line}"
                    );
                    assert!(column >= 1, "{fixture} cut at {cut}");
                }
                Err(other) => panic!("{fixture} cut at {cut}: unexpected error {other}"),
                Ok(cases) => panic!(
                    "{fixture} cut at {cut}: read {} cases from a truncated report",
                    cases.len()
                ),
            }
        }
        assert!(
            read_reader(&full[..complete_until], Path::new(fixture)).is_ok(),
            "{fixture} whole"
        );
    }
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let path = data("does-not-exist.xml");
    match read_file(&path) {
        Err(JunitError::Io { path: reported, source }) => {
            assert_eq!(reported, path);
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected an I/O error, got {other:?}"),
    }
    assert!(matches!(read_dir(&data("no-such-dir")), Err(JunitError::Io { .. })));
}

// ---------------------------------------------------------------- directories and streaming

#[test]
fn read_dir_takes_the_xml_files_inside_and_in_subdirectories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, body: &str| std::fs::write(dir.path().join(name), body).expect("write");
    write("b.xml", r#"<testsuite><testcase name="from-b"/></testsuite>"#);
    write("a.XML", r#"<testsuite><testcase name="from-a"/></testsuite>"#);
    write("c.xml", r#"<testsuites><testcase name="from-c"/></testsuites>"#);
    write("notes.txt", "not a report");
    write("report.xml.bak", "<garbage");
    std::fs::create_dir(dir.path().join("nested.xml")).expect("dir");
    std::fs::create_dir(dir.path().join("sub")).expect("dir");
    std::fs::write(
        dir.path().join("sub/d.xml"),
        r#"<testsuite><testcase name="from-d"/></testsuite>"#,
    )
    .expect("write");
    // A linked directory is entered (a failing report in a linked `sub/`
    // once passed the run), each directory once: this one links back up.
    std::os::unix::fs::symlink(dir.path(), dir.path().join("sub/loop")).expect("symlink");

    // A failing report in a subdirectory once went unread and the run passed.
    let cases = read_dir(dir.path()).expect("reports");
    assert_eq!(names(&cases), ["from-a", "from-b", "from-c", "from-d"]);

    // From `sub/`, the link leads to the rest, and `sub/d.xml` is read once.
    let from_sub = read_dir(&dir.path().join("sub")).expect("reports");
    let mut from_sub = names(&from_sub);
    from_sub.sort_unstable();
    assert_eq!(from_sub, ["from-a", "from-b", "from-c", "from-d"]);
    let empty = tempfile::tempdir().expect("temp dir");
    assert!(xml_files_in(empty.path()).expect("list").is_empty());
    assert!(read_dir(empty.path()).expect("no reports").is_empty());
}

#[test]
fn only_a_testsuite_root_or_an_empty_file_looks_like_a_report() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = |name: &str, body: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        path
    };
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("<testsuites/>".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    for (name, body, report) in [
        ("a.xml", &b"<?xml version='1.0'?><!-- c --><testsuite/>"[..], true),
        ("b.xml", b"<j:testsuites xmlns:j='urn:x'/>", true),
        ("c.xml", &utf16, true),
        ("d.xml", b"", true),
        ("pom.xml", b"<project/>", false),
        ("e.xml", b"not xml at all", false),
    ] {
        assert_eq!(looks_like_report(&file(name, body)), report, "{name}");
    }
    assert!(!looks_like_report(&dir.path().join("missing.xml")));
}

#[test]
fn read_dir_fails_on_any_broken_file_and_names_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("a.xml"),
        r#"<testsuite><testcase name="ok"/></testsuite>"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("b.xml"), "<testsuite><testcase name=\"cut\">").expect("write");
    match read_dir(dir.path()) {
        Err(JunitError::Malformed { path, line, .. }) => {
            assert_eq!(path, dir.path().join("b.xml"));
            assert_eq!(line, 1);
        }
        other => panic!("expected a malformed b.xml, got {other:?}"),
    }
}

#[test]
fn for_each_case_streams_and_counts() {
    let file = std::fs::File::open(data("pytest9-xunit1.xml")).expect("fixture");
    let mut seen = Vec::new();
    let count = for_each_case(std::io::BufReader::new(file), Path::new("p.xml"), |case| {
        seen.push(case.name().to_string())
    })
    .expect("stream");
    assert_eq!(count.cases, 11);
    assert!(count.problems.is_empty());
    assert_eq!(seen.len(), 11);
    assert_eq!(seen[0], "test_passes");
}

#[test]
fn for_each_case_hands_over_cases_before_a_problem() {
    let mut seen = Vec::new();
    let result = for_each_case(
        "<testsuite><testcase name=\"a\"/><testcase name=\"b\">".as_bytes(),
        Path::new("cut.xml"),
        |case| seen.push(case.name().to_string()),
    );
    assert!(matches!(result, Err(JunitError::Malformed { .. })));
    assert_eq!(seen, ["a"]);
}

#[test]
fn tiny_read_buffers_give_the_same_result() {
    let full = std::fs::read(data("playwright.xml")).expect("fixture");
    let expected = read_reader(&full[..], Path::new("p.xml")).expect("read");
    let small = Trickle::new(&full[..], 3);
    assert_eq!(read_reader(small, Path::new("p.xml")).expect("read"), expected);
    let cut = &full[..full.len() / 2];
    let whole_buffer = malformed(read_reader(cut, Path::new("p.xml")));
    let small_buffer = malformed(read_reader(Trickle::new(cut, 5), Path::new("p.xml")));
    assert_eq!(whole_buffer, small_buffer);
}

/// A failure body with everything text can hold, read whole and one byte
/// per read (so that characters, references and line breaks are cut by
/// every buffer boundary there is).
#[test]
fn failure_text_reads_the_same_whatever_the_buffer_boundaries() {
    let long_name = "x".repeat(40);
    let xml = format!(
        "<testsuite><testcase name=\"a\"><failure message=\"m\">\r\n\
         héllo 日本 😀 &lt;&gt;&amp;&quot;&apos;&#65;&#x1F600;&nbsp;&;&{long_name};\r\n\
         cr\ronly\r\r\nend <![CDATA[ <raw> &amp; ]]>after<!-- c -->x<b>nested &lt; text</b>y\
         </failure><system-out>out &lt;1&gt;\r</system-out></testcase></testsuite>"
    );
    let expected =
        "héllo 日本 😀 <>&\"'A😀&nbsp;&;&".to_string() + &long_name + ";\ncr\nonly\n\nend  <raw> &amp; afterxy";
    let whole = read_str(&xml).expect("well-formed");
    assert_eq!(whole[0].details(), Some(expected.as_str()));
    assert_eq!(whole[0].system_out(), Some("out <1>"));
    let bytewise = read_reader(Trickle::new(xml.as_bytes(), 1), Path::new("inline.xml"));
    assert_eq!(bytewise.expect("well-formed"), whole);
}

/// Many failure bodies built from pieces whose decoded text is known,
/// read through buffers of several sizes: every piece must come out as it
/// went in, wherever the buffer boundaries fall.
#[test]
fn generated_failure_texts_decode_exactly() {
    // (as written in XML, as read back)
    const PIECES: &[(&str, &str)] = &[
        ("plain text ", "plain text "),
        ("é", "é"),
        ("日本", "日本"),
        ("😀", "😀"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        ("&amp;", "&"),
        ("&quot;", "\""),
        ("&apos;", "'"),
        ("&#65;", "A"),
        ("&#x1F600;", "😀"),
        ("&custom;", "&custom;"),
        ("\r\n", "\n"),
        // A lone `\r`: followed by a letter, so that it never meets a `\n` piece.
        ("\rx", "\nx"),
        ("\n", "\n"),
        ("\t", "\t"),
        ("<![CDATA[<raw> & ]]>", "<raw> & "),
        ("<!-- comment -->", ""),
        ("<nested>ignored &lt;</nested>", ""),
    ];
    // A fixed xorshift sequence: the same bodies on every run.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut xml = String::from("<testsuite>");
    let mut expected = Vec::new();
    for case in 0..200 {
        let (mut written, mut read) = (String::from("x"), String::from("x"));
        for _ in 0..(next() % 60) {
            let (w, r) = PIECES[(next() % PIECES.len() as u64) as usize];
            written.push_str(w);
            read.push_str(r);
        }
        xml.push_str(&format!(
            "<testcase name=\"t{case}\"><failure>{written}</failure></testcase>"
        ));
        expected.push(read.trim_end().to_string());
    }
    xml.push_str("</testsuite>");
    for capacity in [1, 2, 3, 7, 64, 4096] {
        let reader = Trickle::new(xml.as_bytes(), capacity);
        let cases = read_reader(reader, Path::new("inline.xml")).expect("well-formed");
        assert_eq!(cases.len(), expected.len());
        for (case, expected) in cases.iter().zip(&expected) {
            let details = case.details().unwrap_or("");
            assert_eq!(
                details,
                expected,
                "{} read through a {capacity}-byte buffer",
                case.name()
            );
        }
    }
}

#[test]
fn invalid_utf8_in_failure_text_is_an_error_where_it_is() {
    let mut xml = b"<testsuite><testcase name=\"a\">\n<failure>ok \xc3\xa9 then ".to_vec();
    xml.extend_from_slice(b"\xff bad</failure></testcase></testsuite>");
    let whole = malformed(read_reader(&xml[..], Path::new("inline.xml")));
    assert_eq!(whole, (2, 21, "the text of <failure> is not valid UTF-8".to_string()));
    let bytewise = read_reader(Trickle::new(&xml[..], 1), Path::new("inline.xml"));
    assert_eq!(malformed(bytewise), whole);
    // A character cut off by the end of the file.
    let cut = b"<testsuite><testcase><failure>caf\xc3";
    assert_eq!(
        malformed(read_reader(&cut[..], Path::new("inline.xml"))),
        (1, 34, "the text of <failure> is not valid UTF-8".to_string())
    );
}

#[test]
fn stray_ampersand_in_failure_text_is_an_error_at_the_ampersand() {
    let xml = "<testsuite><testcase name=\"a\"><failure>a & b</failure></testcase></testsuite>";
    let (line, column, message) = malformed(read_str(xml));
    assert_eq!((line, column), (1, 42), "{message}");
    let bytewise = read_reader(Trickle::new(xml.as_bytes(), 1), Path::new("inline.xml"));
    assert_eq!(malformed(bytewise), (line, column, message));
}

#[test]
fn into_test_case_carries_the_fields() {
    let cases = read_file(&data("playwright.xml")).expect("fixture");
    let test_case = cases[1].clone().into_test_case();
    assert_eq!(test_case.name, "cart › checkout › adds an item");
    assert_eq!(test_case.classname, "example.spec.ts");
    assert_eq!(test_case.status, TestStatus::Failed);
    assert_eq!(test_case.duration, 1.7);
    assert_eq!(test_case.error_type.as_deref(), Some("FAILURE"));
    assert_eq!(test_case.attempts, 1);
    assert_eq!(test_case.selector, None);
}

#[test]
fn counts_and_failures_of_the_root_testsuites_are_checked_as_a_suites() {
    for xml in [
        r#"<testsuites tests="1" failures="3"><testsuite name="s"><testcase name="a"/></testsuite></testsuites>"#,
        r#"<testsuites errors="2"><testsuite name="s"><testcase name="a"/></testsuite></testsuites>"#,
        r#"<testsuites failures="1"><testcase name="a"/><failure message="set-up failed"/></testsuites>"#,
        r#"<testsuites><testsuite name="s" tests="5" failures="0"></testsuite><testsuite name="t"><testcase name="a"/></testsuite></testsuites>"#,
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("r.xml");
        std::fs::write(&path, xml).expect("write");
        let report = runner_api::junit::read_report(&path).expect("well-formed");
        assert_eq!(report.cases.len(), 1, "{xml}");
        assert!(!report.problems.is_empty(), "{xml}: no problem said");
    }
}

#[test]
fn entities_a_report_declares_and_suites_cases_or_failures_where_none_belongs_are_refused() {
    for (xml, said) in [
        (
            r#"<!DOCTYPE t [<!ENTITY f "<failure>hidden</failure>">]><testsuite><testcase name="a">&f;</testcase></testsuite>"#,
            "declares entities",
        ),
        (
            r#"<testsuite><testcase name="a"><testcase name="b"><failure/></testcase></testcase></testsuite>"#,
            "a <testcase> inside <testcase>",
        ),
        // Suites, cases and outcomes where no writer puts them would be
        // lost, and with them a failure.
        (
            r#"<testsuites><testsuite name="ok"><testcase name="a"/></testsuite><group><testsuite name="s"><testcase name="b"><failure/></testcase></testsuite></group></testsuites>"#,
            "a <testsuite> inside <group>",
        ),
        (
            r#"<testsuite><unknown><testcase name="hidden"><failure/></testcase></unknown></testsuite>"#,
            "a <testcase> inside <unknown>",
        ),
        (
            r#"<testsuite><testcase name="a"><vendor-extension><failure message="x"/></vendor-extension></testcase></testsuite>"#,
            "a <failure> inside <vendor-extension>",
        ),
        (
            r#"<testsuite><testcase name="a"><testsuite name="s"/></testcase></testsuite>"#,
            "a <testsuite> inside <testcase>",
        ),
    ] {
        let err = read_reader(xml.as_bytes(), std::path::Path::new("r.xml")).expect_err(xml);
        assert!(err.to_string().contains(said), "{err}");
    }
}

#[test]
fn testsuites_below_the_root_are_one_more_level_of_suites() {
    let cases = read_ok(
        r#"<testsuites><testsuites name="group"><testsuite name="s" tests="1" failures="1"><testcase classname="c" name="b"><failure>boom</failure></testcase></testsuite></testsuites><testsuite name="t" tests="1"><testcase classname="c" name="a"/></testsuite></testsuites>"#,
    );
    assert_eq!(names(&cases), ["b", "a"]);
    assert_eq!(cases[0].status(), TestStatus::Failed);
    assert_eq!(cases[0].suite_name(), Some("s"));
}

#[test]
fn a_case_with_no_name_is_no_pass() {
    // As pytest writes the test `pytest.exit()` stopped.
    let xml = r#"<testsuites><testsuite name="pytest"><testcase classname="t" name="test_one"/><testcase time="0.000" /><testcase classname="t" name=" &#9; "/><testcase classname="t" name="&#x200B;&#xFEFF;"/></testsuite></testsuites>"#;
    let cases = read_reader(xml.as_bytes(), std::path::Path::new("r.xml")).expect("well-formed");
    let statuses: Vec<TestStatus> = cases.iter().map(JunitCase::status).collect();
    assert_eq!(
        statuses,
        [
            TestStatus::Passed,
            TestStatus::Error,
            TestStatus::Error,
            TestStatus::Error
        ]
    );
    assert!(cases[1].message().is_some_and(|m| m.contains("no name")));
}

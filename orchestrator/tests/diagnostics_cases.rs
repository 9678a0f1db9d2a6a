//! How failures are classified, from the failure's type and message alone: one test per
//! built-in category and per rule of `orchestrator::diagnostics`, plus the
//! custom categories, the suite-level error and the run's summary lines.

use orchestrator::diagnostics::{
    summary, CategorySpec, Diagnoser, Diagnosis, DiagnosticsError, FLAKY_PROVEN_CONFIDENCE, FLAKY_WORDS_CONFIDENCE,
    MATCHED_CONFIDENCE, MAX_FIELD_BYTES, UNKNOWN_CATEGORY, UNKNOWN_CONFIDENCE,
};
use runner_api::case::PriorFailure;
use runner_api::{SuiteOutcome, SuiteResult, TestCase, TestStatus};

fn failing(name: &str, message: &str) -> TestCase {
    let mut case = TestCase::new(name, "tests.test_api", TestStatus::Failed);
    case.message = Some(message.to_string());
    case
}

fn diagnose(case: &TestCase) -> Diagnosis {
    Diagnoser::new(&[])
        .expect("built-ins compile")
        .diagnose_case("unit", case, None)
        .expect("a failing case is diagnosed")
}

/// A pytest `requests` traceback: its library frames mention `timeout`,
/// which must not outweigh the message.
const REQUESTS_TRACEBACK: &str = r#"self = <requests.adapters.HTTPAdapter object at 0x7f>
request = <PreparedRequest [GET]>, stream = False, timeout = Timeout(connect=None, read=None, total=None)

def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
>           raise ConnectionError(e, request=request)
E           requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8000): Max retries exceeded with url: /api/pets (Caused by NewConnectionError('<urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused'))

.venv/lib/python3.12/site-packages/requests/adapters.py:700: ConnectionError"#;

#[test]
fn pytest_assertion_error_is_an_assertion() {
    let mut case = failing("test_total", "AssertionError: assert 41 == 42\n +  where 41 = total()");
    case.error_type = Some("AssertionError".into());
    case.details = Some("def test_total():\n>       assert total() == 42\nE       assert 41 == 42".into());
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "assertion");
    assert_eq!(diagnosis.confidence, MATCHED_CONFIDENCE);
    assert!(
        diagnosis.root_cause.contains("\"AssertionError\""),
        "{}",
        diagnosis.root_cause
    );
    // Named as the Python qaagent names it; no selector was known.
    assert_eq!(diagnosis.test_name, "test_total");
    assert_eq!(diagnosis.selector, None);
    assert_eq!(diagnosis.suite, "unit");
    assert_eq!(diagnosis.error_message.as_deref(), case.message.as_deref());
}

#[test]
fn requests_connection_error_is_a_connection_failure_despite_timeout_in_the_traceback() {
    let mut case = failing(
        "test_list_pets",
        "requests.exceptions.ConnectionError: HTTPConnectionPool(host='localhost', port=8000): Max retries \
         exceeded with url: /api/pets (Caused by NewConnectionError('Failed to establish a new connection: \
         [Errno 111] Connection refused'))",
    );
    case.details = Some(REQUESTS_TRACEBACK.into());
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "connection");
    assert!(
        diagnosis.root_cause.contains("failure message"),
        "{}",
        diagnosis.root_cause
    );
}

/// Playwright's web-first assertions wait, so their details mention a
/// timeout; the message says an expectation failed, and decides.
#[test]
fn playwright_expect_failure_is_an_assertion_even_with_a_timeout_in_its_details() {
    let mut case = TestCase::new("cart › shows total", "cart.spec.ts", TestStatus::Failed);
    case.message = Some("Error: expect(locator).toHaveText(expected) failed".into());
    case.details = Some(
        "Locator: locator('#total')\nExpected: \"12\"\nReceived: \"10\"\nTimeout: 5000ms\n\nCall log:\n  - Expect \"toHaveText\" with timeout 5000ms".into(),
    );
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "assertion", "{}", diagnosis.root_cause);
    case.message = Some("Error: expect(page).not.toHaveURL(expected) failed".into());
    assert_eq!(diagnose(&case).category, "assertion");
}

/// Playwright before 1.57 words a failed, retried expectation as "Timed
/// out … waiting for expect(…)": still an assertion, as on newer versions.
#[test]
fn an_older_playwrights_expect_that_timed_out_is_an_assertion() {
    let mut case = TestCase::new("cart › shows total", "cart.spec.ts", TestStatus::Failed);
    case.message = Some(
        "Error: Timed out 500ms waiting for expect(locator).toHaveText(expected)\n\nLocator: locator('#total')\n\
         Expected string: \"12\"\nReceived string: \"10\"\nCall log:\n  - expect.toHaveText with timeout 500ms"
            .into(),
    );
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "assertion", "{}", diagnosis.root_cause);
}

#[test]
fn playwright_timeout_error_is_a_timeout() {
    let mut case = TestCase::new("checkout › pays", "checkout.spec.ts", TestStatus::Failed);
    case.selector = Some("[chromium] › checkout.spec.ts:12:5 › checkout › pays".into());
    case.message =
        Some("TimeoutError: page.click: Timeout 5000ms exceeded.\nCall log:\n  - waiting for locator('#pay')".into());
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "timeout");
    assert_eq!(diagnosis.test_name, "checkout › pays");
    assert_eq!(
        diagnosis.selector.as_deref(),
        Some("[chromium] › checkout.spec.ts:12:5 › checkout › pays")
    );
    assert!(diagnosis.root_cause.contains("\"Timeout\""), "{}", diagnosis.root_cause);
}

#[test]
fn http_401_is_an_auth_failure() {
    let mut case = failing(
        "test_get_me",
        "assert 401 == 200\n +  where 401 = <Response [401]>.status_code",
    );
    case.error_type = Some("AssertionError".into());
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "auth");
    assert!(diagnosis.root_cause.contains("\"401\""), "{}", diagnosis.root_cause);
}

#[test]
fn key_error_is_a_data_failure() {
    let mut case = failing("test_pet_fields", "KeyError: 'owner_id'");
    case.status = TestStatus::Error;
    case.details = Some("    pet = resp.json()\n>   assert pet['owner_id'] == 7\nE   KeyError: 'owner_id'".into());
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "data");
    assert!(diagnosis.root_cause.contains("KeyError"), "{}", diagnosis.root_cause);
    assert!(
        diagnosis.root_cause.starts_with("Looks like a data failure"),
        "{}",
        diagnosis.root_cause
    );
}

#[test]
fn root_causes_take_the_right_article() {
    let case = failing("test_total", "AssertionError: assert 41 == 42");
    let diagnosis = diagnose(&case);
    assert!(
        diagnosis.root_cause.starts_with("Looks like an assertion failure"),
        "{}",
        diagnosis.root_cause
    );
}

#[test]
fn flaky_words_are_a_low_confidence_guess() {
    let case = failing(
        "test_feed",
        "StaleElementReferenceException: stale element reference: element is not attached",
    );
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "flaky");
    assert_eq!(diagnosis.confidence, FLAKY_WORDS_CONFIDENCE);
    assert!(diagnosis.confidence < MATCHED_CONFIDENCE);
}

#[test]
fn a_case_proven_flaky_by_retries_is_diagnosed_flaky_although_it_passed() {
    let mut case = TestCase::new("test_search", "tests.test_api", TestStatus::Passed);
    case.flaky = true;
    case.attempts = 2;
    case.previous_failures.push(PriorFailure {
        status: TestStatus::Failed,
        message: Some("AssertionError: assert 2 == 3".into()),
        error_type: Some("AssertionError".into()),
        details: None,
        duration: 0.1,
    });
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, "flaky");
    assert_eq!(diagnosis.confidence, FLAKY_PROVEN_CONFIDENCE);
    assert_eq!(
        diagnosis.error_message.as_deref(),
        Some("AssertionError: assert 2 == 3")
    );
    assert!(diagnosis.root_cause.contains("1 of 2"), "{}", diagnosis.root_cause);
}

#[test]
fn passed_and_skipped_cases_are_not_diagnosed() {
    let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
    for status in [TestStatus::Passed, TestStatus::Skipped] {
        let mut case = TestCase::new("t", "c", status);
        case.message = Some("timeout".into());
        assert_eq!(diagnoser.diagnose_case("unit", &case, None), None, "{status}");
    }
}

#[test]
fn nothing_recognisable_is_unknown() {
    let case = failing("test_weird", "Segmentation fault in libfoo\ncore dumped");
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, UNKNOWN_CATEGORY);
    assert_eq!(diagnosis.confidence, UNKNOWN_CONFIDENCE);
    assert!(
        diagnosis.root_cause.contains("Segmentation fault in libfoo"),
        "{}",
        diagnosis.root_cause
    );
}

#[test]
fn a_case_without_any_text_is_unknown() {
    let case = TestCase::new("test_silent", "c", TestStatus::Error);
    let diagnosis = diagnose(&case);
    assert_eq!(diagnosis.category, UNKNOWN_CATEGORY);
    assert_eq!(diagnosis.error_message, None);
}

#[test]
fn output_and_traceback_are_never_searched() {
    let mut case = failing("test_x", "Exception: boom");
    case.system_err = Some("WARNING urllib3 connection reset by peer".into());
    case.details =
        Some("def test_x():\n>   call(timeout=None)\nE   Exception: boom\n\ntests/test_x.py:2: Exception".into());
    assert_eq!(diagnose(&case).category, UNKNOWN_CATEGORY);
    case.message = Some("AssertionError: boom".into());
    assert_eq!(diagnose(&case).category, "assertion");
}

#[test]
fn only_the_first_bytes_of_a_message_are_searched() {
    // Two-byte characters after one ASCII byte: the cut lands mid-character.
    let mut message = format!("Exception: a{}", "é".repeat(MAX_FIELD_BYTES));
    message.push_str(" Connection refused");
    let case = failing("test_big", &message);
    assert_eq!(diagnose(&case).category, UNKNOWN_CATEGORY);
}

/// A pytest failure whose test is titled "flaky": its traceback quotes
/// `def test_flaky_checkout():`, which must not make it flaky.
#[test]
fn a_test_titled_flaky_is_not_flaky() {
    let mut case = failing("test_flaky_checkout", "RuntimeError: payment service returned garbage");
    case.details = Some(
        "def test_flaky_checkout():\n>       raise RuntimeError(\"payment service returned garbage\")\n\
         E       RuntimeError: payment service returned garbage\n\ntests/test_shop.py:3: RuntimeError"
            .into(),
    );
    assert_eq!(diagnose(&case).category, UNKNOWN_CATEGORY);
    // Playwright with no message: the details' header names the test.
    let mut case = TestCase::new("flaky list count", "a.spec.ts", TestStatus::Failed);
    case.error_type = Some("Error".into());
    case.details = Some("  [chromium] › a.spec.ts:2:1 › flaky list count ────\n\n    Error: boom\n".into());
    assert_eq!(diagnose(&case).category, UNKNOWN_CATEGORY);
}

#[test]
fn value_error_counts_as_a_type_not_as_a_word() {
    let mut case = failing(
        "test_log_is_clean",
        "AssertionError: assert 'ValueError' not in 'got ValueError: x'\n  \n  'ValueError' is contained here:",
    );
    assert_eq!(diagnose(&case).category, "assertion");
    case.message = Some("Failed: DID NOT RAISE ValueError".into());
    assert_eq!(
        diagnose(&case).category,
        "assertion",
        "pytest.raises that did not raise"
    );
    case.message = Some("RuntimeError: parser gave up after a ValueError".into());
    assert_eq!(diagnose(&case).category, UNKNOWN_CATEGORY);
    // behave gives the type in its own attribute.
    let mut raised = TestCase::new("Apply a coupon", "cart.Cart", TestStatus::Error);
    raised.error_type = Some("ValueError".into());
    raised.message = Some("bad number".into());
    let diagnosis = diagnose(&raised);
    assert_eq!(diagnosis.category, "data");
    assert!(
        diagnosis.root_cause.contains("\"ValueError\" in the failure's type"),
        "{}",
        diagnosis.root_cause
    );
    // pytest's message, or the last line of its traceback, names it too.
    let mut pytest = failing("test_parse", "ValueError: invalid literal for int() with base 10: 'x'");
    assert_eq!(diagnose(&pytest).category, "data");
    pytest.message = None;
    pytest.details = Some("E   ValueError: bad\n\ntests/test_a.py:12: ValueError".into());
    assert_eq!(diagnose(&pytest).category, "data");
}

/// Playwright's JUnit for the same `toHaveCount` failure, without and with
/// a custom expect message: the same category for both.
#[test]
fn a_custom_expect_message_about_waiting_leaves_an_assertion_an_assertion() {
    let details = |first: &str| {
        format!(
            "  [chromium] › a.spec.ts:2:1 › list count ────\n\n    Error: {first}\n\n    Locator:  locator('li')\n    \
             Expected: 3\n    Received: 2\n    Timeout:  300ms\n\n    Call log:\n      - waiting for locator('li') with timeout 300ms\n"
        )
    };
    let mut plain = TestCase::new("list count", "a.spec.ts", TestStatus::Failed);
    plain.error_type = Some("expect.toHaveCount".into());
    plain.message = Some("expect(locator).toHaveCount(expected) failed".into());
    plain.details = Some(details("expect(locator).toHaveCount(expected) failed"));
    let mut custom = plain.clone();
    custom.message = Some("waiting for the list to fill".into());
    custom.details = Some(details("waiting for the list to fill"));
    assert_eq!(diagnose(&plain).category, "assertion");
    assert_eq!(diagnose(&custom).category, "assertion");
    // The whole error as a message, Playwright's timeout and call log included.
    let mut whole = plain.clone();
    whole.message = Some(details("waiting for the list to fill"));
    assert_eq!(diagnose(&whole).category, "assertion");
}

#[test]
fn an_assertion_message_naming_an_earlier_category_decides() {
    let mut case = failing(
        "test_create_order",
        "AssertionError: create returned 401 Unauthorized\nassert 401 == 422",
    );
    assert_eq!(diagnose(&case).category, "auth");
    case.message = Some("AssertionError: timed out waiting for the order\nassert None".into());
    assert_eq!(diagnose(&case).category, "timeout");
    case.message = Some("AssertionError: waiting for the list to fill\nassert 3 == 2".into());
    assert_eq!(diagnose(&case).category, "assertion");
    // Flaky is no earlier category for an assertion: words prove nothing.
    case.message = Some("AssertionError: flaky race condition again\nassert 3 == 2".into());
    assert_eq!(diagnose(&case).category, "assertion");
    // behave: the custom message alone, the type in its attribute.
    let mut behave = TestCase::new("Apply a coupon", "cart.Cart", TestStatus::Failed);
    behave.error_type = Some("AssertionError".into());
    behave.message = Some(String::new());
    assert_eq!(diagnose(&behave).category, "assertion");
    behave.message = Some("returned 401 Unauthorized".into());
    assert_eq!(diagnose(&behave).category, "auth");
}

#[test]
fn a_generic_type_leaves_the_message_to_decide() {
    let mut case = TestCase::new("times out", "b.spec.ts", TestStatus::Error);
    case.error_type = Some("Error".into());
    case.message = Some("Test timeout of 500ms exceeded.".into());
    assert_eq!(diagnose(&case).category, "timeout");
}

#[test]
fn custom_categories_are_checked_before_built_ins_case_insensitively() {
    let custom = [
        CategorySpec {
            name: "database".into(),
            pattern: r"psycopg2\.OperationalError|could not connect to server".into(),
            suggestion: "Start the test database (docker compose up db).".into(),
        },
        CategorySpec {
            name: "never".into(),
            pattern: "no such text anywhere".into(),
            suggestion: "-".into(),
        },
    ];
    let diagnoser = Diagnoser::new(&custom).expect("valid patterns");
    // Would be `connection` by the built-ins.
    let case = failing(
        "test_db",
        "PSYCOPG2.OPERATIONALERROR: could not connect to server: Connection refused",
    );
    let diagnosis = diagnoser.diagnose_case("unit", &case, None).expect("diagnosed");
    assert_eq!(diagnosis.category, "database");
    assert_eq!(diagnosis.suggestion, "Start the test database (docker compose up db).");
    assert_eq!(diagnosis.confidence, MATCHED_CONFIDENCE);
    // Built-ins still apply when no custom category matches.
    let other = failing("test_other", "TimeoutError: deadline exceeded");
    let diagnosis = diagnoser.diagnose_case("unit", &other, None).expect("diagnosed");
    assert_eq!(diagnosis.category, "timeout");
}

#[test]
fn a_bad_custom_pattern_is_an_error_naming_the_category() {
    let custom = [CategorySpec {
        name: "broken".into(),
        pattern: "unclosed (group".into(),
        suggestion: "-".into(),
    }];
    let error = Diagnoser::new(&custom).expect_err("the pattern does not compile");
    assert!(matches!(&error, DiagnosticsError::InvalidPattern { name, .. } if name == "broken"));
    assert!(error.to_string().contains("`broken`"), "{error}");
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn an_empty_custom_name_is_an_error() {
    let custom = [CategorySpec {
        name: " ".into(),
        pattern: "x".into(),
        suggestion: "-".into(),
    }];
    let error = Diagnoser::new(&custom).expect_err("empty name");
    assert!(matches!(error, DiagnosticsError::EmptyName { index: 1 }));
}

#[test]
fn a_suite_level_error_without_failing_cases_is_diagnosed() {
    let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
    let mut result = SuiteResult::new("e2e", "playwright");
    result
        .cases
        .push(TestCase::new("passes", "a.spec.ts", TestStatus::Passed));
    result.log_tail = Some("Error: connect ECONNREFUSED 127.0.0.1:3000".into());
    result.set_error(
        SuiteOutcome::Errored,
        "playwright exited with code 1 but reported no failure",
    );
    let diagnoses = diagnoser.diagnose_suite(&result);
    assert_eq!(diagnoses.len(), 1);
    assert_eq!(diagnoses[0].test_name, "e2e");
    assert_eq!(diagnoses[0].suite, "e2e");
    assert_eq!(diagnoses[0].category, "environment");
    assert!(
        diagnoses[0]
            .root_cause
            .starts_with("The suite's own error, not a test failure. Looks like a connection failure"),
        "what its output points to is kept: {}",
        diagnoses[0].root_cause
    );
    let lines = orchestrator::diagnostics::summary(&diagnoses);
    assert!(
        lines[0].starts_with("0 test failure(s) detected; 1 suite error(s). Breakdown: environment: 1."),
        "{}",
        lines[0]
    );
    assert_eq!(
        diagnoses[0].error_message.as_deref(),
        Some("playwright exited with code 1 but reported no failure")
    );
}

#[test]
fn a_suite_error_beside_failing_cases_adds_no_diagnosis() {
    let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
    let mut result = SuiteResult::new("unit", "pytest");
    result.cases.push(failing("test_a", "AssertionError: assert 1 == 2"));
    result.cases.push(TestCase::new("test_b", "c", TestStatus::Passed));
    let mut flaky = TestCase::new("test_c", "c", TestStatus::Passed);
    flaky.flaky = true;
    flaky.attempts = 2;
    result.cases.push(flaky);
    result.set_error(SuiteOutcome::TimedOut, "timed out after 300s");
    let categories: Vec<String> = diagnoser
        .diagnose_suite(&result)
        .into_iter()
        .map(|d| d.category)
        .collect();
    assert_eq!(categories, ["assertion", "flaky"]);
}

#[test]
fn diagnosis_serializes_with_exactly_the_evidence_keys() {
    let diagnosis = Diagnoser::new(&[])
        .expect("built-ins compile")
        .diagnose_case("unit", &failing("test_a", "KeyError: 'x'"), Some("GET /pets".into()))
        .expect("diagnosed");
    let value = serde_json::to_value(&diagnosis).expect("serializes");
    let object = value.as_object().expect("an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "category",
            "confidence",
            "error_message",
            "root_cause",
            "route",
            "suggestion",
            "suite",
            "test_name"
        ]
    );
    assert_eq!(object["route"], "GET /pets");
    assert_eq!(object["confidence"], 0.6);
}

#[test]
fn summary_counts_categories_most_frequent_first() {
    let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
    let cases = [
        failing("t1", "Timeout 5000ms exceeded"),
        failing("t2", "AssertionError: assert 1 == 2"),
        failing("t3", "AssertionError: assert 'a' == 'b'"),
    ];
    let diagnoses: Vec<Diagnosis> = cases
        .iter()
        .filter_map(|case| diagnoser.diagnose_case("unit", case, None))
        .collect();
    let lines = summary(&diagnoses);
    let assertion = &diagnoses[1].suggestion;
    let timeout = &diagnoses[0].suggestion;
    assert_eq!(
        lines[0],
        format!("3 test failure(s) detected. Breakdown: assertion: 2, timeout: 1. Suggestions: {assertion} {timeout}")
    );
    assert_eq!(lines[1], format!("assertion (2): {assertion}"));
    assert_eq!(lines[2], format!("timeout (1): {timeout}"));
    assert_eq!(lines.len(), 3);
}

#[test]
fn summary_says_how_many_failures_passed_on_a_retry() {
    let diagnoser = Diagnoser::new(&[]).expect("built-ins compile");
    let mut cured = TestCase::new("test_search", "tests.test_api", TestStatus::Passed);
    cured.flaky = true;
    cured.attempts = 2;
    cured.previous_failures.push(PriorFailure {
        status: TestStatus::Failed,
        message: Some("AssertionError: assert 2 == 3".into()),
        error_type: None,
        details: None,
        duration: 0.1,
    });
    let cases = [cured, failing("t2", "AssertionError: assert 1 == 2")];
    let diagnoses: Vec<Diagnosis> = cases
        .iter()
        .filter_map(|case| diagnoser.diagnose_case("unit", case, None))
        .collect();
    let lines = summary(&diagnoses);
    assert!(
        lines[0].starts_with("2 test failure(s) detected (1 of them flaky: passed on a retry). Breakdown:"),
        "{}",
        lines[0]
    );
}

#[test]
fn summary_of_nothing_is_empty() {
    assert!(summary(&[]).is_empty());
}

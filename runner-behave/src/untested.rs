//! Scenarios behave never ran.
//!
//! behave's JUnit lists every scenario of every feature it loaded, also those
//! it never got to: after a failure with `--stop` (or `stop = true` in
//! `behave.ini`), after a failing `before_feature`/`before_all` hook, or on
//! an interrupt. It writes them as `<skipped/>`, but gives them
//! `status="untested"` where a scenario skipped by a tag or `@skip` says
//! `status="skipped"`. Counted as skipped, a retry of the failure alone
//! passed a run whose always-failing scenario never ran, so they become one
//! [`TestCase::unnamed_tests`] row: they have no location in behave's JSON
//! report to re-run them by, and only a retry of the whole suite clears it.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use quick_xml::events::Event;
use runner_api::TestCase;

/// `(classname, name)` of each `<testcase>` of `file` whose `status` says it
/// never ran, with how many such rows share that pair.
pub(crate) fn read(file: &Path) -> Result<HashMap<(String, String), usize>, String> {
    let open = File::open(file).map_err(|err| format!("cannot open {}: {err}", file.display()))?;
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(open));
    let mut buf = Vec::new();
    let mut untested = HashMap::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|err| format!("{}: {err}", file.display()))?;
        match event {
            Event::Eof => break,
            Event::Start(tag) | Event::Empty(tag) if tag.local_name().as_ref() == b"testcase" => {
                let (mut classname, mut name, mut never_ran) = (String::new(), String::new(), false);
                for attribute in tag.attributes() {
                    let attribute = attribute.map_err(|err| format!("{}: {err}", file.display()))?;
                    let value = attribute
                        .normalized_value(quick_xml::XmlVersion::default())
                        .map_err(|err| format!("{}: {err}", file.display()))?;
                    match attribute.key.as_ref() {
                        b"classname" => classname = value.into_owned(),
                        b"name" => name = value.into_owned(),
                        // `untested`, and behave's `untested_pending` / `untested_undefined`.
                        b"status" => never_ran = value.starts_with("untested"),
                        _ => {}
                    }
                }
                if never_ran {
                    *untested.entry((classname, name)).or_insert(0) += 1;
                }
            }
            _ => {}
        }
        buf.clear();
    }
    Ok(untested)
}

/// Takes out of `cases` the rows that `untested` names, unless they failed,
/// and returns their names, in run order. Not only skipped ones: a dry run
/// behave.ini asks for (`steps_catalog = true`) writes untested rows with
/// no `<skipped/>`, which read as passed (a hostile try, 13a #7).
pub(crate) fn take(cases: &mut Vec<TestCase>, mut untested: HashMap<(String, String), usize>) -> Vec<String> {
    let mut names = Vec::new();
    cases.retain(|case| {
        if case.status.is_failure() {
            return true;
        }
        match untested.get_mut(&(case.classname.clone(), case.name.clone())) {
            Some(left) if *left > 0 => {
                *left -= 1;
                names.push(case.name.clone());
                false
            }
            _ => true,
        }
    });
    names
}

/// The row standing for the scenarios behave never ran.
pub(crate) fn stand_in(names: &[String]) -> TestCase {
    const SHOWN: usize = 5;
    let mut listed: Vec<String> = names.iter().take(SHOWN).map(|name| format!("{name:?}")).collect();
    if names.len() > SHOWN {
        listed.push(format!("and {} more", names.len() - SHOWN));
    }
    TestCase::unnamed_tests(
        "the scenarios it never ran",
        "",
        format!(
            "behave did not run {} scenario(s) (--stop after a failure, a failing hook, an interrupt, or a dry \
             run such as steps_catalog): {}",
            names.len(),
            listed.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_api::TestStatus;

    #[test]
    fn untested_rows_are_taken_and_skipped_ones_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("TESTS-s.xml");
        // As behave 1.3 writes a feature stopped after its first scenario,
        // with a scenario skipped by a tag before it.
        std::fs::write(
            &file,
            r#"<testsuite name="s.S" tests="4"><testcase classname="s.S" name="tagged" status="skipped" time="0"><skipped /></testcase><testcase classname="s.S" name="first &amp; failing" status="failed" time="0.1"><failure message="x"/></testcase><testcase classname="s.S" name="twin" status="untested" time="0"><skipped /></testcase><testcase classname="s.S" name="twin" status="untested_undefined" time="0"><skipped /></testcase></testsuite>"#,
        )
        .expect("write");
        let untested = read(&file).expect("readable");
        assert_eq!(untested.get(&("s.S".into(), "twin".into())), Some(&2));
        let mut cases = vec![
            TestCase::new("tagged", "s.S", TestStatus::Skipped),
            TestCase::new("first & failing", "s.S", TestStatus::Failed),
            TestCase::new("twin", "s.S", TestStatus::Skipped),
            // A dry run's untested row has no `<skipped />`: read as passed.
            TestCase::new("twin", "s.S", TestStatus::Passed),
        ];
        let names = take(&mut cases, untested);
        assert_eq!(names, ["twin", "twin"]);
        assert_eq!(
            cases.iter().map(|case| case.name.as_str()).collect::<Vec<_>>(),
            ["tagged", "first & failing"]
        );
        let row = stand_in(&names);
        assert!(row.is_unnamed_tests() && row.status == TestStatus::Error, "{row:?}");
    }
}

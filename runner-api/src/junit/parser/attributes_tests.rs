//! Attribute splitting and attribute problems.

use super::*;

fn problem(tag: &str) -> String {
    let start = BytesStart::from_content(tag, tag.find(' ').unwrap_or(tag.len()));
    let err = start
        .attributes()
        .with_checks(false)
        .find_map(Result::err)
        .expect("a bad attribute");
    attribute_problem(&start, err)
}

fn split(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    split_attributes(text, |key, value| pairs.push((key.to_string(), value.to_string())))?;
    Some(pairs)
}

#[test]
fn plain_attributes_split_and_anything_else_is_left_to_quick_xml() {
    let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
    assert_eq!(
        split(r#" name="a b" x:file = 'its' "#),
        Some(vec![pair("name", "a b"), pair("file", "its")])
    );
    assert_eq!(split(""), Some(vec![]));
    for bad in [
        r#"a="1"b="2""#,
        "a=1",
        "a",
        r#"a="open"#,
        r#"="v""#,
        "a= ",
        r#"a="1" /"#,
        "a='it''s'",
    ] {
        assert_eq!(split(bad), None, "{bad}");
    }
}

#[test]
fn attribute_problems_name_the_attribute() {
    assert_eq!(problem(r#"testcase name="a" time"#), "attribute `time` has no value");
    assert_eq!(problem(r#"testcase time name="a""#), "attribute `time` has no value");
    assert_eq!(problem(r#"testcase time= "#), "attribute `time` has no value");
    assert_eq!(
        problem("testsuite name=unquoted"),
        "the value of attribute `name` is not quoted"
    );
    assert_eq!(problem(r#"testsuite name="open"#), "an attribute value is not closed");
}

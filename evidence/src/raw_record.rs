//! A stored test record read for passing on (`qaagent merge`): the fields a
//! merge looks at or changes are decoded, the rest are kept as the JSON text
//! they were and written back verbatim.
//!
//! Why: decoding every string of a record into a [`TestRecord`](crate::TestRecord)
//! and escaping it again on the way out was most of a merge's time (50
//! shards, 1,000,000 records: 2.3 s of user time, of which ~30 % string
//! escaping and allocation); passing the text on instead took it to the
//! figure in BENCHMARKS.md target 7.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::suite::TestStatus;

/// One line of `tests.jsonl`, borrowed from the line it was read from, with
/// exactly a [`TestRecord`](crate::TestRecord)'s fields in its order.
#[derive(Debug, Serialize, Deserialize)]
pub struct RawRecord<'a> {
    /// `TST-YYYYMMDD-NNNN`; a run written from records gives its own.
    #[serde(borrow, default)]
    pub test_id: Cow<'a, str>,
    /// The suite's name (the Python qaagent's record kind).
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow)]
    name: &'a RawValue,
    /// `passed`, `failed`, `error` or `skipped`.
    pub status: TestStatus,
    /// The suite's name.
    #[serde(borrow, default)]
    pub suite_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    runner_type: Option<&'a RawValue>,
    #[serde(borrow, default)]
    duration: Option<&'a RawValue>,
    #[serde(borrow, default)]
    route: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error_message: Option<&'a RawValue>,
    #[serde(borrow, default)]
    last_run: Option<&'a RawValue>,
    /// The artifacts it refers to, relative to the run directory.
    #[serde(borrow, default)]
    pub evidence_refs: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    tags: Option<&'a RawValue>,
    /// `metadata`, each value as its JSON text.
    #[serde(borrow, default)]
    pub metadata: BTreeMap<Cow<'a, str>, &'a RawValue>,
}

impl<'a> RawRecord<'a> {
    /// Its suite: `suite_name`, else (records of the Python qaagent) `kind`.
    pub fn suite(&self) -> &str {
        self.suite_name.as_deref().unwrap_or(&self.kind)
    }

    /// Its `name`, decoded (empty when it is not a string).
    pub fn name(&self) -> Cow<'a, str> {
        text(self.name)
    }

    /// Its `error_message`, decoded; `None` when absent or not a string.
    pub fn error_message(&self) -> Option<Cow<'a, str>> {
        self.error_message.filter(|raw| raw.get() != "null").map(text)
    }

    /// Its `duration` in seconds; `None` when absent or not a number.
    pub fn duration(&self) -> Option<f64> {
        self.duration.and_then(|raw| raw.get().parse().ok())
    }

    /// `metadata.KEY` when it is a string, decoded.
    pub fn meta_str(&self, key: &str) -> Option<Cow<'a, str>> {
        self.metadata
            .get(key)
            .filter(|raw| raw.get().starts_with('"'))
            .map(|raw| text(raw))
    }

    /// Whether it passed only on a retry (`metadata.flaky`).
    pub fn flaky(&self) -> bool {
        self.metadata.get("flaky").is_some_and(|value| value.get() == "true")
    }
}

/// A JSON string's text, borrowed when it holds no escape; empty when `raw` is no string.
fn text<'a>(raw: &'a RawValue) -> Cow<'a, str> {
    let json = raw.get();
    // Only a string without escapes can be borrowed; don't parse the others twice.
    if !json.contains('\\') {
        if let Ok(text) = serde_json::from_str::<&'a str>(json) {
            return Cow::Borrowed(text);
        }
    }
    Cow::Owned(serde_json::from_str::<String>(json).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_goes_back_out_as_it_came_but_for_what_was_changed() {
        let line = r#"{"test_id":"TST-1","kind":"unit","name":"t\"1\" \u00e9","status":"failed","suite_name":"unit","runner_type":"pytest","duration":1e-7,"route":null,"error_message":"boom\n","last_run":"2025","evidence_refs":["artifacts/unit/a"],"tags":["flaky"],"metadata":{"attempts":2,"flaky":true,"previous_failures":[{"x":null}]}}"#;
        let mut record: RawRecord<'_> = serde_json::from_str(line).expect("parses");
        assert_eq!((record.suite(), record.flaky()), ("unit", true));
        assert_eq!(
            (record.name(), record.error_message(), record.duration()),
            ("t\"1\" é".into(), Some("boom\n".into()), Some(1e-7))
        );
        assert_eq!(serde_json::to_string(&record).expect("serializes"), line);
        record.test_id = "TST-2".into();
        let shard = RawValue::from_string("3".into()).expect("raw");
        record.metadata.insert("shard".into(), &shard);
        let again: crate::TestRecord =
            serde_json::from_str(&serde_json::to_string(&record).expect("json")).expect("a TestRecord");
        assert_eq!(again.test_id, "TST-2");
        assert_eq!(again.name, "t\"1\" é");
        assert_eq!(again.metadata["shard"], 3);
        assert_eq!(again.metadata["previous_failures"][0]["x"], serde_json::Value::Null);
    }
}

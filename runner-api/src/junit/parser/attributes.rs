//! A tag's attributes, read without an allocation in the common case.

use std::path::Path;

use quick_xml::events::attributes::AttrError;
use quick_xml::events::BytesStart;

use super::super::input::Locate;
use super::super::values::{attribute_value, needs_normalizing};
use super::malformed;
use crate::junit::JunitError;

/// Calls `each` with every attribute of `start` (at input offset `at`):
/// its local name and its value ([`attribute_value`]), failing on a
/// malformed one (an error against `path`).
pub(super) fn attributes(
    path: &Path,
    start: &BytesStart<'_>,
    src: &mut impl Locate,
    at: u64,
    mut each: impl FnMut(&str, &str),
) -> Result<(), JunitError> {
    // The common case, checked as UTF-8 and for characters to normalize
    // once per tag rather than once per attribute; anything unusual is
    // read again below, where quick-xml says what is wrong with it.
    if let Ok(text) = std::str::from_utf8(start.attributes_raw()) {
        let plain = !needs_normalizing(text.as_bytes());
        let split = split_attributes(text, |key, raw| {
            if plain {
                each(key, raw);
            } else {
                each(key, &attribute_value(raw));
            }
        });
        if split.is_some() {
            return Ok(());
        }
    }
    // Without duplicate checks: a tool that writes an attribute twice
    // gets its last value, and reading a tag costs no allocation.
    for attr in start.attributes().with_checks(false) {
        let problem = match attr {
            Ok(attr) => {
                let key = attr.key.local_name();
                match (std::str::from_utf8(key.as_ref()), std::str::from_utf8(&attr.value)) {
                    (Ok(key), Ok(value)) => {
                        each(key, &attribute_value(value));
                        continue;
                    }
                    _ => "an attribute is not valid UTF-8".to_string(),
                }
            }
            Err(err) => attribute_problem(start, err),
        };
        let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
        return Err(malformed(
            path,
            src.place(at),
            format!("bad attribute in <{name}>: {problem}"),
        ));
    }
    Ok(())
}

/// Calls `each` with the local name and raw value of every `key="value"`
/// (or `key='value'`) in a tag's attribute text; `None` at anything else.
fn split_attributes<'t>(text: &'t str, mut each: impl FnMut(&'t str, &'t str)) -> Option<()> {
    let bytes = text.as_bytes();
    let skip_space = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    let mut i = skip_space(0);
    while i < bytes.len() {
        let key_start = i;
        while bytes.get(i).is_some_and(|&b| b != b'=' && !b.is_ascii_whitespace()) {
            i += 1;
        }
        let key = text.get(key_start..i).filter(|key| !key.is_empty())?;
        i = skip_space(i);
        if bytes.get(i) != Some(&b'=') {
            return None;
        }
        i = skip_space(i + 1);
        let quote = *bytes.get(i).filter(|&&b| b == b'"' || b == b'\'')?;
        let len = memchr::memchr(quote, bytes.get(i + 1..)?)?;
        let value = text.get(i + 1..i + 1 + len)?;
        i += len + 2;
        if i < bytes.len() && !bytes[i].is_ascii_whitespace() {
            return None;
        }
        let local = key
            .bytes()
            .position(|b| b == b':')
            .map_or(key, |colon| &key[colon + 1..]);
        each(local, value);
        i = skip_space(i);
    }
    Some(())
}

/// What is wrong with an attribute, in words, naming it from quick-xml's
/// position (relative to the start of the tag's content).
fn attribute_problem(start: &BytesStart<'_>, err: AttrError) -> String {
    let tag: &[u8] = start;
    let word_before = |pos: usize| -> String {
        let before = tag.get(..pos).unwrap_or(tag).trim_ascii_end();
        let before = before.strip_suffix(b"=").unwrap_or(before).trim_ascii_end();
        let start = before.iter().rposition(u8::is_ascii_whitespace).map_or(0, |i| i + 1);
        String::from_utf8_lossy(&before[start..]).into_owned()
    };
    match err {
        // Each position is just past the attribute's name (or its `=`).
        AttrError::ExpectedEq(pos) | AttrError::ExpectedValue(pos) => {
            format!("attribute `{}` has no value", word_before(pos))
        }
        AttrError::UnquotedValue(pos) => format!("the value of attribute `{}` is not quoted", word_before(pos)),
        AttrError::ExpectedQuote(..) => "an attribute value is not closed".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
#[path = "attributes_tests.rs"]
mod tests;

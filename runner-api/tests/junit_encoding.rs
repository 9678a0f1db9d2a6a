//! Reports not written in UTF-8 (issue 13, item 14); input that is not XML
//! at all failing at its first bytes, and what is kept of a huge output
//! bounded (item 12).

use std::io::Read;
use std::path::Path;

use runner_api::junit::{read_reader, JunitCase, JunitError, KEPT_TEXT_BYTES};
use runner_api::TestStatus;

/// A report with non-ASCII text in attributes and bodies, the failure body
/// long enough to cross the decoder's chunks.
fn report(declared: &str) -> (String, String) {
    let body = "ünïcödé 日本 😀 &lt;x&gt;\r\n".repeat(3000);
    let expected_body = "ünïcödé 日本 😀 <x>\n".repeat(3000).trim_end().to_string();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"{declared}\"?>\n<testsuite name=\"süite\">\
         <testcase classname=\"ça\" name=\"tést 😀\"><failure message=\"déjà vu\">{body}</failure></testcase>\
         <testcase name=\"ok\"/></testsuite>\n"
    );
    (xml, expected_body)
}

fn read(bytes: &[u8]) -> Result<Vec<JunitCase>, JunitError> {
    read_reader(bytes, Path::new("encoded.xml"))
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    let mut bytes = if big_endian { vec![0xFE, 0xFF] } else { vec![0xFF, 0xFE] };
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&if big_endian {
            unit.to_be_bytes()
        } else {
            unit.to_le_bytes()
        });
    }
    bytes
}

#[test]
fn utf16_with_a_byte_order_mark_is_decoded() {
    let (xml, expected_body) = report("UTF-16");
    for big_endian in [false, true] {
        let cases = read(&utf16(&xml, big_endian)).expect("UTF-16 report");
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].suite_name(), Some("süite"));
        assert_eq!((cases[0].classname(), cases[0].name()), ("ça", "tést 😀"));
        assert_eq!(cases[0].status(), TestStatus::Failed);
        assert_eq!(cases[0].message(), Some("déjà vu"));
        assert_eq!(cases[0].details(), Some(expected_body.as_str()));
        assert_eq!(cases[1].status(), TestStatus::Passed);
    }
}

/// Hands out at most 7 bytes per read, so that UTF-16 units and surrogate
/// pairs are cut by reads.
struct Trickle<'a>(&'a [u8]);

impl Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let n = out.len().min(self.0.len()).min(7);
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn utf16_reads_the_same_whatever_the_read_sizes() {
    let (xml, _) = report("UTF-16");
    let bytes = utf16(&xml, false);
    let trickled = read_reader(Trickle(&bytes), Path::new("trickle.xml")).expect("UTF-16 report");
    assert_eq!(trickled, read(&bytes).expect("UTF-16 report"));
}

#[test]
fn truncated_or_broken_utf16_is_an_error() {
    let (xml, _) = report("UTF-16");
    let bytes = utf16(&xml, false);
    assert!(read(&bytes[..bytes.len() - 1]).is_err(), "half a character at the end");
    let mut lone_surrogate = utf16("<testsuite name=\"", false);
    lone_surrogate.extend_from_slice(&0xDC00u16.to_le_bytes());
    lone_surrogate.extend_from_slice(&utf16("\"/>", false)[2..]);
    assert!(read(&lone_surrogate).is_err());
}

#[test]
fn iso_8859_1_as_declared_is_decoded() {
    let xml = "<?xml version='1.0' encoding='ISO-8859-1'?>\n<testsuite name=\"s\u{E9}rie\">\
               <testcase name=\"caf\u{E9}\"><failure message=\"\u{B0}C\">d\u{E9}j\u{E0} vu &lt;\u{FF}&gt;</failure></testcase></testsuite>";
    let bytes: Vec<u8> = xml
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1"))
        .collect();
    let cases = read(&bytes).expect("Latin-1 report");
    assert_eq!(cases[0].suite_name(), Some("série"));
    assert_eq!(cases[0].name(), "café");
    assert_eq!(cases[0].message(), Some("°C"));
    assert_eq!(cases[0].details(), Some("déjà vu <ÿ>"));
    // The same bytes without the declaration are not UTF-8: malformed, as before.
    let undeclared: Vec<u8> = xml
        .replace("encoding='ISO-8859-1'", "")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1"))
        .collect();
    assert!(matches!(read(&undeclared), Err(JunitError::Malformed { .. })));
}

/// An endless stream of junk that counts what was read from it.
struct Junk {
    read: u64,
}

impl Read for Junk {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        out.fill(b'x');
        self.read += out.len() as u64;
        Ok(out.len())
    }
}

#[test]
fn input_that_does_not_start_like_xml_fails_at_once() {
    let mut junk = Junk { read: 0 };
    let err = read_reader(&mut junk, Path::new("junk.bin")).expect_err("not XML");
    match err {
        JunitError::Malformed {
            line, column, message, ..
        } => {
            assert_eq!((line, column), (1, 1));
            assert_eq!(message, "text before the root element");
        }
        other => panic!("{other:?}"),
    }
    assert!(junk.read <= 512, "read {} bytes of junk before failing", junk.read);
    // Whitespace and a byte order mark before the junk are skipped.
    let err = read(b"\xEF\xBB\xBF\n  junk").expect_err("not XML");
    assert!(
        matches!(err, JunitError::Malformed { line: 2, column: 3, .. }),
        "{err:?}"
    );
}

/// A report generated as it is read: one case whose `<system-out>` and
/// failure body are `repeats` lines each.
struct HugeOutput {
    parts: Vec<Vec<u8>>,
    line: &'static [u8],
    repeats: u64,
    part: usize,
    done: u64,
    pos: usize,
}

impl Read for HugeOutput {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        // Parts alternate: fixed markup, then `repeats` lines of output.
        loop {
            let last = self.part / 2 + 1 == self.parts.len() && !self.part.is_multiple_of(2);
            let Some(fixed) = self.parts.get(self.part / 2).filter(|_| !last) else {
                return Ok(0);
            };
            let piece: &[u8] = if self.part.is_multiple_of(2) { fixed } else { self.line };
            if self.pos == piece.len() {
                self.pos = 0;
                self.done += 1;
                if self.part.is_multiple_of(2) || self.done >= self.repeats {
                    self.part += 1;
                    self.done = 0;
                }
                continue;
            }
            let n = out.len().min(piece.len() - self.pos);
            out[..n].copy_from_slice(&piece[self.pos..self.pos + n]);
            self.pos += n;
            return Ok(n);
        }
    }
}

#[test]
fn what_is_kept_of_a_huge_output_is_bounded() {
    let repeats = 300_000; // 300,000 lines of 40 bytes: 12 MB each
    let report = HugeOutput {
        parts: vec![
            b"<testsuite><testcase name=\"loud\"><system-out>first line\n".to_vec(),
            b"last line</system-out><failure message=\"m\">".to_vec(),
            b"end of trace</failure></testcase></testsuite>".to_vec(),
        ],
        line: b"a line of output &lt;with references&gt;\n",
        repeats,
        part: 0,
        done: 0,
        pos: 0,
    };
    let cases = read_reader(report, Path::new("huge.xml")).expect("well-formed");
    for text in [cases[0].system_out(), cases[0].details()] {
        let text = text.expect("text");
        assert!(text.len() <= 2 * KEPT_TEXT_BYTES + 200, "kept {} bytes", text.len());
        assert!(
            text.contains("bytes left out here; the whole text is in the JUnit report"),
            "{}",
            &text[..200]
        );
        assert!(text.starts_with("first line\na line of output <with references>\n") || text.starts_with("a line"));
        assert!(text.ends_with("last line") || text.ends_with("end of trace"));
    }
    let out = cases[0].system_out().expect("output");
    let omitted: u64 = out
        .split("[… ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("the note says how much was left out");
    let whole = "first line\n".len() as u64
        + repeats * "a line of output <with references>\n".len() as u64
        + "last line".len() as u64;
    let kept = out.len() as u64
        - out
            .lines()
            .find(|l| l.starts_with("[… "))
            .map_or(0, |l| l.len() as u64 + 2);
    assert_eq!(
        kept + omitted,
        whole,
        "what is kept and what is left out add up to the text"
    );
}

#[test]
fn what_is_kept_of_a_huge_cdata_section_is_bounded() {
    let report = HugeOutput {
        parts: vec![
            b"<testsuite><testcase name=\"loud\"><system-out><![CDATA[first line\n".to_vec(),
            b"last line]]></system-out></testcase></testsuite>".to_vec(),
        ],
        line: b"a line of output <not markup> &amp; no reference\n",
        repeats: 300_000,
        part: 0,
        done: 0,
        pos: 0,
    };
    let cases = read_reader(report, Path::new("huge.xml")).expect("well-formed");
    let out = cases[0].system_out().expect("output");
    assert!(out.len() <= 2 * KEPT_TEXT_BYTES + 200, "kept {} bytes", out.len());
    assert!(
        out.starts_with("first line\na line of output <not markup> &amp; no reference\n"),
        "{}",
        &out[..100]
    );
    assert!(out.ends_with("last line"), "{}", &out[out.len() - 100..]);
    assert!(out.contains("bytes left out here"), "the note says what was left out");
}

#[test]
fn utf16_without_a_byte_order_mark_windows_1252_and_unknown_encodings() {
    let (xml, _) = report("UTF-16");
    for big_endian in [false, true] {
        let mut bytes = utf16(&xml, big_endian);
        bytes.drain(..2);
        let without_bom = read(&bytes).expect("UTF-16 told by its first characters");
        assert_eq!(without_bom, read(&utf16(&xml, big_endian)).expect("with a BOM"));
    }

    let mut cp1252 = b"<?xml version=\"1.0\" encoding=\"windows-1252\"?><testsuite><testcase name=\"".to_vec();
    cp1252.extend_from_slice(&[0x80, b' ', 0x93, b'q', 0x94, b' ', 0xE9]);
    cp1252.extend_from_slice(b"\"/></testsuite>");
    assert_eq!(read(&cp1252).expect("Windows-1252")[0].name(), "€ “q” é");

    // UTF-16 declared in bytes that are not (.NET over a string): read as they are.
    let dotnet = br#"<?xml version="1.0" encoding="utf-16"?><testsuite><testcase name="a"/></testsuite>"#;
    assert_eq!(read(dotnet).expect("8-bit bytes")[0].name(), "a");

    let err = read(br#"<?xml version="1.0" encoding="Shift_JIS"?><testsuite/>"#).expect_err("not read");
    assert!(err.to_string().contains("declares encoding \"shift_jis\""), "{err}");
}

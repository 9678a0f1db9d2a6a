//! Finding and signalling every process that belongs to one supervised child.
//!
//! Membership is the union of two marks, read from `/proc`:
//! - the child's process group (the child leads it), which catches ordinary
//!   descendants;
//! - the suite token in the process's environment, which catches descendants
//!   that left the group (`setsid`, detached launches such as Playwright's
//!   browsers) but still inherited the environment.
//!
//! Zombies count as gone: they hold no resources a suite cares about and only
//! their parent (or init) can remove them. Races with processes that exit
//! while we look, and processes we may not inspect, are ignored by design.

use std::collections::HashSet;
use std::fs;

/// The processes of one supervised child.
#[derive(Debug)]
pub(super) struct Tree {
    /// The child's pid, which is also its process group id.
    pgid: i32,
    /// `NAME=token` exactly as it appears in `/proc/<pid>/environ`.
    token_entry: Vec<u8>,
    /// Our own pid, never a member (we do not carry the token, but a parent
    /// qaagent might have given us one of its own).
    own_pid: i32,
}

impl Tree {
    /// The tree of the child `pgid`, whose environment carries `name=token`.
    pub(super) fn new(pgid: i32, name: &str, token: &str) -> Self {
        Tree {
            pgid,
            token_entry: format!("{name}={token}").into_bytes(),
            own_pid: std::process::id() as i32,
        }
    }

    /// The pids of the tree's live (non-zombie) processes, the child included
    /// while it runs.
    pub(super) fn members(&self) -> Vec<i32> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid != self.own_pid && self.is_member(pid))
            .collect()
    }

    fn is_member(&self, pid: i32) -> bool {
        let Some(stat) = read_stat(pid) else {
            return false;
        };
        if stat.is_gone() {
            return false;
        }
        if stat.pgrp == self.pgid {
            return true;
        }
        // Permission errors (other users' processes) and races end up here as "not ours".
        fs::read(format!("/proc/{pid}/environ"))
            .is_ok_and(|environ| environ.split(|&b| b == 0).any(|entry| entry == self.token_entry))
    }

    /// Sends `signal` to the whole process group and to every member found now.
    /// Returns the members that were signalled individually.
    pub(super) fn signal_all(&self, signal: i32) -> HashSet<i32> {
        self.signal_group(signal);
        let members: HashSet<i32> = self.members().into_iter().collect();
        for &pid in &members {
            send_signal(pid, signal);
        }
        members
    }

    /// Sends `signal` to the process group. Safe against pid reuse only while
    /// the child is unreaped, which the supervisor guarantees: it reaps last.
    pub(super) fn signal_group(&self, signal: i32) {
        send_signal(-self.pgid, signal);
    }
}

/// Sends `signal` to `pid` (a negative pid addresses a process group); a
/// process that is already gone is not an error here.
pub(super) fn send_signal(pid: i32, signal: i32) {
    // SAFETY: kill(2) has no memory-safety preconditions.
    let rc = unsafe { libc::kill(pid, signal) };
    if rc != 0 {
        log::trace!("kill({pid}, {signal}): {}", std::io::Error::last_os_error());
    }
}

/// The fields of `/proc/<pid>/stat` we use.
struct Stat {
    state: u8,
    pgrp: i32,
}

impl Stat {
    /// Zombie (`Z`) or dead (`X`, `x`).
    fn is_gone(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }
}

fn read_stat(pid: i32) -> Option<Stat> {
    let raw = fs::read(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may itself contain spaces and
    // parentheses, so the fields start after the last ')'.
    let close = raw.iter().rposition(|&b| b == b')')?;
    let rest = std::str::from_utf8(raw.get(close + 1..)?).ok()?;
    let mut fields = rest.split_ascii_whitespace();
    let state = *fields.next()?.as_bytes().first()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(Stat { state, pgrp })
}

#[cfg(test)]
/// True when `pid` no longer exists or is a zombie.
pub(super) fn is_gone(pid: i32) -> bool {
    read_stat(pid).is_none_or(|stat| stat.is_gone())
}

/// The command line of `pid`, arguments joined by spaces; its `[name]` when
/// the command line is empty (kernel threads, exiting processes); `?` when
/// the process is gone.
pub(super) fn command_line(pid: i32) -> String {
    if let Ok(raw) = fs::read(format!("/proc/{pid}/cmdline")) {
        let args: Vec<String> = raw
            .split(|&b| b == 0)
            .filter(|arg| !arg.is_empty())
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        if !args.is_empty() {
            return args.join(" ");
        }
    }
    match fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(name) => format!("[{}]", name.trim_end()),
        Err(_) => "?".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_is_alive_and_described() {
        let me = std::process::id() as i32;
        assert!(!is_gone(me));
        assert!(!command_line(me).is_empty());
        assert!(is_gone(i32::MAX), "no such pid");
    }

    #[test]
    fn our_own_group_is_never_a_member_of_itself() {
        // SAFETY: getpgrp has no preconditions.
        let pgrp = unsafe { libc::getpgrp() };
        let tree = Tree::new(pgrp, "QAAGENT_TEST_NO_SUCH_VAR", "x");
        assert!(!tree.members().contains(&(std::process::id() as i32)));
    }
}

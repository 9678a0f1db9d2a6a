//! Finding and signalling every process that belongs to one supervised child.
//!
//! Membership is the union of these marks, read from `/proc`:
//! - the child's process group (the child leads it), which catches ordinary
//!   descendants;
//! - the suite token in the process's environment, which catches descendants
//!   that left the group (`setsid`, detached launches such as Playwright's
//!   browsers) but still inherited the environment;
//! - parentage: every descendant of a member, and (on Linux, where qaagent is
//!   a child subreaper, see [`super::become_subreaper`]) every orphan
//!   re-parented to qaagent that is none of its own children and carries no
//!   other supervised child's token. These catch a descendant that left the
//!   group *and* cleared its environment (`env -i setsid …`): it is
//!   [`Scan::escaped`];
//! - the child's cgroup, where one could be made ([`super::cgroup`]), which
//!   holds every descendant whatever it did; those found only there are
//!   [`Scan::escaped`] too. With a cgroup, orphans are claimed by it, not
//!   by adoption, unless they left every attempt's cgroup.
//!
//! Which orphans are qaagent's own children: those it starts share its
//! process group (a plain `Command`) or lead a group of their own in its
//! session (a supervised child). An orphan that moved to a group of its own
//! in qaagent's session *and* cleared its environment is not found. Under
//! `--parallel`, an orphan without a token is claimed by the first attempt
//! that looks, which may not be the one that started it (not so with cgroups).
//!
//! Zombies count as gone: they hold no resources a suite cares about. Orphans
//! re-parented to qaagent are reaped here once they are zombies, so none
//! piles up. Races with processes that exit while we look, and processes we
//! may not inspect, are ignored by design.

use std::collections::{HashMap, HashSet};
use std::fs;

use super::cgroup::Cgroup;

/// What one look at `/proc` found of a tree.
#[derive(Debug, Default)]
pub(super) struct Scan {
    /// The tree's live (non-zombie) processes.
    pub(super) members: Vec<i32>,
    /// Those among them found only by parentage: out of the group and
    /// without the token.
    pub(super) escaped: HashSet<i32>,
}

/// The processes of one supervised child.
#[derive(Debug)]
pub(super) struct Tree {
    /// The child's pid, which is also its process group id.
    pgid: i32,
    /// `NAME=` of the token variable, to tell other trees' processes.
    token_prefix: Vec<u8>,
    /// `NAME=token` exactly as it appears in `/proc/<pid>/environ`.
    token_entry: Vec<u8>,
    /// Our own pid, never a member (we do not carry the token, but a parent
    /// qaagent might have given us one of its own).
    own_pid: i32,
    /// Our process group and session, to tell our own children from orphans.
    own_pgrp: i32,
    own_sid: i32,
    /// The child's cgroup, where one could be made: its members are the
    /// tree's however they left the group and the environment.
    cgroup: Option<Cgroup>,
    /// When the child started (`/proc/<pid>/stat`'s clock ticks since boot;
    /// 0 when unknown). A process started before it cannot descend from it,
    /// so its environment is never read: reading every process's
    /// environment took ~10 ms of each suite's end on an idle 2-core VM
    /// (BENCHMARKS.md, target 1).
    born: u64,
}

impl Tree {
    /// The tree of the child `pgid`, whose environment carries `name=token`.
    pub(super) fn new(pgid: i32, name: &str, token: &str, cgroup: Option<Cgroup>) -> Self {
        // SAFETY: getpgrp and getsid have no preconditions.
        let (own_pgrp, own_sid) = unsafe { (libc::getpgrp(), libc::getsid(0)) };
        Tree {
            pgid,
            token_prefix: format!("{name}=").into_bytes(),
            token_entry: format!("{name}={token}").into_bytes(),
            own_pid: std::process::id() as i32,
            own_pgrp,
            own_sid,
            cgroup,
            born: read_stat(pgid).map_or(0, |stat| stat.start),
        }
    }

    /// The tree's live (non-zombie) processes, the child included while it
    /// runs, from one look at every process (see the module doc).
    pub(super) fn scan(&self) -> Scan {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Scan::default();
        };
        let stats: Vec<Stat> = entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|&pid| pid != self.own_pid)
            .filter_map(read_stat)
            .collect();
        let mut children: HashMap<i32, Vec<&Stat>> = HashMap::new();
        let mut marked: HashSet<i32> = HashSet::new();
        let mut members: HashSet<i32> = HashSet::new();
        // The child itself, even as a zombie, and every member found below.
        let mut roots = vec![self.pgid];
        let in_cgroup: HashSet<i32> = self.cgroup.iter().flat_map(Cgroup::pids).collect();
        for stat in &stats {
            children.entry(stat.ppid).or_default().push(stat);
            let adopted = stat.ppid == self.own_pid && self.is_orphan(stat);
            if stat.is_gone() {
                if adopted {
                    reap(stat.pid);
                }
                continue;
            }
            if stat.pgrp == self.pgid || (stat.start >= self.born && self.carries_token(stat.pid)) {
                marked.insert(stat.pid);
            } else if self.cgroup.is_some() {
                // The cgroup knows exactly; adoption would only guess, so it
                // is left to orphans that wrote themselves out of every
                // attempt's cgroup (root may): found nowhere else, they
                // would outlive the run.
                let left = || !self.in_an_attempt_cgroup(stat.pid) && !self.carries_other_token(stat.pid);
                if !(in_cgroup.contains(&stat.pid) || (adopted && left())) {
                    continue;
                }
            } else if !adopted || self.carries_other_token(stat.pid) {
                continue;
            }
            members.insert(stat.pid);
            roots.push(stat.pid);
        }
        while let Some(pid) = roots.pop() {
            for stat in children.get(&pid).into_iter().flatten() {
                if !stat.is_gone() && members.insert(stat.pid) {
                    roots.push(stat.pid);
                }
            }
        }
        let escaped = members.iter().copied().filter(|pid| !marked.contains(pid)).collect();
        Scan {
            members: members.into_iter().collect(),
            escaped,
        }
    }

    /// True for a child of ours that we did not start: one neither in our
    /// group nor leading a group of its own in our session.
    fn is_orphan(&self, stat: &Stat) -> bool {
        stat.pgrp != self.own_pgrp && !(stat.pgrp == stat.pid && stat.sid == self.own_sid)
    }

    /// Whether `pid` is in the cgroup of one of this qaagent's supervised
    /// children (`…/qaagent-<our pid>/<token>`, see [`super::cgroup`]).
    fn in_an_attempt_cgroup(&self, pid: i32) -> bool {
        let ours = format!("/qaagent-{}/", self.own_pid);
        fs::read_to_string(format!("/proc/{pid}/cgroup")).is_ok_and(|groups| groups.contains(&ours))
    }

    fn environ_entries(&self, pid: i32) -> Option<Vec<u8>> {
        // Permission errors (other users' processes) and races end up as None: "not ours".
        fs::read(format!("/proc/{pid}/environ")).ok()
    }

    fn carries_token(&self, pid: i32) -> bool {
        self.environ_entries(pid)
            .is_some_and(|environ| environ.split(|&b| b == 0).any(|entry| entry == self.token_entry))
    }

    fn carries_other_token(&self, pid: i32) -> bool {
        self.environ_entries(pid).is_some_and(|environ| {
            environ
                .split(|&b| b == 0)
                .any(|entry| entry.starts_with(&self.token_prefix) && entry != self.token_entry)
        })
    }

    /// Sends `signal` to the whole process group and to every member found now.
    /// Returns what was found, every member signalled individually.
    pub(super) fn signal_all(&self, signal: i32) -> Scan {
        self.signal_group(signal);
        let scan = self.scan();
        for &pid in &scan.members {
            send_signal(pid, signal);
        }
        scan
    }

    /// Sends `signal` to the process group. Safe against pid reuse only while
    /// the child is unreaped, which the supervisor guarantees: it reaps last.
    pub(super) fn signal_group(&self, signal: i32) {
        send_signal(-self.pgid, signal);
        if signal == libc::SIGKILL {
            if let Some(cgroup) = &self.cgroup {
                cgroup.kill();
            }
        }
    }
}

/// Reaps the zombie `pid`, an orphan re-parented to us.
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: waitpid writes only into `status`, a valid exclusively borrowed int.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
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
    pid: i32,
    state: u8,
    ppid: i32,
    pgrp: i32,
    sid: i32,
    /// Start time, in clock ticks since boot.
    start: u64,
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
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let sid = fields.next()?.parse().ok()?;
    // Field 22, `starttime`; `sid` was field 6.
    let start = fields.nth(15)?.parse().ok()?;
    Some(Stat {
        pid,
        state,
        ppid,
        pgrp,
        sid,
        start,
    })
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
    fn a_process_starts_no_earlier_than_its_parent() {
        let me = read_stat(std::process::id() as i32).expect("own stat");
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let stat = read_stat(child.id() as i32).expect("child stat");
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(stat.ppid, std::process::id() as i32);
        assert!(stat.start >= me.start && me.start > 0, "{} < {}", stat.start, me.start);
    }

    #[test]
    fn our_own_group_is_never_a_member_of_itself() {
        // SAFETY: getpgrp has no preconditions.
        let pgrp = unsafe { libc::getpgrp() };
        let tree = Tree::new(pgrp, "QAAGENT_TEST_NO_SUCH_VAR", "x", None);
        assert!(!tree.scan().members.contains(&(std::process::id() as i32)));
    }
}

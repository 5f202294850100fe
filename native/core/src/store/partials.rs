//! The temporaries a killed writer leaves: `.NAME.PID.partial` and `.NAME.PID.state.partial` beside the target.
//!
//! A writer killed by SIGKILL runs no destructor, so its temporaries stay. The next writer of the same target
//! removes those whose process is gone before it makes its own. A pid is taken for gone when `/proc/PID` does not
//! exist, or when the process now holding that pid started after the file was last written (pid reuse: a writer
//! touches its files at least every block, so a live one is never older than its files). Where `/proc` is not
//! mounted nothing is removed: a live writer's file is never at risk.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Remove the stale temporaries of the target `path`, returning how many went.
pub fn remove_stale(path: &Path) -> usize {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return 0;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    if !Path::new("/proc/self").exists() {
        return 0;
    }
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = owner(&file, &prefix) else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        let written = entry.metadata().and_then(|m| m.modified()).ok();
        if gone(pid, written) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The pid in `PREFIX PID .partial` or `PREFIX PID .state.partial`.
fn owner(file: &str, prefix: &str) -> Option<u32> {
    let rest = file.strip_prefix(prefix)?;
    let digits = rest
        .strip_suffix(".state.partial")
        .or_else(|| rest.strip_suffix(".partial"))?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether the writer `pid` of a file last written at `written` has exited.
fn gone(pid: u32, written: Option<SystemTime>) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return !Path::new(&format!("/proc/{pid}")).exists();
    };
    match (started(&stat), written) {
        // a second of slack: the start time is in clock ticks, the mtime may be coarse
        (Some(start), Some(w)) => start > w + Duration::from_secs(1),
        _ => false,
    }
}

/// When the process of a `/proc/PID/stat` line started: field 22 (clock ticks since boot; USER_HZ is 100 on
/// every Linux ABI) after the boot time `/proc/stat` gives.
fn started(stat: &str) -> Option<SystemTime> {
    // the comm in parentheses may hold spaces and parentheses: fields count from the last ')'
    let after = &stat[stat.rfind(')')? + 1..];
    let ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let btime: u64 = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok())?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(btime) + Duration::from_millis(ticks * 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_temporaries() {
        let p = ".t.oomtrace.";
        assert_eq!(owner(".t.oomtrace.123.partial", p), Some(123));
        assert_eq!(owner(".t.oomtrace.123.state.partial", p), Some(123));
        assert_eq!(owner(".t.oomtrace.12x.partial", p), None);
        assert_eq!(owner(".t.oomtrace..partial", p), None);
        assert_eq!(owner(".u.oomtrace.1.partial", p), None);
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not_the_writer() {
        let me = std::process::id();
        assert!(!gone(me, Some(SystemTime::now())));
        // a file written long before this process started: its writer was another process with this pid
        assert!(gone(
            me,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1))
        ));
        assert!(gone(u32::MAX - 1, None));
    }
}

//! The oom_reaper's console lines, read by kernel version, and what the model makes of them (klog/reaper.rs,
//! model/victims.rs). Inputs are the seed corpus log (traces/seed-006-unable-to-reap.log, a real log) and lines
//! written to the formats of kernel-formats.md §1.6–§1.7 (`"oom_reaper: reaped process %d (%s), now
//! anon-rss:%lukB, file-rss:%lukB, shmem-rss:%lukB\n"`, `"oom_reaper: unable to reap pid:%d (%s)\n"`, 4.8's
//! `"oom_reaper: giving up pid:%d (%s)\n"`, `"oom killer %d (%s) has mm pinned by %d (%s)\n"`), behind a dump_stack
//! `CPU:` line naming the release, which is how the converter learns the version.

use oomreplay_core::klog::{Format, LogConverter};
use oomreplay_core::model::schema::kind_name;
use oomreplay_core::model::state::{f, T_ANOMALIES, T_MMS, T_TASKS, T_VICTIMS};
use oomreplay_core::model::{apply, Ev, Event, Key, State, Value};

fn convert(lines: &[&str]) -> Vec<Event> {
    let mut conv = LogConverter::new(1, Format::Auto);
    conv.sniff(lines);
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        conv.feed(i as i64 + 1, l, &mut out);
    }
    conv.finish(&mut out);
    out
}

fn replay(events: &[Event]) -> State {
    let mut s = State::new();
    for (seq, e) in events.iter().enumerate() {
        let mut e = e.clone();
        e.seq = Some(seq as i64);
        apply(&mut s, &Ev::of(&e)).expect("applies");
    }
    s
}

/// A 4.x/5.x report's CPU line for `release`, then the kill of 3001 and `reaper` lines.
fn report(release: &str, reaper: &[&str]) -> Vec<String> {
    let mut lines = vec![
        "[  100.000000] a.out invoked oom-killer: gfp_mask=0x14200ca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0".to_string(),
        format!("[  100.000001] CPU: 1 PID: 3001 Comm: a.out Not tainted {release} #1"),
        "[  100.000002] Killed process 3001 (a.out) total-vm:4268108kB, anon-rss:2754236kB, file-rss:0kB, shmem-rss:0kB".to_string(),
    ];
    lines.extend(reaper.iter().map(|s| s.to_string()));
    lines
}

fn run(release: &str, reaper: &[&str]) -> (Vec<Event>, State) {
    let lines = report(release, reaper);
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let events = convert(&refs);
    let state = replay(&events);
    (events, state)
}

/// (kind, flag) of every flag event of a reaper line (not the kill's TIF_MEMDIE), in order.
fn flags(events: &[Event]) -> Vec<(&'static str, String)> {
    events
        .iter()
        .filter(|e| kind_name(e.kind).starts_with("flag_"))
        .filter(|e| {
            !(kind_name(e.kind) == "flag_set" && e.get("flag").as_str() == Some("TIF_MEMDIE"))
        })
        .map(|e| {
            assert!(
                e.is_inferred("flag") || kind_name(e.kind) == "flag_set",
                "a reaper flag is inferred"
            );
            (
                kind_name(e.kind),
                e.get("flag").as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn victim(s: &State, pid: i64) -> Vec<Value> {
    s.get(T_VICTIMS, &Key::Int(pid)).unwrap().unwrap().to_vec()
}

fn attempts(v: &[Value]) -> Vec<String> {
    v[f::victim::ATTEMPTS]
        .as_list()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn mm_flags(s: &State, mm: i64) -> Vec<String> {
    s.get(T_MMS, &Key::Int(mm))
        .unwrap()
        .map(|m| {
            m[f::mm::FLAGS]
                .as_list()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

const UNABLE: &str = "[  101.047000] oom_reaper: unable to reap pid:3001 (a.out)";
const REAPED: &str =
    "[  100.300000] oom_reaper: reaped process 3001 (a.out), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB";

#[test]
fn unable_to_reap_is_ten_failed_tries_on_the_seed_log() {
    // the real seed log: no CPU line, so the version is unknown and the cause of each failure is not claimed
    let text = include_str!("../../../traces/seed-006-unable-to-reap.log");
    let lines: Vec<&str> = text.lines().collect();
    let events = convert(&lines);
    let attempt = events
        .iter()
        .find(|e| kind_name(e.kind) == "reaper_attempt")
        .unwrap();
    assert_eq!(attempt.get("n"), &Value::Int(10));
    assert!(attempt.is_inferred("n") && attempt.is_inferred("outcome"));
    assert_eq!(attempt.get("outcome").as_str(), Some("failed"));
    let s = replay(&events);
    let v = victim(&s, 3163);
    assert_eq!(attempts(&v).len(), 10, "the line means ten tries");
    assert_eq!(v[f::victim::IMPLIED], Value::Int(9));
    assert_eq!(v[f::victim::OUTCOME].as_str(), Some("unable"));
    assert!(
        s.tables[T_ANOMALIES].is_empty(),
        "no 'the kernel stops at 10' from the converter's own output"
    );
    // no flag is claimed for a kernel the log does not name (4.6: none, 4.7-4.8: MMF_OOM_REAPED..., 4.9+: SKIP)
    assert!(flags(&events).is_empty());
}

#[test]
fn reaped_is_attempt_one_to_ten() {
    let (events, s) = run("4.14.0", &[REAPED]);
    let attempt = events
        .iter()
        .find(|e| kind_name(e.kind) == "reaper_attempt")
        .unwrap();
    assert!(attempt.get("n").is_nil() && attempt.is_inferred("n"));
    let v = victim(&s, 3001);
    assert_eq!(attempts(&v), ["reaped"]);
    assert_eq!(
        v[f::victim::UNSEEN],
        Value::Int(9),
        "up to nine silent failures"
    );
}

#[test]
fn the_flag_the_reaper_sets_by_version() {
    let set = |f: &str| ("flag_set", f.to_string());
    let clear = |f: &str| ("flag_clear", f.to_string());
    // 4.6 (__oom_reap_task): success clears TIF_MEMDIE and sets oom_score_adj -1000; giving up changes nothing
    let (ev, s) = run("4.6.2", &[REAPED]);
    assert_eq!(flags(&ev), [clear("TIF_MEMDIE")]);
    let t = s.get(T_TASKS, &Key::Int(3001)).unwrap().unwrap();
    assert_eq!(t[f::task::OOM_SCORE_ADJ], Value::Int(-1000));
    assert!(flags(&run("4.6.2", &[UNABLE]).0).is_empty());
    // 4.7 (oom_reap_task): MMF_OOM_REAPED on success, exit_oom_victim() after the loop either way
    assert_eq!(
        flags(&run("4.7.4", &[REAPED]).0),
        [set("MMF_OOM_REAPED"), clear("TIF_MEMDIE")]
    );
    assert_eq!(flags(&run("4.7.4", &[UNABLE]).0), [clear("TIF_MEMDIE")]);
    // 4.8: MMF_OOM_NOT_REAPABLE after the first give-up
    assert_eq!(
        flags(&run("4.8.15", &[UNABLE]).0),
        [set("MMF_OOM_NOT_REAPABLE"), clear("TIF_MEMDIE")]
    );
    // 4.9 on: MMF_OOM_SKIP at done: whatever the outcome
    for release in ["4.9.115", "4.14.177", "5.0.0-rc8+", "6.12.0"] {
        assert_eq!(flags(&run(release, &[REAPED]).0), [set("MMF_OOM_SKIP")]);
        let (ev, s) = run(release, &[UNABLE]);
        assert_eq!(flags(&ev), [set("MMF_OOM_SKIP")]);
        assert_eq!(mm_flags(&s, 3001), ["MMF_OOM_SKIP"]);
    }
    // the cause of a failed try: only the mmap trylock up to 4.18; an MMU notifier too from 4.19
    let outcome = |release: &str| {
        run(release, &[UNABLE])
            .0
            .iter()
            .find(|e| kind_name(e.kind) == "reaper_attempt")
            .map(|e| e.get("outcome").as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(outcome("4.18.20"), "lock_busy");
    assert_eq!(outcome("4.19.78"), "failed");
}

#[test]
fn giving_up_is_a_flag_after_a_second_round_on_4_8() {
    // 4.8.15 oom_reap_task: the second failed round for the mm prints "unable" then "giving up"
    let (ev, s) = run(
        "4.8.15",
        &[
            UNABLE,
            "[  103.000000] oom_reaper: unable to reap pid:3001 (a.out)",
            "[  103.000001] oom_reaper: giving up pid:3001 (a.out)",
        ],
    );
    let kinds: Vec<&str> = ev.iter().map(|e| kind_name(e.kind)).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "reaper_attempt").count(), 2);
    assert_eq!(kinds.iter().filter(|k| **k == "reaper_done").count(), 2);
    assert_eq!(
        flags(&ev).last().unwrap(),
        &("flag_set", "MMF_OOM_REAPED".to_string())
    );
    let v = victim(&s, 3001);
    assert_eq!(v[f::victim::ROUNDS], Value::Int(2));
    assert_eq!(attempts(&v).len(), 10, "ten per round, never twenty");
    assert!(
        s.tables[T_ANOMALIES].is_empty(),
        "{:?}",
        s.tables[T_ANOMALIES].values()
    );
}

#[test]
fn a_pinned_mm_is_skipped_without_the_reaper() {
    let pinned = "[  100.000003] oom killer 3001 (a.out) has mm pinned by 1 (systemd)";
    let (ev, s) = run("4.14.0", &[pinned]);
    assert_eq!(flags(&ev), [("flag_set", "MMF_OOM_SKIP".to_string())]);
    let skip = ev
        .iter()
        .find(|e| e.get("flag").as_str() == Some("MMF_OOM_SKIP"))
        .unwrap();
    assert!(!skip.is_inferred("flag"), "the line is the kernel's word");
    assert!(!ev.iter().any(|e| kind_name(e.kind).starts_with("reaper_")));
    assert_eq!(mm_flags(&s, 3001), ["MMF_OOM_SKIP"]);
    // 4.8 set MMF_OOM_REAPED there (renamed MMF_OOM_SKIP in 4.9)
    assert_eq!(
        flags(&run("4.8.15", &[pinned]).0),
        [("flag_set", "MMF_OOM_REAPED".to_string())]
    );
}

#[test]
fn a_reaper_line_without_its_kill_has_no_kill_time() {
    let events = convert(&[REAPED]);
    let s = replay(&events);
    let v = victim(&s, 3001);
    assert!(v[f::victim::KILLED_SEQ].is_nil() && v[f::victim::KILLED_TS].is_nil());
}

#[test]
fn the_repeated_rounds_of_a_4_6_era_log() {
    // corpus 005 (linux-next-20160513): the same victim re-queued, "unable" 43 times: 43 rounds of ten
    let mut lines = vec![
        "[  351.659127] Killed process 5652 (tgid=5398) total-vm:6348kB, anon-rss:1116kB, file-rss:12kB, shmem-rss:0kB".to_string(),
    ];
    for i in 0..43 {
        lines.push(format!(
            "[  {}.000000] oom_reaper: unable to reap pid:5652 (tgid=5398)",
            352 + 2 * i
        ));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let s = replay(&convert(&refs));
    let v = victim(&s, 5652);
    assert_eq!(v[f::victim::ROUNDS], Value::Int(43));
    assert_eq!(attempts(&v).len(), 10);
    assert!(s.tables[T_ANOMALIES].is_empty());
}

#[test]
fn an_exiting_victim_is_a_skipped_candidate() {
    // 5.10 -> 6.x __oom_kill_process: `"%s: OOM victim %d (%s) is already exiting. Skip killing the task\n"`,
    // printed when find_lock_task_mm() finds no mm, and it returns: no mark_oom_victim, no TIF_MEMDIE
    let events = convert(&[
        "[  100.000002] Out of memory: OOM victim 3001 (a.out) is already exiting. Skip killing the task",
    ]);
    assert!(events
        .iter()
        .all(|e| !matches!(kind_name(e.kind), "oom_victim" | "oom_kill" | "flag_set")));
    let s = replay(&events);
    assert!(s.get(T_VICTIMS, &Key::Int(3001)).unwrap().is_none());
}

#[test]
fn a_global_oom_is_not_in_the_victims_memcg() {
    // ≥ 5.0 dump_oom_summary: `,global_oom` for a global OOM, `,task_memcg=` is only where the victim lives
    let events = convert(&[
        "[  100.000001] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/app.service,task=a.out,pid=3001,uid=0",
        "[  100.000002] Out of memory: Killed process 3001 (a.out) total-vm:4268108kB, anon-rss:2754236kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:5000kB oom_score_adj:0",
    ]);
    let kill = events
        .iter()
        .find(|e| kind_name(e.kind) == "oom_kill")
        .unwrap();
    assert!(kill.get("memcg").is_nil());
    assert_eq!(
        kill.get("task_memcg").as_str(),
        Some("/system.slice/app.service")
    );
    assert_eq!(kill.get("constraint").as_str(), Some("CONSTRAINT_NONE"));
}

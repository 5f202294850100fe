//! The kernel-log converter on small hand-written lines of each form the corpus holds: every prefix, each family,
//! the report state machine, the bulk path's runs; and a property test of the tokenizer (no panic, every line
//! accounted for). `tests/compare_klog.py` checks the same against Python on the corpus itself.

use oomreplay_core::klog::families::*;
use oomreplay_core::klog::{split_prefix, Clock, Format, Item, LogConverter};
use oomreplay_core::model::schema::kind_name;
use oomreplay_core::model::{Event, Value};
use proptest::prelude::*;

const S: i64 = 1_000_000_000;

fn p(line: &str, fmt: Format) -> (String, Option<i64>, Option<i64>, bool, bool) {
    let p = split_prefix(line, fmt);
    (
        p.text.into_owned(),
        p.mono_ns,
        p.wall_ns,
        p.kernel,
        p.yearless,
    )
}

fn text(line: &str) -> String {
    split_prefix(line, Format::Auto).text.into_owned()
}

#[test]
fn printk_stamps_and_caller_ids() {
    assert_eq!(
        p("[  493.791708] Killed process 3163 (a.out)", Format::Auto),
        (
            "Killed process 3163 (a.out)".into(),
            Some(493_791_708_000),
            None,
            true,
            false
        )
    );
    assert_eq!(p("[    1.5] x", Format::Auto).1, Some(S + S / 2));
    assert_eq!(
        p("[ 12.000001] [T123] msg", Format::Auto),
        ("msg".into(), Some(12 * S + 1000), None, true, false)
    );
    assert_eq!(text("[ 12.000001][    C1] msg"), "msg");
    // a caller id with no stamp before it: no dmesg prefix, the line stays whole
    assert_eq!(text("[T42] only a caller id"), "[T42] only a caller id");
    // a stamp only dmesg-like formats read
    assert_eq!(p("[ 12.000001] msg", Format::Syslog).1, None);
    assert_eq!(p("[ 12.000001] msg", Format::Plain).0, "[ 12.000001] msg");
}

#[test]
fn dmesg_t_wall_times() {
    let (t, mono, wall, kernel, yearless) = p(
        "[Thu Apr  2 15:52:54 2020] a.out invoked oom-killer:",
        Format::Auto,
    );
    assert_eq!(
        (t.as_str(), mono, wall, kernel, yearless),
        (
            "a.out invoked oom-killer:",
            None,
            Some(1_585_842_774 * S),
            true,
            false
        )
    );
    assert_eq!(
        p("[Apr  2 15:52:54,25 2020] x", Format::Dmesg).2,
        Some(1_585_842_774 * S + S / 4)
    );
    assert_eq!(
        p("[Thu Xyz  2 15:52:54 2020] x", Format::Auto).2,
        None,
        "no month: the line stays whole"
    );
    assert_eq!(p("[Mo Mär  2 15:52:54 2020] x", Format::Auto).0, "x");
}

#[test]
fn syslog_rfc3164_and_journal_short() {
    let (t, mono, wall, kernel, yearless) = p(
        "Nov 27 10:00:00 host kernel: [    5.000000] usb 1-1: new device",
        Format::Auto,
    );
    assert_eq!(
        (t.as_str(), mono, kernel, yearless),
        ("usb 1-1: new device", Some(5 * S), true, true)
    );
    assert_eq!(wall, Some(975_319_200 * S)); // 2000-11-27 10:00:00 UTC
                                             // another program's line is text, never parsed
    assert_eq!(
        p(
            "Nov 27 10:00:01 host dockerd[123]: oom in a daemon",
            Format::Auto
        ),
        (
            "oom in a daemon".into(),
            None,
            Some(975_319_201 * S),
            false,
            true
        )
    );
    assert!(
        !p("Nov 27 10:00:01 host kernel[12]: x", Format::Auto).3,
        "the kernel's tag with a pid: not the kernel"
    );
    // journalctl -o short: zero-padded day, no stamp
    assert_eq!(
        p(
            "Mar 01 10:00:00 myhost kernel: Out of memory: Killed process 1 (x)",
            Format::Journal
        )
        .0,
        "Out of memory: Killed process 1 (x)"
    );
    assert_eq!(
        p("Sept  1 00:00:00.250 h kernel: x", Format::Syslog)
            .2
            .map(|w| w % S),
        Some(S / 4)
    );
    assert_eq!(
        text("kernel: [  1.000000] bare kernel prefix"),
        "bare kernel prefix"
    );
}

#[test]
fn syslog_iso_and_rfc5424_like() {
    let (t, _, wall, kernel, yearless) = p(
        "2024-03-01T10:00:00.5+01:00 host kernel: [ 2.000000] msg",
        Format::Auto,
    );
    assert_eq!((t.as_str(), kernel, yearless), ("msg", true, false));
    assert_eq!(wall, Some(1_709_283_600 * S + S / 2));
    assert_eq!(
        p("2024-03-01 10:00:00Z host kernel: msg", Format::Syslog).2,
        Some(1_709_287_200 * S)
    );
    assert!(!p("2024-03-01T10:00:00Z host systemd[1]: msg", Format::Auto).3);
}

#[test]
fn journal_monotonic_json_and_kmsg() {
    assert_eq!(
        p("[    5.000000] myhost kernel: msg", Format::Journal),
        ("msg".into(), Some(5 * S), None, true, false)
    );
    let (t, mono, wall, kernel, _) = p(
        r#"{"MESSAGE": "Out of memory: Killed process 7 (x)", "__MONOTONIC_TIMESTAMP": "5000000", "__REALTIME_TIMESTAMP": "1700000000000000", "_TRANSPORT": "kernel"}"#,
        Format::Auto,
    );
    assert_eq!(
        (t.as_str(), mono, wall, kernel),
        (
            "Out of memory: Killed process 7 (x)",
            Some(5 * S),
            Some(1_700_000_000 * S),
            true
        )
    );
    assert_eq!(
        p(
            r#"{"MESSAGE": [104, 105], "_TRANSPORT": "stdout"}"#,
            Format::Journal
        )
        .0,
        "hi"
    );
    assert!(
        !p(
            r#"{"MESSAGE": "x", "SYSLOG_IDENTIFIER": "systemd"}"#,
            Format::Auto
        )
        .3
    );
    assert_eq!(
        p(
            "6,1234,5000000,-;oom_reaper: reaped process 1 (x)",
            Format::Auto
        ),
        (
            "oom_reaper: reaped process 1 (x)".into(),
            Some(5 * S),
            None,
            true,
            false
        )
    );
    assert_eq!(
        p("6,1234,5000000,-;x", Format::Syslog).0,
        "6,1234,5000000,-;x"
    );
}

#[test]
fn pasted_forms_quoted_numbered_level_indented_logcat() {
    assert_eq!(text("> [  5.000000] quoted"), "quoted");
    assert_eq!(text(">> >\t[  5.000000] quoted twice"), "quoted twice");
    assert_eq!(text("  1 [57539.949044] numbered"), "numbered");
    assert_eq!(
        text("12: Nov 27 10:00:00 h kernel: numbered syslog"),
        "numbered syslog"
    );
    assert_eq!(text("<6>[  5.000000] level"), "level");
    assert_eq!(
        p("<4>[  5.000000] level", Format::Syslog).0,
        "<4>[  5.000000] level"
    );
    // indentation alone is no prefix: the line stays whole (the converter strips the message)
    assert_eq!(
        text("    [  5.000000] indented"),
        "    [  5.000000] indented"
    );
    let (t, _, wall, kernel, yearless) = p(
        "03-17 10:00:01.123  1234  1240 I lowmemorykiller: Kill 'x' (5)",
        Format::Auto,
    );
    assert_eq!(
        (t.as_str(), kernel, yearless),
        ("lowmemorykiller: Kill 'x' (5)", true, true)
    );
    assert!(wall.is_some());
    assert!(
        !p(
            "03-17 10:00:01.123  1234  1240 I ActivityManager: Start proc",
            Format::Logcat
        )
        .3
    );
}

#[test]
fn oom_header_cpu_and_kill_lines() {
    let f = invoke("oom02:4585 invoked oom-killer: gfp_mask=0x16080c0(GFP_KERNEL|__GFP_ZERO), nodemask=1, order=0, \
                    oom_score_adj=0").unwrap().unwrap();
    assert_eq!(
        (f.comm, f.pid, f.gfp, f.order, f.nodemask),
        (
            "oom02",
            Some(4585),
            Some("0x16080c0(GFP_KERNEL|__GFP_ZERO)"),
            Some(0),
            Some("1")
        )
    );
    let f = invoke("apt-check invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0")
        .unwrap()
        .unwrap();
    assert_eq!((f.gfp, f.oom_score_adj), (Some("0x201da"), None));
    let w = cpu_line("CPU: 0 UID: 0 PID: 5279 Comm: oomr-mlock Not tainted 6.18.44-fc-v669 #1")
        .unwrap()
        .unwrap();
    assert_eq!(
        (w.pid, w.comm, w.kernel),
        (5279, "oomr-mlock", Some("6.18.44-fc-v669"))
    );
    let w = cpu_line("Pid: 1234, comm: apt-check Not tainted 2.6.30-1-686 #1")
        .unwrap()
        .unwrap();
    assert_eq!((w.pid, w.kernel), (1234, Some("2.6.30-1-686")));
    let c = chosen("Out of memory: Kill process 3163 (a.out) score 739 or sacrifice child")
        .unwrap()
        .unwrap();
    assert_eq!((c.pid, c.points), (3163, 739));
    let k = killed(
        "Memory cgroup out of memory: Killed process 42 (grow) total-vm:10kB, anon-rss:8kB, \
                    file-rss:1kB, shmem-rss:0kB, UID:0 pgtables:4kB oom_score_adj:0",
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (k.pid, k.comm, k.message, k.uid, k.oom_score_adj),
        (
            42,
            Some("grow"),
            Some("Memory cgroup out of memory"),
            Some(0),
            Some(0)
        )
    );
    assert_eq!(k.kb.len(), 5);
    let k = killed("Out of Memory: Killed process 1234 (monster).")
        .unwrap()
        .unwrap();
    assert_eq!((k.pid, k.comm), (1234, Some("monster")));
    assert_eq!(
        killed("Out of Memory: Killed process 1234")
            .unwrap()
            .unwrap()
            .comm,
        None
    );
    assert_eq!(
        sharing("Kill process 12 (a b) sharing same memory").unwrap(),
        Some((12, "a b"))
    );
    let r = reaper(
        "oom_reaper: reaped process 3163 (a.out), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
    )
    .unwrap()
    .unwrap();
    assert!(r.reaped && r.kb.len() == 3);
    assert!(
        !reaper("oom_reaper: unable to reap pid:3163 (a.out)")
            .unwrap()
            .unwrap()
            .reaped
    );
    assert_eq!(
        reaper("oom_reaper: giving up pid:7").unwrap().unwrap().comm,
        None
    );
    assert_eq!(
        ending("Out of memory and no killable processes...")
            .unwrap()
            .reason,
        "no_killable"
    );
    assert_eq!(
        summary(
            "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),global_oom,task=x,pid=1,uid=0"
        )
        .unwrap()
        .pid,
        Some(1)
    );
}

#[test]
fn memory_lock_and_task_lines() {
    assert_eq!(
        zone("DMA free:15908kB min:268kB low:332kB high:400kB")
            .unwrap()
            .unwrap()
            .zone,
        "DMA"
    );
    assert_eq!(
        lowmem_reserve("lowmem_reserve[]: 0 2951 3836 3836")
            .unwrap()
            .unwrap(),
        [0, 2951, 3836, 3836]
    );
    assert_eq!(
        counters("active_anon:3104 inactive_anon:7316")
            .unwrap()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        usage("memory: usage 102400kB, limit 102400kB, failcnt 63")
            .unwrap()
            .unwrap()
            .limit,
        Some(102400)
    );
    assert_eq!(
        stats_for("Memory cgroup stats for /docker/abc:"),
        Some("/docker/abc")
    );
    assert_eq!(
        limited_memcg("Task in /docker/abc killed as a result of limit of /docker/abc"),
        Some("/docker/abc")
    );
    assert!(alloc(
        "khugepaged: page allocation stalls for 10036ms, order:9, mode:0x4742ca(GFP_TRANSHUGE)"
    )
    .unwrap()
    .is_some());
    assert_eq!(
        holder("3 locks held by kworker/1:2/123:").unwrap(),
        Some((123, "kworker/1:2"))
    );
    assert_eq!(
        held_lock("#0:  (&mm->mmap_sem){++++}, at: [<c10e8a4e>] __do_page_fault+0x1/0x2")
            .unwrap()
            .unwrap()
            .lock,
        "&mm->mmap_sem"
    );
    assert_eq!(
        hung("INFO: task khugepaged:40 blocked for more than 120 seconds.").unwrap(),
        Some((40, "khugepaged"))
    );
    assert_eq!(
        task_line(
            "task:a.out           state:D stack:0     pid: 2202 ppid:  2159 flags:0x00004000"
        )
        .unwrap()
        .unwrap()
        .pid,
        2202
    );
    assert_eq!(
        lmk_kill("lowmemorykiller: Killing 'd.process.acore' (1491), adj 1000,")
            .unwrap()
            .unwrap()
            .pid,
        1491
    );
    assert_eq!(
        victim_without_kill("OOM victim 7 (x) is already exiting. Skip killing the task")
            .unwrap()
            .unwrap()
            .pid,
        7
    );
    assert_eq!(
        stack_line("[<ffffffff8119e5e2>] out_of_memory+0x2e2/0x340"),
        Some("out_of_memory")
    );
    let cols = table_header(
        "[ pid ]   uid  tgid total_vm      rss nr_ptes nr_pmds swapents oom_score_adj name",
    )
    .unwrap();
    assert_eq!(table_row("[  708]     0   708    11124      143      25       3        0         -1000 systemd-udevd",
                         &cols).unwrap().unwrap().comm,
               Some("systemd-udevd"));
}

fn convert(lines: &[&str], fmt: Format) -> (LogConverter, Vec<Event>, Vec<(i64, usize)>) {
    let mut conv = LogConverter::new(1, fmt);
    conv.sniff(lines);
    let block: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let mut items = Vec::new();
    conv.feed_block(1, block.as_bytes(), &mut items);
    let (mut events, mut runs) = (Vec::new(), Vec::new());
    for item in items {
        match item {
            Item::Event(e) => events.push(e),
            Item::Run(r) => {
                runs.push((r.first_line, r.len()));
                events.extend(r.events());
            }
        }
    }
    conv.finish(&mut events);
    (conv, events, runs)
}

fn kinds(events: &[Event]) -> Vec<&'static str> {
    events.iter().map(|e| kind_name(e.kind)).collect()
}

#[test]
fn a_report_is_tied_together() {
    let lines = [
        "[   10.000000] eth0: link up",
        "[   10.000001] eth0: chatter",
        "[   11.000000] a.out invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0",
        "[   11.000001] a.out cpuset=/ mems_allowed=0",
        "[   11.000002] CPU: 1 PID: 4242 Comm: a.out Not tainted 4.1.0 #1",
        "[   11.000003] Call Trace:",
        "[   11.000004]  [<ffffffff8100>] dump_stack+0x19/0x1b",
        "[   11.000005]  [<ffffffff8101>] ? printk+0x1/0x2",
        "[   11.000006]  [<ffffffff8102>] out_of_memory+0x2/0x3",
        "[   11.000007] Mem-Info:",
        "[   11.000008] active_anon:100 inactive_anon:2 free:7",
        "[   11.000009] Node 0 Normal free:1000kB min:800kB low:1000kB high:1200kB managed:9000kB",
        "[   11.000010] lowmem_reserve[]: 0 0 0",
        "[   11.000011] [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name",
        "[   11.000012] [ 4242]     0  4242   100000    90000     200        0             0 a.out",
        "[   11.000013] Out of memory: Kill process 4242 (a.out) score 900 or sacrifice child",
        "[   11.000014] Killed process 4242 (a.out) total-vm:400000kB, anon-rss:360000kB, file-rss:0kB",
        "[   11.000015] oom_reaper: reaped process 4242 (a.out), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
        "[   12.000000] chatter after",
    ];
    let (conv, events, runs) = convert(&lines, Format::Auto);
    assert_eq!(
        kinds(&events),
        [
            "log",
            "log",
            "oom_invoke",
            "log",
            "log",
            "log",
            "log",
            "log",
            "log",
            "log",
            "log",
            "meminfo",
            "zone",
            "zone",
            "log",
            "oom_candidate",
            "log",
            "oom_kill",
            "flag_set",
            "reaper_attempt",
            "reaper_done", // 4.1 names no reaper era (a backport?): no flag is claimed (klog/reaper.rs)
            "log"
        ]
    );
    let invoke = &events[2];
    assert_eq!(invoke.pid, Some(4242));
    assert_eq!(invoke.get("gfp").as_str(), Some("0xd0(GFP_KERNEL)"));
    assert!(invoke.is_inferred("gfp"));
    let stack: Vec<&str> = invoke
        .get("stack")
        .as_list()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(stack, ["dump_stack", "out_of_memory"]);
    assert_eq!(events[11].get("active_anon_kb"), &Value::Int(400));
    assert_eq!(
        events[13]
            .get("lowmem_reserve_kb")
            .as_list()
            .map(<[Value]>::len),
        Some(3)
    );
    assert_eq!(events[15].get("pgtables_bytes"), &Value::Int(200 * 4096));
    assert_eq!(events[17].get("points"), &Value::Int(900));
    assert_eq!(runs, [(1, 2), (19, 1)]);
    assert_eq!(
        (conv.clock, conv.kernel.as_deref()),
        (Some(Clock::Printk), Some("4.1.0"))
    );
    assert_eq!(
        conv.counts().iter().map(|(_, n)| n).sum::<u64>(),
        events.len() as u64
    );
}

#[test]
fn memcg_lockdep_and_stall_reports() {
    let lines = [
        "[    5.000000] memory: usage 102400kB, limit 102400kB, failcnt 63",
        "[    5.000001] swap: usage 0kB, limit 9007199254740988kB, failcnt 0",
        "[    5.000002] Memory cgroup stats for /docker/abc:",
        "[    6.000000] 2 locks held by a.out/2202:",
        "[    6.000001]  #0:  (&mm->mmap_sem){++++}, at: [<c10e8a4e>] __do_page_fault+0x1/0x2",
        "[    6.000002]  #1: ffff8880 (&type->i_mutex_dir_key#3){++++}-{3:3}, at: lookup_slow+0x2a/0x50",
        "[    6.000003]  #x: not a lock line",
        "[    7.000000] khugepaged: page allocation stalls for 10036ms, order:9, mode:0x4742ca(GFP_TRANSHUGE)",
        "[    7.000001] CPU: 0 PID: 40 Comm: khugepaged Not tainted 4.12.3 #1",
        "[    8.000000] INFO: task khugepaged:40 blocked for more than 120 seconds.",
        "[    9.000000] Out of memory: Killed process 12",
        "[    9.000001] (wrapped comm).",
    ];
    let (conv, events, _) = convert(&lines, Format::Auto);
    assert_eq!(
        kinds(&events),
        [
            "memcg",
            "log",
            "log",
            "task",
            "lock_held",
            "lock_held",
            "log",
            "alloc",
            "log",
            "task_state",
            "oom_kill",
            "flag_set",
            "log"
        ]
    );
    assert_eq!(events[0].get("path").as_str(), Some("/docker/abc"));
    assert_eq!(events[5].get("comm").as_str(), Some("a.out"));
    assert_eq!(events[7].pid, Some(40));
    assert_eq!(events[10].get("comm").as_str(), Some("wrapped comm"));
    assert_eq!(conv.unparsed_count, 0);
}

#[test]
fn wall_clock_logs_roll_the_year_and_clamp() {
    let lines = [
        "Dec 31 23:59:59 h kernel: a",
        "Jan  1 00:00:01 h kernel: b",
        "Jan  1 00:00:00 h kernel: back",
    ];
    let (conv, events, runs) = convert(&lines, Format::Auto);
    assert_eq!(conv.clock, Some(Clock::Wall));
    assert!(
        runs.is_empty(),
        "the bulk path reads printk-stamped logs only"
    );
    assert_eq!(events[1].ts_ns - events[0].ts_ns, 2 * S);
    assert_eq!(
        events[2].ts_ns, events[1].ts_ns,
        "a time going back is clamped"
    );
}

/// A line made of pieces of the forms the converter reads, cut and joined at random.
fn line() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "[  493.787997] ",
        "[    1.5] ",
        "[T12] ",
        "<6>",
        "> ",
        "  12: ",
        "Nov 27 10:00:00 host kernel: ",
        "Nov 27 10:00:00 host dockerd[1]: ",
        "2024-03-01T10:00:00Z h kernel: ",
        "[Thu Apr  2 15:52:54 2020] ",
        "6,1,5000000,-;",
        "03-17 10:00:01.123  1  2 I lmkd: ",
        "{\"MESSAGE\": \"x\\ny\"}",
        "a.out invoked oom-killer: ",
        "gfp_mask=0xd0, order=0, ",
        "oom_score_adj=-1000",
        "CPU: 1 PID: 42 Comm: a.out Not tainted 6.1 #1",
        "Call Trace:",
        " dump_stack+0x1/0x2",
        "Mem-Info:",
        "active_anon:1 free:2",
        "Node 0 Normal free:1kB min:1kB",
        "lowmem_reserve[]: 0 1",
        "[ pid ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
        "[   42]  0 42 1 1 1 0 0 a.out",
        "Killed process 42 (a.out) total-vm:1kB",
        "Kill process 42 (a) score 1 or sacrifice child",
        "oom_reaper: reaped process 42 (a.out), now anon-rss:0kB",
        "oom-kill:constraint=x,pid=42",
        "memory: usage 1kB, limit 2kB, failcnt 3",
        "swap: usage 1kB",
        "Memory cgroup stats for /a:",
        "1 lock held by a/42:",
        " #0: (l){+.+.}, at: f+0x1/0x2",
        "x: page allocation failure: order:0, mode:0x20",
        "cpuset=/ mems_allowed=0",
        "INFO: task a:42 blocked for more than 1 seconds.",
        "(comm).",
        "Kernel panic - not syncing: Out of memory and no killable processes...",
        "9999999999999999999999",
        "\u{2003}",
        "\u{663}",
        "\u{fffd}",
        "\t",
        "é",
        ":",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        "\r",
        "\0",
        " ",
    ]);
    prop::collection::vec(pieces, 0..8).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    /// No input makes the tokenizer panic, and every line is accounted for: by exactly one `log` event, or by
    /// structured events and no `log` event (a Mem-Info summary's event aside, which points at its last counter
    /// line);
    /// the events come in line order, and `feed_block` and `feed` line by line agree.
    #[test]
    fn every_line_is_accounted_for(lines in prop::collection::vec(line(), 0..60), fmt in 0usize..7) {
        let fmt = [Format::Auto, Format::Dmesg, Format::Syslog, Format::Journal, Format::Kmsg, Format::Logcat,
                   Format::Plain][fmt];
        // a block's lines hold no newline (the reader splits on them) and end with no CR (it would go)
        let lines: Vec<String> = lines
            .iter()
            .map(|l| l.replace('\n', " "))
            .map(|l| l.trim_end_matches('\r').to_owned())
            .collect();
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let (_, events, _) = convert(&refs, fmt);
        let mut logs = vec![0usize; refs.len() + 1];
        let mut structured = vec![0usize; refs.len() + 1];
        let mut last = 0;
        for e in &events {
            let (file, line) = e.src.expect("every event has its source line");
            prop_assert_eq!(file, 1);
            prop_assert!(line >= 1 && line as usize <= refs.len());
            prop_assert!(line >= last, "events out of line order");
            last = line;
            match kind_name(e.kind) {
                "log" => logs[line as usize] += 1,
                "meminfo" => {} // the summary's event, at its last counter line (which keeps its log event)
                _ => structured[line as usize] += 1,
            }
        }
        for n in 1..=refs.len() {
            prop_assert!((logs[n] == 1 && structured[n] == 0) || (logs[n] == 0 && structured[n] > 0),
                         "line {} ({:?}): {} log, {} structured events", n, refs[n - 1], logs[n], structured[n]);
        }
        let mut one = LogConverter::new(1, fmt);
        one.sniff(&refs);
        let mut each = Vec::new();
        for (i, l) in refs.iter().enumerate() {
            one.feed(i as i64 + 1, l, &mut each);
        }
        one.finish(&mut each);
        prop_assert_eq!(each, events);
    }

    /// Arbitrary bytes: no panic, and the line count is the reader's.
    #[test]
    fn arbitrary_bytes_never_panic(data in prop::collection::vec(any::<u8>(), 0..2000)) {
        let mut data = data;
        data.push(b'\n');
        let mut conv = LogConverter::new(0, Format::Auto);
        conv.sniff(&String::from_utf8_lossy(&data).split('\n').collect::<Vec<_>>());
        let mut items = Vec::new();
        let n = conv.feed_block(1, &data, &mut items);
        prop_assert_eq!(n, data.iter().filter(|&&b| b == b'\n').count());
        let mut tail = Vec::new();
        conv.finish(&mut tail);
    }
}

/// A hold started over another keeps both: two warn_alloc lines with `cpuset=` on them, one after the other, as
/// ≥4.13 kernels print them, are two allocation failures in line order (Python's converter lost the first).
#[test]
fn a_hold_started_over_another_keeps_both() {
    let lines = [
        "[    1.000000] a: page allocation failure: order:0, mode:0x20(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0",
        "[    1.000001] b: page allocation failure: order:0, mode:0x20(GFP_ATOMIC), nodemask=(null),cpuset=/,mems_allowed=0",
        "[    1.000002] x",
    ];
    let (_, events, _) = convert(&lines, Format::Auto);
    assert_eq!(kinds(&events), ["alloc", "alloc", "log"]);
    let srcs: Vec<_> = events.iter().map(|e| e.src).collect();
    assert_eq!(srcs, [Some((1, 1)), Some((1, 2)), Some((1, 3))]);
    assert_eq!(events[0].get("comm").as_str(), Some("a"));
}

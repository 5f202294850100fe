//! `klog_bench [REPORT [oom|chatter|kern]]`: the kernel-log converter's speed, in MB/s and lines/s, on two logs of about 100 MB
//! generated into /tmp (deterministic):
//!
//! - *OOM-dense*: a real corpus report (default: the full kdump dmesg of 004, 242 lines with its Mem-Info, zones,
//!   task table and lockdep dump) over and over, each copy's printk stamps shifted past the last;
//! - *chatter*: stamped chatter lines (device, filesystem, network and audit messages) with that report once in
//!   every 20 000 lines;
//! - *kern.log*: the chatter as rsyslog writes it, each kernel line after a syslog prefix, a daemon's between.
//!
//! Each is converted end to end as `convert` drives a log: `sniff` on the head, `feed_block` over 1 MiB blocks
//! of whole lines (the items go into a Vec emptied after each block), then `finish`. Release build:
//! `cargo run --release --example klog_bench -p oomreplay-core`. The naive baseline is timed on the Python side.

mod common;
use oomreplay_core::klog::{Format, Item, LogConverter, SNIFF_LINES};
use std::io::Write;
use std::time::Instant;

const DEFAULT: &str = "/work/shared/corpus/logs/004_kdump-udevd_5.0_full_dmesg.log";
const TARGET: usize = 100 << 20;

const CHATTER: &[&str] = &[
    "usb 1-1: new high-speed USB device number 3 using xhci_hcd",
    "EXT4-fs (sda1): mounted filesystem with ordered data mode. Opts: (null)",
    "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
    "audit: type=1400 audit(1700000000.123:42): apparmor=\"STATUS\" operation=\"profile_load\" name=\"/usr/bin/man\"",
    "e1000e 0000:00:19.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: Rx/Tx",
    "device-mapper: uevent: version 1.0.3",
    "nf_conntrack: default automatic helper assignment has been turned off for security reasons",
    "Bluetooth: hci0: Firmware revision 0.1 build 19 week 44 2021",
    "docker0: port 1(veth3a2b1c4) entered blocking state",
    "wlp3s0: authenticated",
    "systemd-journald[312]: Received client request to flush runtime journal.",
    "ata1.00: configured for UDMA/133",
    "sd 0:0:0:0: [sda] Write Protect is off",
    "random: crng init done",
    "NET: Registered PF_PACKET protocol family",
    "xhci_hcd 0000:00:14.0: xHCI Host Controller",
];

/// A line split around its printk stamp: what precedes it, the stamp in µs, what follows it.
struct Line {
    before: String,
    us: Option<u64>,
    after: String,
}

fn split(line: &str) -> Line {
    let stamp = (|| {
        let open = line.find('[')?;
        let close = open + line[open..].find(']')?;
        let (sec, frac) = line[open + 1..close].trim().split_once('.')?;
        let us = sec.parse::<u64>().ok()? * 1_000_000 + frac.parse::<u64>().ok()?;
        (frac.len() == 6).then_some((open, close, us))
    })();
    match stamp {
        Some((open, close, us)) => Line {
            before: line[..open].into(),
            us: Some(us),
            after: line[close + 1..].into(),
        },
        None => Line {
            before: line.into(),
            us: None,
            after: String::new(),
        },
    }
}

fn push(out: &mut Vec<u8>, l: &Line, shift: u64) {
    out.extend_from_slice(l.before.as_bytes());
    if let Some(us) = l.us {
        let us = us + shift;
        write!(out, "[{:5}.{:06}]", us / 1_000_000, us % 1_000_000).expect("vec");
    }
    out.extend_from_slice(l.after.as_bytes());
    out.push(b'\n');
}

/// The report over and over to `TARGET` bytes, each copy's stamps after the last's.
fn oom_dense(report: &[Line]) -> Vec<u8> {
    let first = report.iter().find_map(|l| l.us).unwrap_or(0);
    let last = report.iter().filter_map(|l| l.us).next_back().unwrap_or(0);
    let period = last - first + 1_000_000;
    let mut out = Vec::with_capacity(TARGET + (1 << 16));
    let mut k = 0;
    while out.len() < TARGET {
        for l in report {
            push(&mut out, l, k * period);
        }
        k += 1;
    }
    out
}

/// Chatter to `TARGET` bytes, the report once in every 20 000 lines; `syslog`: as kern.log.
fn chatter(report: &[Line], syslog: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(TARGET + (1 << 16));
    let (mut us, mut n) = (5_000_000u64, 0usize);
    while out.len() < TARGET {
        let prefix = |out: &mut Vec<u8>, n: usize| {
            if syslog {
                write!(
                    out,
                    "Nov 27 {:02}:{:02}:{:02} host kernel: ",
                    n / 3600 % 24,
                    n / 60 % 60,
                    n % 60
                )
                .expect("vec");
            }
        };
        if n % 20_000 == 19_999 {
            for l in report {
                prefix(&mut out, n);
                let first = report.iter().find_map(|l| l.us).unwrap_or(0);
                push(
                    &mut out,
                    &Line {
                        before: String::new(),
                        us: l.us.map(|u| u - first + us),
                        after: l.after.clone(),
                    },
                    0,
                );
            }
        } else {
            prefix(&mut out, n);
            writeln!(
                out,
                "[{:5}.{:06}] {}",
                us / 1_000_000,
                us % 1_000_000,
                CHATTER[n % CHATTER.len()]
            )
            .expect("vec");
            if syslog && n % 4 == 0 {
                writeln!(
                    out,
                    "Nov 27 {:02}:{:02}:{:02} host systemd[1]: Started Session {n} of user root.",
                    n / 3600 % 24,
                    n / 60 % 60,
                    n % 60
                )
                .expect("vec");
            }
        }
        us += 1_237;
        n += 1;
    }
    out
}

/// Converts `data` end to end: (lines, events, runs).
fn convert(data: &[u8]) -> (usize, u64, u64) {
    let mut conv = LogConverter::new(0, Format::Auto);
    let head: Vec<&str> = std::str::from_utf8(&data[..data.len().min(1 << 20)])
        .unwrap_or("")
        .lines()
        .take(SNIFF_LINES)
        .collect();
    conv.sniff(&head);
    let mut items = Vec::new();
    let (mut n, mut events, mut runs) = (1usize, 0u64, 0u64);
    for block in common::line_blocks(data) {
        n += conv.feed_block(n as i64, block, &mut items);
        for item in &items {
            match item {
                Item::Event(_) => events += 1,
                Item::Run(r) => {
                    runs += 1;
                    events += r.len() as u64;
                }
            }
        }
        items.clear();
    }
    let mut tail = Vec::new();
    conv.finish(&mut tail);
    (n - 1, events + tail.len() as u64, runs)
}

fn bench(name: &str, path: &str, data: &[u8]) {
    std::fs::write(path, data).unwrap_or_else(|e| panic!("{path}: {e}"));
    convert(&data[..data.len().min(8 << 20)]); // warm up
    let mut best = f64::MAX;
    let mut got = (0, 0, 0);
    for _ in 0..3 {
        let t = Instant::now();
        got = convert(data);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let (lines, events, runs) = got;
    let mb = data.len() as f64 / 1e6;
    println!("{name:<11} {path}: {mb:.1} MB, {lines} lines, {events} events ({runs} runs): {:.3} s, {:.0} MB/s, \
              {:.2} M lines/s (best of 3)",
             best, mb / best, lines as f64 / best / 1e6);
}

fn main() {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DEFAULT.to_string());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let report: Vec<Line> = text.lines().map(split).collect();
    println!("report: {path} ({} lines)", report.len());
    let only = std::env::args().nth(2).unwrap_or_default(); // a second argument picks one: oom, chatter, kern
    if only.is_empty() || only == "oom" {
        bench(
            "OOM-dense",
            "/tmp/klog_bench_oom_dense.log",
            &oom_dense(&report),
        );
    }
    if only.is_empty() || only == "chatter" {
        bench(
            "chatter",
            "/tmp/klog_bench_chatter.log",
            &chatter(&report, false),
        );
    }
    if only.is_empty() || only == "kern" {
        bench(
            "kern.log",
            "/tmp/klog_bench_kern.log",
            &chatter(&report, true),
        );
    }
}

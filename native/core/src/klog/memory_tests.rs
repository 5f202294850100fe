use super::*;

#[test]
fn meminfo_counters() {
    let c = counters("active_anon:3104 inactive_anon:7316 isolated_anon:0")
        .unwrap()
        .unwrap();
    assert_eq!(c[1], ("inactive_anon".into(), 7316));
    assert_eq!(
        counters("Active_anon:1").unwrap().unwrap()[0].0,
        "active_anon"
    );
    assert!(counters("Node 0 active_anon:12kB").unwrap().is_none());
    assert!(counters("a:1 ").unwrap().is_none());
    assert!(per_cpu("DMA32 per-cpu:") && per_cpu("CPU    0: hi:  186, btch:  31 usd:  0"));
}

#[test]
fn zones() {
    let z = zone(
        "Node 0 DMA32 free:2284kB boost:0kB min:2348kB low:2932kB high:3516kB present:3129216kB \
                  managed:2967180kB",
    )
    .unwrap()
    .unwrap();
    assert_eq!((z.node, z.zone, z.free_kb), (Some(0), "DMA32", 2284));
    assert_eq!(
        z.kb,
        [
            ("min_kb", 2348),
            ("low_kb", 2932),
            ("high_kb", 3516),
            ("managed_kb", 2967180)
        ]
    );
    let z = zone("Normal free:10kB min:1kB").unwrap().unwrap();
    assert_eq!((z.node, z.zone), (None, "Normal"));
    assert_eq!(
        lowmem_reserve("lowmem_reserve[]: 0 1935 1935 1935")
            .unwrap()
            .unwrap(),
        [0, 1935, 1935, 1935]
    );
    assert_eq!(
        lowmem_reserve("lowmem_reserve[]:").unwrap().unwrap(),
        Vec::<i64>::new()
    );
}

#[test]
fn memcg_lines() {
    let u = usage("memory+swap: usage 1024kB, limit 2048kB, failcnt 0")
        .unwrap()
        .unwrap();
    assert_eq!(
        (u.what, u.usage, u.limit, u.failcnt),
        ("memory+swap", 1024, Some(2048), Some(0))
    );
    let u = usage("memory: usage 5kB, failcnt 3").unwrap().unwrap();
    assert_eq!((u.limit, u.failcnt), (None, Some(3)));
    assert_eq!(
        limited_memcg("Task in /a killed as a result of limit of /b"),
        Some("/b")
    );
    assert_eq!(
        limited_memcg("Memory limit reached of cgroup /x"),
        Some("/x")
    );
    assert_eq!(
        stats_for("Memory cgroup stats for /docker/abc: cache:0KB"),
        Some("/docker/abc")
    );
}

#[test]
fn warn_alloc() {
    let a = alloc(
        "khugepaged: page allocation stalls for 10036ms, order:9, mode:0x4742ca(GFP_TRANSHUGE)",
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (a.comm, a.fail, a.order, a.gfp, a.duration_ns),
        (
            "khugepaged",
            false,
            Some(9),
            Some("0x4742ca(GFP_TRANSHUGE)"),
            Some(10_036_000_000)
        )
    );
    let a = alloc("kworker/0:1: page allocation failure: order:0, mode:0x20")
        .unwrap()
        .unwrap();
    assert_eq!((a.comm, a.fail, a.gfp), ("kworker/0:1", true, Some("0x20")));
}

//! The event vocabulary: every kind and its ordered fields, declared once.
//!
//! Kinds and field names are public API (converters write them, scripts read them); the order of a kind's fields
//! is its column order in the store. The Python package reads this table (`oomreplay._native.KINDS`) instead of
//! keeping its own.

/// kind -> ordered field names.
pub const KINDS: &[(&str, &[&str])] = &[
    // tasks
    ("task", &["tgid", "comm", "oom_score_adj"]),
    ("task_state", &["state", "site", "comm"]),
    ("task_exit", &["code", "comm"]),
    ("fork", &["child", "child_tgid", "comm"]),
    // locks; `lock` is the lock's name as the kernel prints it, `mm` optionally says whose mmap_lock it is
    ("lock_acquire", &["lock", "mode", "site", "mm"]),
    ("lock_contended", &["lock", "mode", "site", "mm"]),
    ("lock_release", &["lock", "mm"]),
    ("lock_held", &["lock", "mode", "site", "index", "comm"]),
    // flags on a task (TIF_*, PF_*) or on an mm (MMF_*)
    ("flag_set", &["flag", "target", "mm"]),
    ("flag_clear", &["flag", "target", "mm"]),
    // memory
    ("alloc", &["order", "gfp", "outcome", "duration_ns"]),
    (
        "zone",
        &[
            "node",
            "zone",
            "free_kb",
            "min_kb",
            "low_kb",
            "high_kb",
            "managed_kb",
            "lowmem_reserve_kb",
        ],
    ),
    ("memcg", &["path", "usage_kb", "limit_kb", "failcnt"]),
    ("rss", &["anon_kb", "file_kb", "shmem_kb"]),
    // the Mem-Info summary (show_free_areas), in kB; a counter the kernel does not print is absent
    (
        "meminfo",
        &[
            "free_kb",
            "free_pcp_kb",
            "free_cma_kb",
            "active_anon_kb",
            "inactive_anon_kb",
            "isolated_anon_kb",
            "active_file_kb",
            "inactive_file_kb",
            "isolated_file_kb",
            "unevictable_kb",
            "dirty_kb",
            "writeback_kb",
            "unstable_kb",
            "slab_reclaimable_kb",
            "slab_unreclaimable_kb",
            "slab_kb",
            "mapped_kb",
            "shmem_kb",
            "pagetables_kb",
            "sec_pagetables_kb",
            "bounce_kb",
            "kernel_misc_reclaimable_kb",
        ],
    ),
    // the OOM killer; for oom_kill / oom_victim / reaper_* the pid is the victim. stack: the reliable frames of
    // the report's Call Trace, innermost first
    (
        "oom_invoke",
        &[
            "gfp",
            "order",
            "oom_score_adj",
            "constraint",
            "memcg",
            "comm",
            "stack",
        ],
    ),
    (
        "oom_candidate",
        &[
            "tgid",
            "uid",
            "total_vm_pages",
            "rss_pages",
            "pgtables_bytes",
            "swapents",
            "oom_score_adj",
            "comm",
        ],
    ),
    // constraint and memcg come from the "oom-kill:" summary, printed after the header
    (
        "oom_kill",
        &[
            "comm",
            "points",
            "total_vm_kb",
            "anon_rss_kb",
            "file_rss_kb",
            "shmem_rss_kb",
            "uid",
            "pgtables_kb",
            "oom_score_adj",
            "memcg",
            "parent",
            "constraint",
        ],
    ),
    ("oom_victim", &["comm"]),
    // an invocation that ends without a kill; the pid is its invoker when known
    ("oom_end", &["outcome", "reason", "comm"]),
    // the OOM reaper
    ("reaper_wake", &["comm"]),
    ("reaper_attempt", &["n", "outcome", "comm"]),
    (
        "reaper_done",
        &[
            "outcome",
            "anon_rss_kb",
            "file_rss_kb",
            "shmem_rss_kb",
            "comm",
        ],
    ),
    // annotations and the rest
    ("note", &["text"]),
    ("mark", &["title", "note"]),
    ("log", &["text"]),
];

/// Kind ids: positions in `KINDS` (a test checks each against its name).
pub mod kind {
    pub const TASK: u8 = 0;
    pub const TASK_STATE: u8 = 1;
    pub const TASK_EXIT: u8 = 2;
    pub const FORK: u8 = 3;
    pub const LOCK_ACQUIRE: u8 = 4;
    pub const LOCK_CONTENDED: u8 = 5;
    pub const LOCK_RELEASE: u8 = 6;
    pub const LOCK_HELD: u8 = 7;
    pub const FLAG_SET: u8 = 8;
    pub const FLAG_CLEAR: u8 = 9;
    pub const ALLOC: u8 = 10;
    pub const ZONE: u8 = 11;
    pub const MEMCG: u8 = 12;
    pub const RSS: u8 = 13;
    pub const MEMINFO: u8 = 14;
    pub const OOM_INVOKE: u8 = 15;
    pub const OOM_CANDIDATE: u8 = 16;
    pub const OOM_KILL: u8 = 17;
    pub const OOM_VICTIM: u8 = 18;
    pub const OOM_END: u8 = 19;
    pub const REAPER_WAKE: u8 = 20;
    pub const REAPER_ATTEMPT: u8 = 21;
    pub const REAPER_DONE: u8 = 22;
    pub const NOTE: u8 = 23;
    pub const MARK: u8 = 24;
    pub const LOG: u8 = 25;
}

/// Values of enumerated fields; apply records anything else as an anomaly rather than failing.
pub const LOCK_MODES: &[&str] = &["r", "w"];
pub const ALLOC_OUTCOMES: &[&str] = &["ok", "fail", "stall"];
/// `lock_busy`: the mmap lock's read trylock failed; `notifier_busy`: an MMU notifier refused the non-blocking
/// invalidate (≥ 4.19, `__oom_reap_task_mm` returns false); `failed`: a failed try whose cause the trace does not
/// say (a log's "unable to reap" on ≥ 4.19 or an unknown kernel); `skipped`: nothing to reap (MMF_OOM_SKIP set).
pub const REAPER_ATTEMPT_OUTCOMES: &[&str] =
    &["reaped", "lock_busy", "skipped", "notifier_busy", "failed"];
pub const REAPER_DONE_OUTCOMES: &[&str] = &["reaped", "unable"];
/// How an OOM invocation ends without a kill: nothing it may kill, or a panic.
pub const OOM_END_OUTCOMES: &[&str] = &["no_killable", "panic"];
/// Why: the <=4.15 panic with no candidate, the >=4.19 "System is deadlocked on memory" panic, and panic_on_oom
/// set to 1 ("system-wide") or 2 ("compulsory").
pub const OOM_END_REASONS: &[&str] = &[
    "no_killable",
    "deadlocked",
    "panic_on_oom",
    "panic_on_oom_compulsory",
];

/// The reaper gives up after this many failed trylocks (mm/oom_kill.c, unchanged 4.6 -> 6.19).
pub const MAX_OOM_REAP_RETRIES: usize = 10;

/// Kinds at which the writer takes a keyframe of its own (a scene cut).
pub const SCENE_CUTS: &[u8] = &[
    kind::OOM_INVOKE,
    kind::OOM_KILL,
    kind::REAPER_ATTEMPT,
    kind::REAPER_DONE,
];

pub fn kind_id(name: &str) -> Option<u8> {
    KINDS.iter().position(|(k, _)| *k == name).map(|i| i as u8)
}

pub fn kind_name(id: u8) -> &'static str {
    KINDS[id as usize].0
}

pub fn fields_of(id: u8) -> &'static [&'static str] {
    KINDS[id as usize].1
}

/// The position of `field` among `kind`'s fields.
pub fn field_index(id: u8, field: &str) -> Option<usize> {
    fields_of(id).iter().position(|f| *f == field)
}

/// `"mm"` or `"task"`: explicit when the event says, otherwise by the kernel's naming (MMF_ = mm_struct).
pub fn flag_is_mm(flag: &str, target: Option<&str>) -> bool {
    match target {
        Some("mm") => true,
        Some("task") => false,
        _ => flag.starts_with("MMF_"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_ids_match_names() {
        let ids = [
            (kind::TASK, "task"),
            (kind::TASK_STATE, "task_state"),
            (kind::TASK_EXIT, "task_exit"),
            (kind::FORK, "fork"),
            (kind::LOCK_ACQUIRE, "lock_acquire"),
            (kind::LOCK_CONTENDED, "lock_contended"),
            (kind::LOCK_RELEASE, "lock_release"),
            (kind::LOCK_HELD, "lock_held"),
            (kind::FLAG_SET, "flag_set"),
            (kind::FLAG_CLEAR, "flag_clear"),
            (kind::ALLOC, "alloc"),
            (kind::ZONE, "zone"),
            (kind::MEMCG, "memcg"),
            (kind::RSS, "rss"),
            (kind::MEMINFO, "meminfo"),
            (kind::OOM_INVOKE, "oom_invoke"),
            (kind::OOM_CANDIDATE, "oom_candidate"),
            (kind::OOM_KILL, "oom_kill"),
            (kind::OOM_VICTIM, "oom_victim"),
            (kind::OOM_END, "oom_end"),
            (kind::REAPER_WAKE, "reaper_wake"),
            (kind::REAPER_ATTEMPT, "reaper_attempt"),
            (kind::REAPER_DONE, "reaper_done"),
            (kind::NOTE, "note"),
            (kind::MARK, "mark"),
            (kind::LOG, "log"),
        ];
        assert_eq!(ids.len(), KINDS.len());
        for (id, name) in ids {
            assert_eq!(kind_name(id), name);
            assert_eq!(kind_id(name), Some(id));
        }
    }
}

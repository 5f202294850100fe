//! What the machine looked like at one instant: tasks, mms, locks, zones, memcgs, the Mem-Info summary, OOM
//! invocations, victims and anomalies, each a paged `Table` of positional records.
//!
//! The record layouts (field names, order, defaults) are declared here once; the Python face builds its
//! NamedTuples from `RECORDS`, and the store writes records as these arrays.

use std::sync::Arc;

use super::table::{Key, Paging, Rec, Table};
use super::value::Value;
use crate::error::Result;

/// A record type: its name, its fields in order, and the default of each trailing field (`None` when the
/// field has no default and must be given).
pub struct RecordType {
    pub name: &'static str,
    pub fields: &'static [&'static str],
    /// How many leading fields have no default; the rest default to `default_of`.
    pub required: usize,
}

impl RecordType {
    /// The default of field `i` (a record written before a field was added takes it).
    pub fn default_of(&self, i: usize) -> Value {
        match (self.name, self.fields[i]) {
            (
                _,
                "flags" | "inferred_flags" | "lowmem_reserve_kb" | "counters" | "victims"
                | "attempts" | "holders" | "waiters",
            ) => Value::List(Arc::from(Vec::new())),
            (_, "exited" | "inferred" | "marked") => Value::Bool(false),
            ("Victim", "rounds" | "unseen" | "implied") => Value::Int(0),
            ("OomInvocation", "candidates") => Value::Int(0),
            _ => Value::Nil,
        }
    }
}

pub const TASK: RecordType = RecordType {
    name: "Task",
    fields: &[
        "pid",
        "tgid",
        "comm",
        "state",
        "site",
        "flags",
        "inferred_flags",
        "anon_kb",
        "file_kb",
        "shmem_kb",
        "oom_score_adj",
        "alloc",
        "exited",
        "since",
    ],
    required: 1,
};
pub const MM: RecordType = RecordType {
    name: "Mm",
    fields: &["id", "flags", "inferred_flags"],
    required: 1,
};
pub const HOLDER: RecordType = RecordType {
    name: "Holder",
    fields: &["pid", "mode", "since", "site", "inferred"],
    required: 3,
};
pub const LOCK: RecordType = RecordType {
    name: "Lock",
    fields: &["name", "holders", "waiters", "mm"],
    required: 1,
};
pub const ZONE: RecordType = RecordType {
    name: "Zone",
    fields: &[
        "node",
        "zone",
        "free_kb",
        "min_kb",
        "low_kb",
        "high_kb",
        "managed_kb",
        "lowmem_reserve_kb",
        "since",
    ],
    required: 2,
};
pub const MEMCG: RecordType = RecordType {
    name: "Memcg",
    fields: &["path", "usage_kb", "limit_kb", "failcnt", "since"],
    required: 1,
};
pub const MEMINFO: RecordType = RecordType {
    name: "MemInfo",
    fields: &["scope", "counters", "since"],
    required: 1,
};
pub const OOM: RecordType = RecordType {
    name: "OomInvocation",
    fields: &[
        "index",
        "seq",
        "ts_ns",
        "invoker",
        "gfp",
        "order",
        "constraint",
        "memcg",
        "candidates",
        "victims",
        "outcome",
        "reason",
    ],
    required: 4,
};
pub const VICTIM: RecordType = RecordType {
    name: "Victim",
    fields: &[
        "pid",
        "comm",
        "killed_seq",
        "killed_ts",
        "mm",
        "points",
        "woken_seq",
        "attempts",
        "outcome",
        "done_seq",
        "exited",
        // reaper rounds (oom_reap_task runs) so far; attempts of this round a log's line leaves unseen before
        // the recorded ones (0–9 silent failures before "reaped") or implies without a line of their own (the
        // nine failures before "unable to reap"); a victim marked by mark_oom_victim with no kill seen
        "rounds",
        "unseen",
        "implied",
        "marked",
    ],
    required: 4,
};
pub const ANOMALY: RecordType = RecordType {
    name: "Anomaly",
    fields: &["seq", "kind", "message"],
    required: 3,
};

/// Every record type, the nested one (Holder, inside a Lock's holders and waiters) included.
pub const RECORDS: &[&RecordType] = &[
    &TASK, &MM, &HOLDER, &LOCK, &ZONE, &MEMCG, &MEMINFO, &OOM, &VICTIM, &ANOMALY,
];

/// The state's tables in their stored order (a keyframe's pieces are numbered in it): name, record, paging.
pub const TABLES: &[(&str, &RecordType, Paging)] = &[
    ("tasks", &TASK, Paging::Int),
    ("mms", &MM, Paging::Int),
    ("locks", &LOCK, Paging::Str),
    ("zones", &ZONE, Paging::Tuple),
    ("memcgs", &MEMCG, Paging::Str),
    ("meminfo", &MEMINFO, Paging::Str),
    ("ooms", &OOM, Paging::Int),
    ("victims", &VICTIM, Paging::Int),
    ("anomalies", &ANOMALY, Paging::Int),
];

pub const T_TASKS: usize = 0;
pub const T_MMS: usize = 1;
pub const T_LOCKS: usize = 2;
pub const T_ZONES: usize = 3;
pub const T_MEMCGS: usize = 4;
pub const T_MEMINFO: usize = 5;
pub const T_OOMS: usize = 6;
pub const T_VICTIMS: usize = 7;
pub const T_ANOMALIES: usize = 8;
pub const N_TABLES: usize = 9;

/// Field positions of the records.
pub mod f {
    pub mod task {
        pub const PID: usize = 0;
        pub const TGID: usize = 1;
        pub const COMM: usize = 2;
        pub const STATE: usize = 3;
        pub const SITE: usize = 4;
        pub const FLAGS: usize = 5;
        pub const INFERRED_FLAGS: usize = 6;
        pub const ANON_KB: usize = 7;
        pub const FILE_KB: usize = 8;
        pub const SHMEM_KB: usize = 9;
        pub const OOM_SCORE_ADJ: usize = 10;
        pub const ALLOC: usize = 11;
        pub const EXITED: usize = 12;
        pub const SINCE: usize = 13;
    }
    pub mod mm {
        pub const FLAGS: usize = 1;
        pub const INFERRED_FLAGS: usize = 2;
    }
    pub mod holder {
        pub const PID: usize = 0;
        pub const MODE: usize = 1;
        pub const INFERRED: usize = 4;
    }
    pub mod lock {
        pub const NAME: usize = 0;
        pub const HOLDERS: usize = 1;
        pub const WAITERS: usize = 2;
        pub const MM: usize = 3;
    }
    pub mod zone {
        pub const FREE_KB: usize = 2;
        pub const MIN_KB: usize = 3;
        pub const LOW_KB: usize = 4;
        pub const HIGH_KB: usize = 5;
        pub const SINCE: usize = 8;
    }
    pub mod memcg {
        pub const SINCE: usize = 4;
    }
    pub mod oom {
        pub const INDEX: usize = 0;
        pub const INVOKER: usize = 3;
        pub const CONSTRAINT: usize = 6;
        pub const MEMCG: usize = 7;
        pub const CANDIDATES: usize = 8;
        pub const VICTIMS: usize = 9;
        pub const OUTCOME: usize = 10;
        pub const REASON: usize = 11;
    }
    pub mod victim {
        pub const PID: usize = 0;
        pub const COMM: usize = 1;
        pub const KILLED_SEQ: usize = 2;
        pub const KILLED_TS: usize = 3;
        pub const MM: usize = 4;
        pub const WOKEN_SEQ: usize = 6;
        pub const ATTEMPTS: usize = 7;
        pub const OUTCOME: usize = 8;
        pub const DONE_SEQ: usize = 9;
        pub const EXITED: usize = 10;
        pub const ROUNDS: usize = 11;
        pub const UNSEEN: usize = 12;
        pub const IMPLIED: usize = 13;
        pub const MARKED: usize = 14;
    }
}

/// A fresh record of `rt` with the given leading values and every other field at its default.
pub fn record(rt: &RecordType, leading: &[Value]) -> Vec<Value> {
    let mut out: Vec<Value> = leading.to_vec();
    for i in leading.len()..rt.fields.len() {
        out.push(rt.default_of(i));
    }
    out
}

/// The whole machine at one seq.
#[derive(Clone, Debug)]
pub struct State {
    pub seq: Option<i64>,
    pub ts_ns: Option<i64>,
    pub tables: [Table; N_TABLES],
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

impl State {
    pub fn new() -> State {
        State {
            seq: None,
            ts_ns: None,
            tables: std::array::from_fn(|i| Table::new(TABLES[i].2)),
        }
    }

    /// The explorer's state: tables that keep their digest, so `digest` is cheap.
    pub fn hashed() -> State {
        State {
            seq: None,
            ts_ns: None,
            tables: std::array::from_fn(|i| Table::hashed(TABLES[i].2)),
        }
    }

    /// A 64-bit fingerprint of the tables (not of `seq` and `ts_ns`): equal records, equal digests.
    pub fn digest(&self) -> Result<u64> {
        let mut each = [0u64; N_TABLES];
        for (d, t) in each.iter_mut().zip(&self.tables) {
            *d = t.digest()?;
        }
        Ok(State::digest_of(&each))
    }

    /// The state's fingerprint from its tables' digests (the explorer's packed states keep those).
    pub fn digest_of(tables: &[u64; N_TABLES]) -> u64 {
        let mut h = super::digest::Fp::new(N_TABLES as u64);
        for d in tables {
            h.word(*d);
        }
        h.finish()
    }

    /// Note every read and write of the tables in `log` from now on.
    pub fn log_to(&mut self, log: &Arc<super::reads::Log>) {
        for (i, t) in self.tables.iter_mut().enumerate() {
            t.log_to(i, log.clone());
        }
    }

    /// The writer's state: tables that remember each key's value at the last keyframe.
    pub fn writer() -> State {
        State {
            seq: None,
            ts_ns: None,
            tables: std::array::from_fn(|i| Table::writer(TABLES[i].2)),
        }
    }

    pub fn get(&self, table: usize, key: &Key) -> Result<Option<Rec>> {
        self.tables[table].get(key)
    }

    pub fn set(&mut self, table: usize, key: Key, rec: Vec<Value>) -> Result<()> {
        self.tables[table].set(key, Arc::from(rec))
    }

    /// The last OOM invocation, if any.
    pub fn last_oom(&self) -> Result<Option<Rec>> {
        let n = self.tables[T_OOMS].len();
        if n == 0 {
            return Ok(None);
        }
        self.tables[T_OOMS].get(&Key::Int(n as i64 - 1))
    }

    /// Whether two states hold the same machine.
    pub fn same(&self, other: &State) -> Result<bool> {
        if (self.seq, self.ts_ns) != (other.seq, other.ts_ns) {
            return Ok(false);
        }
        for (a, b) in self.tables.iter().zip(other.tables.iter()) {
            if !a.same(b)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    pub fn table_index(name: &str) -> Option<usize> {
        TABLES.iter().position(|(n, _, _)| *n == name)
    }
}

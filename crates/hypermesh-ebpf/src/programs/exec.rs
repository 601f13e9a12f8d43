//! Successful execs counted per user (real uid) and new command name. Preferred hook: fentry,
//! then kprobe, on `finalize_exec`; where neither attaches (no kprobes, fentry denied by
//! lockdown), the `sched_process_exec` tracepoint (tp_btf, raw, classic). The hook in use is
//! reported through [`Loaded::chosen`].

use crate::error::{Error, Result};
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::programs::metrics::{Counter, MetricInfo};

/// The metric [`Exec::metrics`] returns.
pub const EXECS: MetricInfo = MetricInfo {
    name: "hypermesh_ebpf_execs_total",
    help: "Successful execs, per real uid and new command name.",
};
use aya::maps::PerCpuHashMap;
use serde::Serialize;

const COUNTS_MAP: &str = "hm_ex_counts";

const EXEC: &[Variant] = crate::tracepoint_chain!(
    first: [
        Variant::Fentry { prog: "hm_ex_fentry", func: "finalize_exec" },
        Variant::Kprobe { prog: "hm_ex_kprobe", func: "finalize_exec" },
    ],
    "hm_ex", "sched": "sched_process_exec", core: false
);

/// The exec program set; `skip` drops the first `skip` variants (to force a fallback in tests).
pub fn spec_from(skip: usize) -> Spec {
    Spec {
        name: "exec",
        object: Object::Embedded(crate::embedded_object!("exec.bpf.o")),
        hooks: vec![Hook::skipping("sched_process_exec", EXEC, skip)],
        globals: Vec::new(),
    }
}

/// The map key: `struct hm_ex_key { u32 uid; char comm[16]; }`.
type Key = [u8; 20];

/// Execs of one command name by one user since the program was attached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecCount {
    /// Real user id of the process after the exec.
    pub uid: u32,
    /// New command name (`comm`, at most 15 bytes).
    pub comm: String,
    /// Successful execs.
    pub count: u64,
}

/// The name of a user id from the system's user database (NSS), `None` when it has none.
pub fn user_name(uid: u32) -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid)).ok().flatten().map(|u| u.name)
}

/// A running exec counter.
pub struct Exec {
    loaded: Loaded,
}

impl Exec {
    /// Loads and attaches a given spec (see [`spec_from`]).
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        Ok(Exec { loaded: Loaded::load(spec)? })
    }

    /// The loaded programs (the variant in use is in `chosen()`).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Execs per user and new command name, largest first.
    pub fn counts(&self) -> Result<Vec<ExecCount>> {
        let map: PerCpuHashMap<_, Key, u64> = PerCpuHashMap::try_from(self.loaded.map(COUNTS_MAP)?)
            .map_err(|e| Error::aya("reading the exec counts", e))?;
        let mut out = Vec::new();
        for entry in map.iter() {
            let (key, values) = entry.map_err(|e| Error::aya("iterating the exec counts", e))?;
            out.push(ExecCount {
                uid: u32::from_ne_bytes([key[0], key[1], key[2], key[3]]),
                comm: super::comm_str(&key[4..]),
                count: values.iter().sum::<u64>(),
            });
        }
        out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| (a.uid, &a.comm).cmp(&(b.uid, &b.comm))));
        Ok(out)
    }

    /// `hypermesh_ebpf_execs_total{uid,comm}` counters (uids, not names: a name service
    /// lookup per scrape is not worth it, and uids are what the kernel counted).
    pub fn metrics(&self) -> Result<Vec<Counter>> {
        Ok(self
            .counts()?
            .into_iter()
            .map(|c| Counter {
                info: EXECS,
                labels: vec![("uid", c.uid.to_string()), ("comm", c.comm)],
                value: c.count,
            })
            .collect())
    }
}

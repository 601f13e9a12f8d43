//! Program and map type support, probed the way libbpf does (load a trivial program / create a
//! tiny map of each type) but keeping EPERM apart: a type refused by policy is "denied", not
//! "absent". The tables cover every type of the kernel's UAPI header up to Linux 6.19, more than
//! Debian's bpftool 7.1 (libbpf 1.1) knows: `netfilter` programs and `cgrp_storage`, `arena`,
//! `insn_array` maps are reported by us only.

use super::verdict::{Finding, Verdict};
use crate::sys::{self, Insn, MapCreate, ProgLoad};
use std::collections::BTreeMap;
use std::io;
use std::os::fd::AsRawFd;

/// `BPF_F_NO_PREALLOC`.
const F_NO_PREALLOC: u32 = 1;
/// `BPF_F_MMAPABLE`.
const F_MMAPABLE: u32 = 1 << 10;
/// `BPF_F_SLEEPABLE`.
const F_SLEEPABLE: u32 = 1 << 4;

/// Program types by `bpf_prog_type` number, named as bpftool/libbpf spell them (index = number).
pub const PROG_TYPES: &[&str] = &[
    "unspec",
    "socket_filter",
    "kprobe",
    "sched_cls",
    "sched_act",
    "tracepoint",
    "xdp",
    "perf_event",
    "cgroup_skb",
    "cgroup_sock",
    "lwt_in",
    "lwt_out",
    "lwt_xmit",
    "sock_ops",
    "sk_skb",
    "cgroup_device",
    "sk_msg",
    "raw_tracepoint",
    "cgroup_sock_addr",
    "lwt_seg6local",
    "lirc_mode2",
    "sk_reuseport",
    "flow_dissector",
    "cgroup_sysctl",
    "raw_tracepoint_writable",
    "cgroup_sockopt",
    "tracing",
    "struct_ops",
    "ext",
    "lsm",
    "sk_lookup",
    "syscall",
    "netfilter",
];

/// Map types by `bpf_map_type` number, named as bpftool/libbpf spell them (index = number).
pub const MAP_TYPES: &[&str] = &[
    "unspec",
    "hash",
    "array",
    "prog_array",
    "perf_event_array",
    "percpu_hash",
    "percpu_array",
    "stack_trace",
    "cgroup_array",
    "lru_hash",
    "lru_percpu_hash",
    "lpm_trie",
    "array_of_maps",
    "hash_of_maps",
    "devmap",
    "sockmap",
    "cpumap",
    "xskmap",
    "sockhash",
    "cgroup_storage",
    "reuseport_sockarray",
    "percpu_cgroup_storage",
    "queue",
    "stack",
    "sk_storage",
    "devmap_hash",
    "struct_ops",
    "ringbuf",
    "inode_storage",
    "task_storage",
    "bloom_filter",
    "user_ringbuf",
    "cgrp_storage",
    "arena",
    "insn_array",
];

/// Number of a program type by its bpftool name.
pub fn prog_type_number(name: &str) -> Option<u32> {
    PROG_TYPES.iter().position(|n| *n == name).map(|i| i as u32)
}

/// The `BPF_PROG_LOAD` parameters that make a trivial program of type `t` loadable, as libbpf's
/// `probe_prog_load` sets them. Probes read only the verifier's error, so the log holds no trace.
pub fn trivial_load(t: u32, insns: &[Insn]) -> ProgLoad<'_> {
    let mut p =
        ProgLoad { prog_type: t, insns, name: "hm_probe", errors_only_log: true, ..Default::default() };
    match PROG_TYPES.get(t as usize).copied() {
        Some("cgroup_sock_addr") => p.expected_attach_type = 10, // BPF_CGROUP_INET4_CONNECT
        Some("cgroup_sockopt") => p.expected_attach_type = 21,   // BPF_CGROUP_GETSOCKOPT
        Some("sk_lookup") => p.expected_attach_type = 36,        // BPF_SK_LOOKUP
        Some("lirc_mode2") => p.expected_attach_type = 16,       // BPF_LIRC_MODE2
        // BPF_TRACE_RAW_TP (tp_btf): bpftool uses fentry, which this kind of kernel refuses with
        // EPERM while tp_btf tracing programs load; fentry is reported under `attach.fentry`.
        Some("tracing") => p.expected_attach_type = 23,
        Some("lsm") => p.expected_attach_type = 27, // BPF_LSM_MAC
        Some("netfilter") => p.expected_attach_type = 45, // BPF_NETFILTER
        Some("syscall") => p.prog_flags = F_SLEEPABLE,
        _ => {}
    }
    p
}

/// Probes one program type.
///
/// Types that need a BTF target (tracing, ext, lsm, struct_ops) are loaded without one: a kernel
/// that knows the type gets past the type check and the verifier then complains about the
/// missing target ("must provide btf_id" / "attach_btf_id"), which proves support; EPERM before
/// that (lockdown, missing CAP_BPF/CAP_PERFMON) is "denied". Debian's bpftool 7.1 reports such
/// EPERM as plain "not supported", the one deliberate difference to its output.
pub fn probe_prog_type(t: u32) -> Finding {
    let insns = Insn::return_imm(0);
    let p = trivial_load(t, &insns);
    let needs_target =
        matches!(PROG_TYPES.get(t as usize).copied(), Some("tracing" | "ext" | "lsm" | "struct_ops"));
    let mut log = [0u8; 256];
    match sys::prog_load(&p, needs_target.then_some(&mut log[..])) {
        Ok(_) => Finding::supported(""),
        Err(e) if needs_target && (e.log.contains("btf_id") || e.log.contains("attach_btf")) => {
            Finding::supported(e.log.lines().next().unwrap_or_default().to_string())
        }
        // struct_ops programs without a target: a kernel that knows the type says ENOTSUPP.
        Err(e)
            if PROG_TYPES.get(t as usize) == Some(&"struct_ops") && e.error.raw_os_error() == Some(524) =>
        {
            Finding::supported("")
        }
        Err(e) => Finding::from_error("BPF_PROG_LOAD", &e.error),
    }
}

/// A BTF blob with one type, `[1] int` (4 bytes, signed), the key and value type that the
/// local-storage maps require.
fn int_btf() -> Vec<u8> {
    let mut b = Vec::with_capacity(48);
    b.extend_from_slice(&0xeb9f_u16.to_le_bytes()); // magic
    b.extend_from_slice(&[1, 0]); // version, flags
    for v in [24u32, 0, 16, 16, 5] {
        // hdr_len, type_off, type_len, str_off, str_len
        b.extend_from_slice(&v.to_le_bytes());
    }
    for v in [1u32, 1 << 24, 4, (1 << 24) | 32] {
        // name_off "int", kind INT, size 4, encoding SIGNED bits 32
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(b"\0int\0");
    b
}

/// Probes one map type with the parameters libbpf's `probe_map_create` uses for it.
pub fn probe_map_type(t: u32) -> Finding {
    let mut m = MapCreate { map_type: t, key_size: 4, value_size: 4, max_entries: 1, ..Default::default() };
    let mut _keep = Vec::new();
    match MAP_TYPES.get(t as usize).copied() {
        Some("lpm_trie") => (m.key_size, m.value_size, m.map_flags) = (8, 8, F_NO_PREALLOC),
        Some("stack_trace") => m.value_size = 8,
        Some("queue" | "stack" | "bloom_filter") => m.key_size = 0,
        Some("cgroup_storage" | "percpu_cgroup_storage") => {
            (m.key_size, m.value_size, m.max_entries) = (16, 8, 0)
        }
        Some("ringbuf" | "user_ringbuf") => (m.key_size, m.value_size, m.max_entries) = (0, 0, page_size()),
        Some("arena") => (m.key_size, m.value_size, m.map_flags) = (0, 0, F_MMAPABLE),
        Some("insn_array") => m.value_size = 16,
        // Any type id: the kernel checks it is a struct_ops value type and answers ENOTSUPP.
        Some("struct_ops") => m.btf_vmlinux_value_type_id = 1,
        Some("array_of_maps" | "hash_of_maps") => {
            let inner = match sys::map_create(&MapCreate {
                map_type: 2,
                key_size: 4,
                value_size: 4,
                max_entries: 1,
                ..Default::default()
            }) {
                Ok(fd) => fd,
                Err(e) => return Finding::new(Verdict::Unknown, format!("inner array map: {e}")),
            };
            m.inner_map_fd = inner.as_raw_fd() as u32;
            _keep.push(inner);
        }
        Some("sk_storage" | "inode_storage" | "task_storage" | "cgrp_storage") => {
            let btf = match sys::btf_load(&int_btf()) {
                Ok(fd) => fd,
                Err(e) => return Finding::from_error("BPF_BTF_LOAD", &e),
            };
            (m.max_entries, m.map_flags, m.btf_key_type_id, m.btf_value_type_id) = (0, F_NO_PREALLOC, 1, 1);
            m.btf_fd = btf.as_raw_fd() as u32;
            _keep.push(btf);
        }
        _ => {}
    }
    match sys::map_create(&m) {
        Ok(_) => Finding::supported(""),
        // struct_ops maps need a kernel struct type; a kernel that knows the map type answers
        // ENOTSUPP (524) for the missing one, as libbpf expects.
        Err(e) if MAP_TYPES.get(t as usize) == Some(&"struct_ops") && e.raw_os_error() == Some(524) => {
            Finding::supported("")
        }
        Err(e) => Finding::from_error("BPF_MAP_CREATE", &e),
    }
}

fn page_size() -> u32 {
    rustix::param::page_size() as u32
}

/// Probes every known program type except `unspec`.
pub fn probe_prog_types() -> BTreeMap<String, Finding> {
    (1..PROG_TYPES.len() as u32).map(|t| (PROG_TYPES[t as usize].to_string(), probe_prog_type(t))).collect()
}

/// Probes every known map type except `unspec`.
pub fn probe_map_types() -> BTreeMap<String, Finding> {
    (1..MAP_TYPES.len() as u32).map(|t| (MAP_TYPES[t as usize].to_string(), probe_map_type(t))).collect()
}

/// Whether the kernel answers `bpf()` at all (ENOSYS when built without CONFIG_BPF_SYSCALL).
pub fn have_bpf_syscall() -> bool {
    let err = sys::map_create(&MapCreate::default()).err();
    !matches!(err.as_ref().and_then(io::Error::raw_os_error), Some(libc::ENOSYS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_numbered() {
        assert_eq!(prog_type_number("xdp"), Some(6));
        assert_eq!(prog_type_number("netfilter"), Some(32));
        assert_eq!(MAP_TYPES[6], "percpu_array");
        assert_eq!(MAP_TYPES[33], "arena");
    }

    #[test]
    fn int_btf_is_well_formed() {
        let b = int_btf();
        assert_eq!(b.len(), 24 + 16 + 5);
        assert_eq!(&b[..2], &[0x9f, 0xeb]);
    }
}

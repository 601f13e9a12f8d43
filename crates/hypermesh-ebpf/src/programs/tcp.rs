//! TCP events per remote port (retransmits, resets sent and received) and TCP state transitions,
//! from the `tcp:*` and `sock:inet_sock_set_state` tracepoints. tcp_send_reset's record changed
//! in 6.10; where its remote port lies is read from tracefs at load time.

use crate::error::{Error, Result};
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::maps::{per_cpu_slots, sum_cpus};
use crate::programs::metrics::{Counter, MetricInfo};
use crate::tracefs::{self, Field};
use hypermesh_os::FsRoot;

/// Event counters [`Tcp::metrics`] returns.
pub const TCP_EVENTS: MetricInfo = MetricInfo {
    name: "hypermesh_ebpf_tcp_events_total",
    help: "TCP retransmits and resets sent/received, per remote port.",
};
/// State transition counters [`Tcp::metrics`] returns.
pub const TCP_TRANSITIONS: MetricInfo =
    MetricInfo { name: "hypermesh_ebpf_tcp_state_transitions_total", help: "TCP socket state changes." };
use aya::maps::PerCpuHashMap;
use serde::Serialize;

const EVENTS_MAP: &str = "hm_tcp_events";
const STATES_MAP: &str = "hm_tcp_states";

const RETRANSMIT: &[Variant] =
    &[Variant::Tracepoint { prog: "hm_tcp_retransmit", category: "tcp", event: "tcp_retransmit_skb" }];
const SEND_RESET: &[Variant] =
    &[Variant::Tracepoint { prog: "hm_tcp_send_reset", category: "tcp", event: "tcp_send_reset" }];
const RECEIVE_RESET: &[Variant] =
    &[Variant::Tracepoint { prog: "hm_tcp_receive_reset", category: "tcp", event: "tcp_receive_reset" }];
const SET_STATE: &[Variant] =
    &[Variant::Tracepoint { prog: "hm_tcp_state", category: "sock", event: "inet_sock_set_state" }];

/// Event kinds, in the order of `enum hm_tcp_event` in `bpf/tcp.bpf.c`.
const EVENT_NAMES: [&str; 3] = ["retransmit", "send_reset", "receive_reset"];

/// TCP state names by number (`include/net/tcp_states.h`).
const STATE_NAMES: [&str; 13] = [
    "UNKNOWN",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT1",
    "FIN_WAIT2",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "CLOSING",
    "NEW_SYN_RECV",
];

/// The map key, as `struct hm_tcp_key`.
#[repr(C)]
#[derive(Clone, Copy)]
struct Key {
    event: u16,
    rport: u16,
}

// SAFETY: plain old data, no padding.
unsafe impl aya::Pod for Key {}

/// Where tcp_send_reset's record keeps the remote port: (offset, big-endian). Before Linux 6.10
/// a host-order `dport` field; since, byte 2 of `daddr`, a `struct sockaddr_in6` (network order).
/// The program reads it from the record's first 64 bytes.
pub fn reset_port(fields: &[Field]) -> Result<(u32, bool)> {
    let found = match (tracefs::field(fields, "dport"), tracefs::field(fields, "daddr")) {
        (Some(d), _) if d.size == 2 => Some((d.offset, false)),
        (None, Some(a)) if a.size >= 4 => Some((a.offset + 2, true)),
        _ => None,
    };
    match found {
        Some((offset, be)) if offset + 2 <= 64 => Ok((offset, be)),
        _ => Err(Error::Unsupported(format!(
            "tcp_send_reset: no remote port this program can read in the record ({fields:?})"
        ))),
    }
}

/// The program set.
pub fn spec() -> Spec {
    Spec {
        name: "tcp",
        object: Object::Embedded(crate::embedded_object!("tcp.bpf.o")),
        hooks: vec![
            Hook { name: "tcp_retransmit_skb", chain: RETRANSMIT },
            Hook { name: "tcp_send_reset", chain: SEND_RESET },
            Hook { name: "tcp_receive_reset", chain: RECEIVE_RESET },
            Hook { name: "inet_sock_set_state", chain: SET_STATE },
        ],
        globals: Vec::new(),
    }
}

/// One counter: an event kind toward one remote port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PortEvent {
    /// `retransmit`, `send_reset` or `receive_reset`.
    pub event: &'static str,
    /// Remote port (0 when the kernel had none).
    pub remote_port: u16,
    /// Count.
    pub count: u64,
}

/// One state transition and how often it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// State left.
    pub from: &'static str,
    /// State entered.
    pub to: &'static str,
    /// Count.
    pub count: u64,
}

fn state_name(n: usize) -> &'static str {
    STATE_NAMES.get(n).copied().unwrap_or("UNKNOWN")
}

/// A running TCP event counter.
pub struct Tcp {
    loaded: Loaded,
}

impl Tcp {
    /// Loads and attaches.
    pub fn start() -> Result<Self> {
        Self::start_spec(&spec())
    }

    /// Loads and attaches a given spec (e.g. [`spec`] forced to one variant), with
    /// tcp_send_reset's record layout read from tracefs.
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        let fields = tracefs::read_format(&FsRoot::host(), "tcp", "tcp_send_reset")?;
        let (offset, big_endian) = reset_port(&fields)?;
        let mut spec = spec.clone();
        spec.globals.extend([("hm_tcp_rst_port_off", offset), ("hm_tcp_rst_port_be", big_endian.into())]);
        Ok(Tcp { loaded: Loaded::load(&spec)? })
    }

    /// The loaded programs.
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Event counts per remote port, largest first.
    pub fn events(&self) -> Result<Vec<PortEvent>> {
        let map: PerCpuHashMap<_, Key, u64> = PerCpuHashMap::try_from(self.loaded.map(EVENTS_MAP)?)
            .map_err(|e| Error::aya("reading the TCP event counts", e))?;
        let mut out = Vec::new();
        for entry in map.iter() {
            let (key, values) = entry.map_err(|e| Error::aya("iterating the TCP event counts", e))?;
            let event = EVENT_NAMES.get(usize::from(key.event)).copied().unwrap_or("unknown");
            out.push(PortEvent { event, remote_port: key.rport, count: values.iter().sum() });
        }
        out.sort_by(|a, b| {
            b.count.cmp(&a.count).then(a.event.cmp(b.event)).then(a.remote_port.cmp(&b.remote_port))
        });
        Ok(out)
    }

    /// State transitions seen, largest first.
    pub fn transitions(&self) -> Result<Vec<Transition>> {
        let slots = sum_cpus(&per_cpu_slots(self.loaded.map(STATES_MAP)?)?);
        let mut out: Vec<Transition> = slots
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(slot, n)| Transition { from: state_name(slot / 16), to: state_name(slot % 16), count: *n })
            .collect();
        out.sort_by(|a, b| b.count.cmp(&a.count).then(a.from.cmp(b.from)).then(a.to.cmp(b.to)));
        Ok(out)
    }

    /// `hypermesh_ebpf_tcp_events_total{event, remote_port}` and
    /// `hypermesh_ebpf_tcp_state_transitions_total{from, to}` counters.
    pub fn metrics(&self) -> Result<Vec<Counter>> {
        let events = self.events()?.into_iter().map(|e| Counter {
            info: TCP_EVENTS,
            labels: vec![("event", e.event.into()), ("remote_port", e.remote_port.to_string())],
            value: e.count,
        });
        let moves = self.transitions()?.into_iter().map(|t| Counter {
            info: TCP_TRANSITIONS,
            labels: vec![("from", t.from.into()), ("to", t.to.into())],
            value: t.count,
        });
        Ok(events.chain(moves).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMON: &str = "\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n\
        \tfield:const void * skbaddr;\toffset:8;\tsize:8;\tsigned:0;\n\
        \tfield:const void * skaddr;\toffset:16;\tsize:8;\tsigned:0;\n\
        \tfield:int state;\toffset:24;\tsize:4;\tsigned:1;\n";

    /// Linux 6.1: `tcp_event_sk_skb` (include/trace/events/tcp.h).
    #[test]
    fn reset_port_on_6_1() {
        let text = format!(
            "name: tcp_send_reset\nformat:\n{COMMON}\tfield:__u16 sport;\toffset:28;\tsize:2;\tsigned:0;\n\
             \tfield:__u16 dport;\toffset:30;\tsize:2;\tsigned:0;\n\
             \tfield:__u16 family;\toffset:32;\tsize:2;\tsigned:0;\n\
             \tfield:__u8 saddr[4];\toffset:34;\tsize:4;\tsigned:0;\n\
             \tfield:__u8 daddr[4];\toffset:38;\tsize:4;\tsigned:0;\n\
             \tfield:__u8 saddr_v6[16];\toffset:42;\tsize:16;\tsigned:0;\n\
             \tfield:__u8 daddr_v6[16];\toffset:58;\tsize:16;\tsigned:0;\n"
        );
        assert_eq!(reset_port(&tracefs::parse_format(&text)).unwrap(), (30, false));
    }

    /// Linux 6.18, as this CI host's tracefs shows it.
    #[test]
    fn reset_port_on_6_18() {
        let text = format!(
            "name: tcp_send_reset\nformat:\n{COMMON}\tfield:enum sk_rst_reason reason;\toffset:28;\tsize:4;\tsigned:0;\n\
             \tfield:__u8 saddr[28];\toffset:32;\tsize:28;\tsigned:0;\n\
             \tfield:__u8 daddr[28];\toffset:60;\tsize:28;\tsigned:0;\n"
        );
        assert_eq!(reset_port(&tracefs::parse_format(&text)).unwrap(), (62, true));
        assert!(reset_port(&tracefs::parse_format(COMMON)).is_err());
    }
}

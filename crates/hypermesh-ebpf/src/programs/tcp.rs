//! TCP events per remote port (retransmits, resets sent and received) and TCP state transitions,
//! from the `tcp:*` and `sock:inet_sock_set_state` tracepoints.

use crate::error::{Error, Result};
use crate::lifecycle::{Hook, Loaded, Object, Spec, Variant};
use crate::maps::{per_cpu_slots, sum_cpus};
use crate::programs::metrics::{Counter, MetricInfo};

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

    /// Loads and attaches a given spec (e.g. [`spec`] forced to one variant).
    pub fn start_spec(spec: &Spec) -> Result<Self> {
        Ok(Tcp { loaded: Loaded::load(spec)? })
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

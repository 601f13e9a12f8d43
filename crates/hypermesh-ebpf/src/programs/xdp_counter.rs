//! Packets and bytes per protocol on one interface's receive path (XDP, every packet passed).
//! Attaches in native (driver) mode when the driver supports it, else in generic mode, and
//! reports which and why; dropping the counter detaches it.

use crate::error::{Error, Result};
use crate::maps::{per_cpu_slots, sum_cpus};
use crate::programs::metrics::{Counter, MetricInfo};
use aya::programs::{Xdp, XdpMode};
use aya::{Ebpf, EbpfLoader};
use serde::Serialize;

const PROG: &str = "hm_xdp_count";

/// Packet counters [`XdpCounter::metrics`] returns.
pub const XDP_PACKETS: MetricInfo = MetricInfo {
    name: "hypermesh_ebpf_xdp_packets_total",
    help: "Packets received, per interface, layer and protocol.",
};
/// Byte counters [`XdpCounter::metrics`] returns.
pub const XDP_BYTES: MetricInfo = MetricInfo {
    name: "hypermesh_ebpf_xdp_bytes_total",
    help: "Bytes received (from the Ethernet header on), per interface, layer and protocol.",
};
const COUNTS_MAP: &str = "hm_xdp_counts";

/// Classes in the order of `enum hm_xdp_class` in `bpf/xdp_counter.bpf.c`: (layer, protocol).
const CLASSES: [(&str, &str); 9] = [
    ("network", "ipv4"),
    ("network", "ipv6"),
    ("network", "arp"),
    ("network", "other"),
    ("transport", "tcp"),
    ("transport", "udp"),
    ("transport", "icmp"),
    ("transport", "icmpv6"),
    ("transport", "other"),
];

/// An XDP attach mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Run by the network driver, before any socket buffer exists.
    Native,
    /// Run by the kernel network stack on socket buffers, for drivers without XDP support.
    Generic,
}

impl Mode {
    /// The preferred order.
    pub const BEST_FIRST: [Mode; 2] = [Mode::Native, Mode::Generic];

    fn aya(self) -> XdpMode {
        match self {
            Mode::Native => XdpMode::Driver,
            Mode::Generic => XdpMode::Skb,
        }
    }
}

/// Packets and bytes of one protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolCount {
    /// `network` (IPv4, IPv6, ARP, other ethertypes) or `transport` (of IP packets).
    pub layer: &'static str,
    /// Protocol name.
    pub protocol: &'static str,
    /// Packets received.
    pub packets: u64,
    /// Bytes received (frame length from the Ethernet header on).
    pub bytes: u64,
}

/// How the counter attached.
#[derive(Debug, Clone, Serialize)]
pub struct Attached {
    /// Interface name.
    pub interface: String,
    /// Mode in use.
    pub mode: Mode,
    /// Modes tried before it: (mode, reason).
    pub fell_back: Vec<(Mode, String)>,
    /// Kernel program id.
    pub prog_id: u32,
}

/// A running XDP counter; dropping it detaches the program and unloads it.
pub struct XdpCounter {
    ebpf: Ebpf,
    attached: Attached,
}

fn load_object() -> Result<Ebpf> {
    let mut ebpf = EbpfLoader::new()
        .load(crate::embedded_object!("xdp_counter.bpf.o"))
        .map_err(|e| Error::aya("loading the xdp_counter object", e))?;
    let prog: &mut Xdp = program(&mut ebpf)?;
    prog.load().map_err(|e| Error::aya(format!("loading {PROG}"), e))?;
    Ok(ebpf)
}

fn program(ebpf: &mut Ebpf) -> Result<&mut Xdp> {
    ebpf.program_mut(PROG)
        .ok_or_else(|| Error::Invalid(format!("the object has no program {PROG}")))?
        .try_into()
        .map_err(|e| Error::aya(PROG, e))
}

/// Loads the program without attaching it (the verifier accepts it here); returns its id while
/// loaded. Which mode it would get depends on each interface's driver.
pub fn verify_loads() -> Result<u32> {
    let mut ebpf = load_object()?;
    program(&mut ebpf)?.info().map(|i| i.id()).map_err(|e| Error::aya(PROG, e))
}

impl XdpCounter {
    /// Attaches to `interface` (in the calling thread's network namespace), native mode first.
    pub fn start(interface: &str) -> Result<Self> {
        Self::start_modes(interface, &Mode::BEST_FIRST)
    }

    /// Attaches with the first of `modes` that works.
    pub fn start_modes(interface: &str, modes: &[Mode]) -> Result<Self> {
        let mut ebpf = load_object()?;
        let prog = program(&mut ebpf)?;
        let mut fell_back = Vec::new();
        for &mode in modes {
            match prog.attach(interface, mode.aya()) {
                Ok(_) => {
                    let prog_id = prog.info().map_err(|e| Error::aya(PROG, e))?.id();
                    let attached = Attached { interface: interface.to_string(), mode, fell_back, prog_id };
                    return Ok(XdpCounter { ebpf, attached });
                }
                Err(e) => fell_back.push((mode, error_chain(&e))),
            }
        }
        let tried: Vec<String> = fell_back.iter().map(|(m, why)| format!("{m:?}: {why}")).collect();
        Err(Error::Unavailable(format!("cannot attach XDP to {interface}: {}", tried.join("; "))))
    }

    /// How it attached.
    pub fn attached(&self) -> &Attached {
        &self.attached
    }

    /// Packets and bytes per protocol so far, all CPUs, in class order.
    pub fn counts(&self) -> Result<Vec<ProtocolCount>> {
        let map = self.ebpf.map(COUNTS_MAP).ok_or_else(|| Error::Invalid(format!("no map {COUNTS_MAP}")))?;
        let slots = sum_cpus(&per_cpu_slots(map)?);
        Ok(CLASSES
            .iter()
            .enumerate()
            .map(|(i, (layer, protocol))| ProtocolCount {
                layer,
                protocol,
                packets: slots.get(2 * i).copied().unwrap_or(0),
                bytes: slots.get(2 * i + 1).copied().unwrap_or(0),
            })
            .collect())
    }

    /// `hypermesh_ebpf_xdp_{packets,bytes}_total{interface, layer, protocol}` counters.
    pub fn metrics(&self) -> Result<Vec<Counter>> {
        let mut out = Vec::new();
        for c in self.counts()? {
            for (info, value) in [(XDP_PACKETS, c.packets), (XDP_BYTES, c.bytes)] {
                let labels = vec![
                    ("interface", self.attached.interface.clone()),
                    ("layer", c.layer.into()),
                    ("protocol", c.protocol.into()),
                ];
                out.push(Counter { info, labels, value });
            }
        }
        Ok(out)
    }
}

/// The error with its sources, one line (aya's top-level messages omit the errno).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        out.push_str(": ");
        out.push_str(&s.to_string());
        src = s.source();
    }
    out
}

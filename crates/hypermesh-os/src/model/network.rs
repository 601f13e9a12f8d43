use serde::{Deserialize, Serialize};

/// Network interfaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// Interfaces by name.
    pub interfaces: Vec<Interface>,
}

/// One network interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Interface {
    /// Interface name.
    pub name: String,
    /// Hardware address.
    pub mac: Option<String>,
    /// MTU in bytes.
    pub mtu: Option<u32>,
    /// Operational state (`up`, `down`, `unknown`, ...).
    pub oper_state: Option<String>,
    /// Link speed in Mbit/s; `None` when the link has no speed (down, virtual).
    pub speed_mbps: Option<u64>,
    /// `full` or `half`.
    pub duplex: Option<String>,
    /// Driver name.
    pub driver: Option<String>,
    /// PCI address of the device.
    pub pci_address: Option<String>,
    /// Interface type (`ethernet`, `loopback`, `bridge`, `bond`, `veth`, `tun`, `wireless`, ...).
    pub kind: Option<String>,
    /// True for software interfaces with no device behind them.
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
    /// IPv4 addresses with prefix length (`192.0.2.1/24`); empty under an alternate root.
    pub ipv4: Vec<String>,
    /// IPv6 addresses with prefix length.
    pub ipv6: Vec<String>,
}

//! Network section from sysinfo's interface list.

use super::{from_sysinfo, not_reported};
use crate::error::Result;
use crate::model::{Interface, Network};
use crate::profile::Problems;
use sysinfo::{IpNetwork, NetworkData, Networks};

/// Interfaces with MAC, MTU, operational state, link speed and addresses.
///
/// sysinfo uses the all-zero MAC for "no address", so an interface whose hardware address
/// really is all zeros (Linux loopback) has `mac: None` here.
pub(super) fn detect(problems: &mut Problems) -> Result<Network> {
    let networks = Networks::new_with_refreshed_list().map_err(|e| from_sysinfo("network", e))?;
    not_reported("interface duplex, driver, pci_address, kind, virtual (false means unknown)", problems);
    let mut interfaces: Vec<Interface> =
        networks.iter().map(|(name, data)| interface(&name.to_string_lossy(), data)).collect();
    interfaces.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Network { interfaces })
}

fn interface(name: &str, data: &NetworkData) -> Interface {
    let mac = data.mac_address();
    let (v4, v6): (Vec<&IpNetwork>, Vec<&IpNetwork>) =
        data.ip_networks().iter().partition(|n| n.addr.is_ipv4());
    let state = data.operational_state().to_string();
    Interface {
        name: name.to_string(),
        mac: (!mac.is_unspecified()).then(|| mac.to_string()),
        // sysinfo says 0 when it could not read the MTU.
        mtu: u32::try_from(data.mtu()).ok().filter(|&m| m > 0),
        oper_state: Some(state).filter(|s| s != "other"),
        speed_mbps: data.transmit_link_speed().filter(|&b| b > 0).map(|bits| bits / 1_000_000),
        ipv4: v4.iter().map(|n| n.to_string()).collect(),
        ipv6: v6.iter().map(|n| n.to_string()).collect(),
        ..Default::default()
    }
}

//! IP addresses of the live host's interfaces, from getifaddrs(3).
//!
//! Only meaningful on the live host: addresses live in the kernel's network namespace, not in
//! /proc or /sys, so a captured tree or a host root mounted in a container (which has its own
//! network namespace) cannot tell them. The caller skips this under an alternate root.

use crate::error::{Error, Result};
use nix::sys::socket::SockaddrStorage;
use std::collections::HashMap;

/// IPv4 and IPv6 addresses (`addr/prefix`) of one interface.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Addresses {
    /// IPv4, e.g. `192.0.2.7/24`.
    pub ipv4: Vec<String>,
    /// IPv6, e.g. `fe80::1/64`.
    pub ipv6: Vec<String>,
}

/// Addresses of every interface of this process's network namespace, by interface name.
pub fn collect() -> Result<HashMap<String, Addresses>> {
    let list = nix::ifaddrs::getifaddrs().map_err(|e| Error::Unavailable(format!("getifaddrs: {e}")))?;
    let mut map: HashMap<String, Addresses> = HashMap::new();
    for entry in list {
        let Some(addr) = entry.address else { continue };
        if let Some(text) = format_v4(&addr, entry.netmask.as_ref()) {
            map.entry(entry.interface_name).or_default().ipv4.push(text);
        } else if let Some(text) = format_v6(&addr, entry.netmask.as_ref()) {
            map.entry(entry.interface_name).or_default().ipv6.push(text);
        }
    }
    Ok(map)
}

fn format_v4(addr: &SockaddrStorage, mask: Option<&SockaddrStorage>) -> Option<String> {
    let ip = addr.as_sockaddr_in()?.ip();
    let prefix = mask.and_then(|m| m.as_sockaddr_in()).map(|m| u32::from(m.ip()).count_ones());
    Some(with_prefix(ip.to_string(), prefix))
}

fn format_v6(addr: &SockaddrStorage, mask: Option<&SockaddrStorage>) -> Option<String> {
    let ip = addr.as_sockaddr_in6()?.ip();
    let prefix = mask.and_then(|m| m.as_sockaddr_in6()).map(|m| u128::from(m.ip()).count_ones());
    Some(with_prefix(ip.to_string(), prefix))
}

fn with_prefix(ip: String, prefix: Option<u32>) -> String {
    match prefix {
        Some(p) => format!("{ip}/{p}"),
        None => ip,
    }
}

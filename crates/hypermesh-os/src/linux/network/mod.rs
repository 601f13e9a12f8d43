//! Network section: interfaces from `/sys/class/net`, addresses from getifaddrs (live host only).
//!
//! Per interface the reads are: the class link (virtual or not, PCI address, no read of the
//! device), `uevent` (DEVTYPE names bridges, bonds, VLANs, wireless, WireGuard...), `type`
//! (ARPHRD), `address`, `mtu`, `operstate`, and `speed`/`duplex` only where a link can have a
//! speed (not loopback, not down: the kernel answers EINVAL there). Speed and duplex that the
//! kernel does not know (-1, EINVAL, `unknown`) are `null`.

use crate::error::Result;
use crate::linux::devpath;
use crate::model::{Interface, Network};
use crate::profile::Problems;
use crate::root::FsRoot;

pub mod addresses;

const CLASS: &str = "/sys/class/net";

/// Detects the network section.
pub fn detect(root: &FsRoot, problems: &mut Problems) -> Result<Network> {
    let names = root.read_dir(CLASS)?;
    let mut addrs = if root.is_host() {
        addresses::collect().unwrap_or_else(|e| {
            problems.push(e);
            Default::default()
        })
    } else {
        Default::default()
    };
    let interfaces = names
        .iter()
        .filter_map(|name| {
            let mut iface = interface(root, name, problems)?;
            if let Some(a) = addrs.remove(name) {
                iface.ipv4 = a.ipv4;
                iface.ipv6 = a.ipv6;
            }
            Some(iface)
        })
        .collect();
    Ok(Network { interfaces })
}

/// Facts of `uevent` that matter here.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Uevent {
    /// `DEVTYPE` (bridge, bond, vlan, wlan, wireguard, ...).
    pub devtype: Option<String>,
    /// `IFINDEX`.
    pub ifindex: Option<u32>,
}

/// Parses a net device's `uevent` (`KEY=value` lines).
pub fn parse_uevent(text: &str) -> Uevent {
    let mut u = Uevent::default();
    for (k, v) in text.lines().filter_map(|l| l.split_once('=')) {
        match k {
            "DEVTYPE" if !v.is_empty() => u.devtype = Some(v.to_string()),
            "IFINDEX" => u.ifindex = v.parse().ok(),
            _ => {}
        }
    }
    u
}

/// Link speed in Mbit/s from the `speed` attribute: `-1`, 0, garbage and the unsigned forms of
/// "unknown" (65535, 4294967295) mean the kernel does not know it.
pub fn parse_speed(text: &str) -> Option<u64> {
    let v: i64 = text.trim().parse().ok()?;
    (v > 0 && v != 65535 && v < u32::MAX as i64).then_some(v as u64)
}

/// `full` or `half`; `unknown` and anything else give `None`.
pub fn parse_duplex(text: &str) -> Option<String> {
    let t = text.trim();
    matches!(t, "full" | "half").then(|| t.to_string())
}

/// Link kind from the hardware type (ARPHRD) when no DEVTYPE says more.
pub fn kind_from_arphrd(arphrd: u32) -> Option<&'static str> {
    Some(match arphrd {
        1 => "ethernet",
        32 => "infiniband",
        280 => "can",
        512 => "ppp",
        768 => "ipip",
        769 => "ip6tnl",
        772 => "loopback",
        776 => "sit",
        778 => "gre",
        801..=803 => "wireless",
        823 => "ip6gre",
        65534 => "none",
        _ => return None,
    })
}

fn interface(root: &FsRoot, name: &str, problems: &mut Problems) -> Option<Interface> {
    let base = format!("{CLASS}/{name}");
    let attr = |a: &str| format!("{base}/{a}");
    let uevent = match root.read_string(&attr("uevent")) {
        Ok(text) => Some(parse_uevent(&text)),
        // `bonding_masters` and other plain files in the class directory are no interfaces.
        Err(crate::Error::Io { source, .. }) if source.raw_os_error() == Some(libc::ENOTDIR) => return None,
        Err(e) if e.is_not_found() => None,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let link = root.read_link(&base).ok();
    let is_virtual = is_virtual_link(root, &base, link.as_deref());
    let arphrd: Option<u32> = root.read_opt_parsed(&attr("type"));
    let oper_state = root.read_opt(&attr("operstate"));
    let kind = kind(root, &base, uevent.as_ref(), arphrd, is_virtual);
    let has_speed = kind.as_deref() != Some("loopback") && oper_state.as_deref() != Some("down");
    let mtu = match root.read_parsed(&attr("mtu")) {
        Ok(m) => Some(m),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    Some(Interface {
        name: name.to_string(),
        mac: root.read_opt(&attr("address")),
        mtu,
        speed_mbps: has_speed.then(|| root.read_opt(&attr("speed"))).flatten().and_then(|s| parse_speed(&s)),
        duplex: has_speed.then(|| root.read_opt(&attr("duplex"))).flatten().and_then(|s| parse_duplex(&s)),
        driver: (!is_virtual).then(|| root.link_name(&attr("device/driver"))).flatten(),
        pci_address: link.as_deref().and_then(|l| devpath::pci_address(l, "net")),
        kind,
        oper_state,
        is_virtual,
        ipv4: Vec::new(),
        ipv6: Vec::new(),
    })
}

/// Whether interface `name` is software only (lo, veth, bridges, tunnels): no hardware behind it.
pub fn is_virtual(root: &FsRoot, name: &str) -> bool {
    let base = format!("{CLASS}/{name}");
    is_virtual_link(root, &base, root.read_link(&base).ok().as_deref())
}

/// [`is_virtual`] from the class link already read: it points under `/sys/devices/virtual`, or,
/// where there is no link (captured trees), the interface has no `device`.
fn is_virtual_link(root: &FsRoot, base: &str, link: Option<&str>) -> bool {
    match link {
        Some(l) => devpath::is_virtual(l),
        None => !root.exists(&format!("{base}/device")),
    }
}

/// The interface kind: DEVTYPE when the driver set one; for trees without `uevent`, the
/// `bridge/` and `bonding/` directories; then tun/tap (`tun_flags`), veth (a virtual Ethernet
/// whose `iflink` names another interface, its peer), and finally the ARPHRD type.
fn kind(
    root: &FsRoot,
    base: &str,
    uevent: Option<&Uevent>,
    arphrd: Option<u32>,
    is_virtual: bool,
) -> Option<String> {
    let has = |a: &str| root.exists(&format!("{base}/{a}"));
    if let Some(t) = uevent.and_then(|u| u.devtype.as_deref()) {
        return Some(if t == "wlan" { "wireless".into() } else { t.to_string() });
    }
    if uevent.is_none() {
        if has("bridge") {
            return Some("bridge".into());
        }
        if has("bonding") {
            return Some("bond".into());
        }
    }
    let base_kind = kind_from_arphrd(arphrd?)?;
    if is_virtual && matches!(base_kind, "ethernet" | "none") {
        if has("tun_flags") {
            return Some(if base_kind == "ethernet" { "tap" } else { "tun" }.into());
        }
        let ifindex = uevent.and_then(|u| u.ifindex);
        if base_kind == "ethernet" && ifindex.is_some() {
            let iflink: Option<u32> = root.read_opt_parsed(&format!("{base}/iflink"));
            if iflink.is_some() && iflink != ifindex {
                return Some("veth".into());
            }
        }
    }
    Some(base_kind.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(parse_speed("1000\n"), Some(1000));
        assert_eq!(parse_speed("-1"), None);
        assert_eq!(parse_speed("0"), None);
        assert_eq!(parse_speed("4294967295"), None);
        assert_eq!(parse_speed("fast"), None);
        assert_eq!(parse_duplex("full\n").as_deref(), Some("full"));
        assert_eq!(parse_duplex("unknown"), None);
        let u = parse_uevent("INTERFACE=br0\nIFINDEX=4\nDEVTYPE=bridge\n");
        assert_eq!(u, Uevent { devtype: Some("bridge".into()), ifindex: Some(4) });
        assert_eq!(parse_uevent("garbage\n=\nIFINDEX=x"), Uevent::default());
        assert_eq!(kind_from_arphrd(772), Some("loopback"));
        assert_eq!(kind_from_arphrd(9999), None);
    }
}

//! Which network devices run XDP inside their driver ("native" mode), from the kernel's own
//! answer: the `xdp-features` of each device in the `netdev` generic-netlink family (Linux 6.3+,
//! what `ynl --spec netdev.yaml --dump dev-get` prints). Asking changes nothing on the device,
//! unlike a trial attach, which makes some drivers (virtio_net, mlx5) reconfigure their queues.
//! Generic (skb) XDP works on every device and is probed by a real attach in `attach.rs`.
//!
//! The request is a few dozen bytes of netlink, written here with `libc` rather than through a
//! netlink crate: none of them knows the `netdev` family, which would have to be described to
//! it field by field anyway.

use hypermesh_os::FsRoot;
use serde::Serialize;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `xdp-act` flags of the netdev family (include/uapi/linux/netdev.h), in bit order.
pub const XDP_FEATURES: [&str; 7] =
    ["basic", "redirect", "ndo-xmit", "xsk-zerocopy", "hw-offload", "rx-sg", "ndo-xmit-sg"];

/// One device and what its driver does with XDP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XdpDevice {
    /// Interface name (`None` when it vanished between the dump and the lookup).
    pub name: Option<String>,
    /// Interface index.
    pub ifindex: u32,
    /// Backed by hardware, as opposed to lo, veth, bridges (the profile's `is_virtual`, negated).
    pub physical: bool,
    /// `xdp-features` names ([`XDP_FEATURES`]); `basic` means XDP runs in the driver.
    pub features: Vec<&'static str>,
}

impl XdpDevice {
    /// Whether programs attach in driver (native) mode.
    pub fn native(&self) -> bool {
        self.features.contains(&"basic")
    }
}

/// Lists every device with its XDP features, or says why the kernel cannot tell.
pub fn xdp_devices(root: &FsRoot) -> Result<Vec<XdpDevice>, String> {
    let socket = GenlSocket::open().map_err(|e| format!("generic netlink socket: {e}"))?;
    let family = socket.family_id("netdev").map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => {
            "this kernel has no netdev netlink family (Linux 6.3+ reports XDP features)".into()
        }
        _ => format!("looking up the netdev netlink family: {e}"),
    })?;
    let mut devices = Vec::new();
    socket
        .dump(family, NETDEV_CMD_DEV_GET, |attrs| devices.extend(device(attrs, root)))
        .map_err(|e| format!("netdev dev-get: {e}"))?;
    devices.sort_by_key(|d| d.ifindex);
    Ok(devices)
}

/// One `dev-get` answer's attributes as a device.
fn device(attrs: &[u8], root: &FsRoot) -> Option<XdpDevice> {
    let mut ifindex = None;
    let mut flags = 0u64;
    for (kind, value) in Attrs(attrs) {
        match kind {
            NETDEV_A_DEV_IFINDEX => ifindex = value.try_into().ok().map(u32::from_ne_bytes),
            NETDEV_A_DEV_XDP_FEATURES => flags = value.try_into().map(u64::from_ne_bytes).unwrap_or(0),
            _ => {}
        }
    }
    let ifindex = ifindex?;
    let name = interface_name(ifindex);
    let physical = name.as_ref().is_some_and(|n| !hypermesh_os::linux::network::is_virtual(root, n));
    let features = XDP_FEATURES.iter().enumerate().filter(|(bit, _)| flags >> bit & 1 == 1).map(|(_, n)| *n);
    Some(XdpDevice { name, ifindex, physical, features: features.collect() })
}

/// The name of an interface index (`if_indextoname`).
fn interface_name(ifindex: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: buf holds IF_NAMESIZE bytes, as if_indextoname requires.
    let p = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success the kernel wrote a NUL-terminated name into buf.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

const NETLINK_GENERIC: i32 = 16;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const NETDEV_CMD_DEV_GET: u8 = 1;
const NETDEV_A_DEV_IFINDEX: u16 = 1;
const NETDEV_A_DEV_XDP_FEATURES: u16 = 3;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_DUMP: u16 = 0x300;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
/// `struct nlmsghdr` + `struct genlmsghdr`.
const HEADERS: usize = 16 + 4;

/// A generic-netlink socket talking to the kernel.
struct GenlSocket(OwnedFd);

impl GenlSocket {
    fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2); the descriptor is owned right away.
        let fd =
            unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, NETLINK_GENERIC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor nobody else owns.
        Ok(GenlSocket(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The id the kernel gave the family `name`.
    fn family_id(&self, name: &str) -> io::Result<u16> {
        let mut name_z = name.as_bytes().to_vec();
        name_z.push(0);
        let mut id = None;
        self.request(
            GENL_ID_CTRL,
            CTRL_CMD_GETFAMILY,
            NLM_F_ACK,
            &attr(CTRL_ATTR_FAMILY_NAME, &name_z),
            |attrs| {
                for (kind, value) in Attrs(attrs) {
                    if kind == CTRL_ATTR_FAMILY_ID {
                        id = value.try_into().ok().map(u16::from_ne_bytes);
                    }
                }
            },
        )?;
        id.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no family id in the answer"))
    }

    /// Sends a dump request for `cmd` and passes each answer's attributes to `each`.
    fn dump(&self, family: u16, cmd: u8, each: impl FnMut(&[u8])) -> io::Result<()> {
        self.request(family, cmd, NLM_F_DUMP, &[], each)
    }

    /// Sends one request and reads answers until the kernel's ack, error or end of dump.
    fn request(
        &self,
        family: u16,
        cmd: u8,
        flags: u16,
        payload: &[u8],
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<()> {
        let len = HEADERS + payload.len();
        let mut msg = Vec::with_capacity(len);
        msg.extend_from_slice(&(len as u32).to_ne_bytes());
        msg.extend_from_slice(&family.to_ne_bytes());
        msg.extend_from_slice(&(NLM_F_REQUEST | flags).to_ne_bytes());
        msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence number
        msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
        msg.extend_from_slice(&[cmd, 1, 0, 0]); // genlmsghdr: command, version 1
        msg.extend_from_slice(payload);
        // SAFETY: msg is a valid buffer of msg.len() bytes; the kernel is the default peer.
        if unsafe { libc::send(self.0.as_raw_fd(), msg.as_ptr().cast(), msg.len(), 0) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: buf is a writable buffer of buf.len() bytes.
            let n = unsafe { libc::recv(self.0.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for (kind, body) in Messages(&buf[..n as usize]) {
                match kind {
                    NLMSG_DONE => return Ok(()),
                    NLMSG_ERROR => {
                        let code =
                            body.get(..4).and_then(|b| b.try_into().ok()).map_or(0, i32::from_ne_bytes);
                        return if code == 0 { Ok(()) } else { Err(io::Error::from_raw_os_error(-code)) };
                    }
                    _ => each(body.get(4..).unwrap_or(&[])),
                }
            }
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "netlink socket closed"));
            }
        }
    }
}

/// One netlink attribute: length, type, value, padded to 4 bytes.
fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
    let len = 4 + value.len();
    let mut out = Vec::with_capacity(align4(len));
    out.extend_from_slice(&(len as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(value);
    out.resize(align4(len), 0);
    out
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// The netlink messages in a received buffer: `(type, body after the nlmsghdr)`. Stops at the
/// first message whose length does not fit.
struct Messages<'a>(&'a [u8]);

impl<'a> Iterator for Messages<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let len = u32::from_ne_bytes(self.0.get(..4)?.try_into().ok()?) as usize;
        let kind = u16::from_ne_bytes(self.0.get(4..6)?.try_into().ok()?);
        let body = self.0.get(16..len)?;
        self.0 = self.0.get(align4(len)..).unwrap_or(&[]);
        Some((kind, body))
    }
}

/// The attributes in a message body: `(type, value)`. Stops at the first that does not fit.
struct Attrs<'a>(&'a [u8]);

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let len = u16::from_ne_bytes(self.0.get(..2)?.try_into().ok()?) as usize;
        // The top bits of the type are the nested/byte-order flags.
        let kind = u16::from_ne_bytes(self.0.get(2..4)?.try_into().ok()?) & 0x3fff;
        let value = self.0.get(4..len)?;
        self.0 = self.0.get(align4(len)..).unwrap_or(&[]);
        Some((kind, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_attributes_and_stops_at_garbage() {
        let mut body = attr(NETDEV_A_DEV_IFINDEX, &7u32.to_ne_bytes());
        body.extend(attr(2, &[0; 4])); // pad attribute
        body.extend(attr(NETDEV_A_DEV_XDP_FEATURES, &0b10_0011u64.to_ne_bytes()));
        body.extend([200, 0, 1]); // truncated attribute
        let d = device(&body, &FsRoot::host()).unwrap();
        assert_eq!((d.ifindex, d.features.clone()), (7, vec!["basic", "redirect", "rx-sg"]));
        assert!(d.native());
        assert_eq!(device(&attr(NETDEV_A_DEV_XDP_FEATURES, &[0; 8]), &FsRoot::host()), None, "no ifindex");
        assert_eq!(Attrs(&[8, 0, 1]).count(), 0);
        assert_eq!(Attrs(&[3, 0, 1, 0]).count(), 0, "length shorter than the header");
    }

    #[test]
    fn parses_messages() {
        let mut buf = Vec::new();
        for kind in [20u16, NLMSG_DONE] {
            buf.extend_from_slice(&20u32.to_ne_bytes());
            buf.extend_from_slice(&kind.to_ne_bytes());
            buf.extend_from_slice(&[0; 14]);
        }
        let kinds: Vec<u16> = Messages(&buf)
            .map(|(k, b)| {
                assert_eq!(b.len(), 4);
                k
            })
            .collect();
        assert_eq!(kinds, [20, NLMSG_DONE]);
        assert_eq!(Messages(&[255, 0, 0, 0, 1, 0]).count(), 0);
    }
}

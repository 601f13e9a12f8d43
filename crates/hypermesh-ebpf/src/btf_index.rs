//! Finds a type id by name and kind in the kernel's BTF without parsing it all: the probe only
//! needs two ids (a tracepoint typedef, a function), and a full parse costs tens of ms; attaching
//! a tp_btf or fentry program needs only the target's id too ([`BtfIndex::attach_target`]).

use crate::error::{Error, Result};
use hypermesh_os::FsRoot;
use std::io::Read;

/// Where the kernel exposes its own BTF.
pub const VMLINUX_BTF: &str = "/sys/kernel/btf/vmlinux";

/// `BTF_KIND_TYPEDEF`.
pub const KIND_TYPEDEF: u32 = 8;
/// `BTF_KIND_FUNC`.
pub const KIND_FUNC: u32 = 12;
/// `BTF_KIND_PTR`.
const KIND_PTR: u32 = 2;

/// Raw BTF bytes, read once, answering name lookups.
pub struct BtfIndex {
    data: Vec<u8>,
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl BtfIndex {
    /// Reads the running kernel's BTF.
    pub fn vmlinux(root: &FsRoot) -> Result<Self> {
        let mut data = Vec::with_capacity(8 << 20);
        let mut f = root.open(VMLINUX_BTF)?;
        f.read_to_end(&mut data).map_err(|e| Error::io(VMLINUX_BTF, e))?;
        Ok(BtfIndex { data })
    }

    /// Wraps raw BTF bytes.
    pub fn from_bytes(data: Vec<u8>) -> Self {
        BtfIndex { data }
    }

    /// Whether the bytes start like BTF (an empty or foreign file stands for no BTF).
    pub fn is_btf(&self) -> bool {
        self.data.starts_with(&[0x9f, 0xeb])
    }

    /// The id of the type called `name` of kind `kind`, or `None` when absent or malformed.
    pub fn find(&self, name: &str, kind: u32) -> Option<u32> {
        let b = &self.data;
        if b.get(..2)? != [0x9f, 0xeb] {
            return None;
        }
        let hdr_len = u32_at(b, 4)? as usize;
        let (type_off, type_len) = (u32_at(b, 8)? as usize, u32_at(b, 12)? as usize);
        let (str_off, str_len) = (u32_at(b, 16)? as usize, u32_at(b, 20)? as usize);
        let strings = b.get(hdr_len + str_off..hdr_len + str_off + str_len)?;
        let needle = [&[0u8][..], name.as_bytes(), &[0u8][..]].concat();
        let name_off = memchr::memmem::find(strings, &needle)? as u32 + 1;
        let types = b.get(hdr_len + type_off..hdr_len + type_off + type_len)?;
        let (mut at, mut id) = (0usize, 1u32);
        while at + 12 <= types.len() {
            let (n, info) = (u32_at(types, at)?, u32_at(types, at + 4)?);
            let (k, vlen) = ((info >> 24) & 0x1f, (info & 0xffff) as usize);
            if n == name_off && k == kind {
                return Some(id);
            }
            let extra = match k {
                1 | 14 | 17 => 4,
                3 => 12,
                4 | 5 | 15 | 19 => vlen * 12,
                6 | 13 => vlen * 8,
                2 | 7..=12 | 16 | 18 => 0,
                _ => return None,
            };
            at += 12 + extra;
            id += 1;
        }
        None
    }

    /// A BTF holding only the type `name` of `kind`, at its id in this BTF, every id before it
    /// an anonymous pointer: all that aya's tp_btf and fentry `load` read from a BTF is the
    /// attach target's id, and this costs a fraction of parsing the whole kernel BTF (tens of
    /// ms, some 14 MiB). `None` when the type is absent or this BTF malformed.
    pub fn attach_target(&self, name: &str, kind: u32) -> Option<aya::Btf> {
        let id = self.find(name, kind)?;
        let strings = [&[0u8][..], name.as_bytes(), &[0u8][..]].concat();
        let type_len = u32::try_from(id as usize * 12).ok()?;
        let mut b = Vec::with_capacity(24 + type_len as usize + strings.len());
        b.extend_from_slice(&[0x9f, 0xeb, 1, 0]);
        for v in [24, 0, type_len, type_len, strings.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for _ in 1..id {
            for v in [0, KIND_PTR << 24, 0] {
                b.extend_from_slice(&v.to_le_bytes());
            }
        }
        for v in [1, kind << 24, 0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(&strings);
        aya::Btf::parse(&b, aya::Endianness::Little).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BTF with `[1] int`, `[2] typedef foo -> 1`.
    fn sample() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9f_u16.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        for v in [24u32, 0, 28, 28, 9] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for v in [1u32, 1 << 24, 4, 32, 5, KIND_TYPEDEF << 24, 1] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        b.extend_from_slice(b"\0int\0foo\0");
        b
    }

    #[test]
    fn finds_by_name_and_kind() {
        let idx = BtfIndex::from_bytes(sample());
        assert_eq!(idx.find("foo", KIND_TYPEDEF), Some(2));
        assert_eq!(idx.find("foo", KIND_FUNC), None);
        assert_eq!(idx.find("fo", KIND_TYPEDEF), None);
    }

    #[test]
    fn attach_target_keeps_the_kernel_id() {
        let idx = BtfIndex::from_bytes(sample());
        let btf = BtfIndex::from_bytes(idx.attach_target("foo", KIND_TYPEDEF).unwrap().to_bytes());
        assert_eq!(btf.find("foo", KIND_TYPEDEF), Some(2));
        assert_eq!(btf.find("foo", KIND_FUNC), None);
        assert!(idx.attach_target("bar", KIND_TYPEDEF).is_none());
    }

    #[test]
    fn garbage_is_not_a_panic() {
        assert_eq!(BtfIndex::from_bytes(vec![0x9f, 0xeb, 1]).find("x", 1), None);
        let mut t = sample();
        t.truncate(40);
        assert_eq!(BtfIndex::from_bytes(t).find("foo", KIND_TYPEDEF), None);
    }
}

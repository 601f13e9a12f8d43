//! What an asset is (its kind and unit) and who may use it (its sharing level).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kinds of hardware a node offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    /// Logical CPUs, counted in milli-CPUs (1000 = one logical CPU).
    Cpu,
    /// Whole GPUs, counted in devices.
    Gpu,
    /// System memory, counted in bytes.
    Memory,
    /// Filesystem space, counted in bytes.
    Storage,
}

impl AssetKind {
    /// Every kind, in report order.
    pub const ALL: [AssetKind; 4] = [AssetKind::Cpu, AssetKind::Gpu, AssetKind::Memory, AssetKind::Storage];

    /// Lower-case name used in ids, on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            AssetKind::Cpu => "cpu",
            AssetKind::Gpu => "gpu",
            AssetKind::Memory => "memory",
            AssetKind::Storage => "storage",
        }
    }

    /// True when one unit is a whole device that cannot be split or pooled with others: a
    /// request for N of them takes N distinct assets.
    pub fn whole_devices(self) -> bool {
        matches!(self, AssetKind::Gpu)
    }

    /// Parses an amount written by a user: CPUs as a decimal count (`1.5`), GPUs as a whole
    /// count, memory and storage as a size (`8GiB`, `100 GB`, `4096`).
    pub fn parse_amount(self, text: &str) -> Result<u64, String> {
        let text = text.trim();
        match self {
            AssetKind::Cpu => {
                let cpus: f64 = text.parse().map_err(|_| format!("{text:?} is not a CPU count"))?;
                if !cpus.is_finite() || cpus <= 0.0 || cpus > (u64::MAX / 1000) as f64 {
                    return Err(format!("{text:?} is not a positive CPU count"));
                }
                Ok((cpus * 1000.0).round() as u64)
            }
            AssetKind::Gpu => match text.parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!("{text:?} is not a positive whole number of GPUs")),
            },
            AssetKind::Memory | AssetKind::Storage => match text.parse::<bytesize::ByteSize>() {
                Ok(size) if size.as_u64() > 0 => Ok(size.as_u64()),
                Ok(_) => Err(format!("{text:?}: the size must be positive")),
                Err(e) => Err(format!("{text:?} is not a size: {e}")),
            },
        }
    }

    /// Formats an amount of this kind for people (`1.5 CPUs`, `1 GPU`, `8.0 GiB`).
    pub fn format_amount(self, amount: u64) -> String {
        match self {
            AssetKind::Cpu => {
                let whole = amount / 1000;
                let frac = amount % 1000;
                if frac == 0 { format!("{whole}") } else { format!("{}", amount as f64 / 1000.0) }
            }
            AssetKind::Gpu => amount.to_string(),
            AssetKind::Memory | AssetKind::Storage => bytesize::ByteSize(amount).display().iec().to_string(),
        }
    }
}

impl fmt::Display for AssetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AssetKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "cpus" => "cpu",
            "gpus" => "gpu",
            "mem" => "memory",
            "disk" => "storage",
            other => other,
        };
        AssetKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| format!("unknown asset kind {s:?}; expected cpu, gpu, memory or storage"))
    }
}

/// HyperMesh privacy levels, from the most closed to the most open. An asset carries one; a
/// request states the scope it comes from; the asset admits requests from its own level and
/// every more closed one (a `P2P` asset serves `Private`, `PrivateNetwork` and `P2P` requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SharingLevel {
    /// This node's owner only.
    Private,
    /// Hosts of the owner's private network.
    PrivateNetwork,
    /// Peers the node has a direct relation with.
    P2p,
    /// Anyone on the public HyperMesh network.
    PublicNetwork,
    /// Anyone at all.
    FullPublic,
}

impl SharingLevel {
    /// Every level, most closed first.
    pub const ALL: [SharingLevel; 5] = [
        SharingLevel::Private,
        SharingLevel::PrivateNetwork,
        SharingLevel::P2p,
        SharingLevel::PublicNetwork,
        SharingLevel::FullPublic,
    ];

    /// Name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            SharingLevel::Private => "private",
            SharingLevel::PrivateNetwork => "private_network",
            SharingLevel::P2p => "p2p",
            SharingLevel::PublicNetwork => "public_network",
            SharingLevel::FullPublic => "full_public",
        }
    }

    /// True when an asset at this level serves a request from `scope`.
    pub fn admits(self, scope: SharingLevel) -> bool {
        scope <= self
    }
}

impl fmt::Display for SharingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SharingLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        SharingLevel::ALL.into_iter().find(|l| l.name() == s).ok_or_else(|| {
            let names: Vec<_> = SharingLevel::ALL.iter().map(|l| l.name()).collect();
            format!("unknown sharing level {s:?}; expected one of {}", names.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_per_kind() {
        assert_eq!(AssetKind::Cpu.parse_amount("1.5"), Ok(1500));
        assert_eq!(AssetKind::Cpu.parse_amount("2"), Ok(2000));
        assert!(AssetKind::Cpu.parse_amount("-1").is_err());
        assert!(AssetKind::Cpu.parse_amount("NaN").is_err());
        assert_eq!(AssetKind::Gpu.parse_amount("2"), Ok(2));
        assert!(AssetKind::Gpu.parse_amount("0.5").is_err());
        assert_eq!(AssetKind::Memory.parse_amount("8GiB"), Ok(8 << 30));
        assert_eq!(AssetKind::Storage.parse_amount("100 GB"), Ok(100_000_000_000));
        assert!(AssetKind::Memory.parse_amount("lots").is_err());
        assert!(AssetKind::Memory.parse_amount("0").is_err());
    }

    #[test]
    fn amounts_format_per_kind() {
        assert_eq!(AssetKind::Cpu.format_amount(2000), "2");
        assert_eq!(AssetKind::Cpu.format_amount(1500), "1.5");
        assert_eq!(AssetKind::Memory.format_amount(8 << 30), "8.0 GiB");
    }

    #[test]
    fn sharing_levels_admit_more_closed_scopes_only() {
        assert!(SharingLevel::P2p.admits(SharingLevel::Private));
        assert!(SharingLevel::P2p.admits(SharingLevel::P2p));
        assert!(!SharingLevel::P2p.admits(SharingLevel::PublicNetwork));
        assert!(!SharingLevel::Private.admits(SharingLevel::FullPublic));
        assert_eq!("public-network".parse(), Ok(SharingLevel::PublicNetwork));
        assert!("open".parse::<SharingLevel>().is_err());
    }
}

//! `/proc/meminfo` (and per-node `node*/meminfo`): `Key: value kB` lines.

/// Parsed meminfo: each key with its value converted to bytes when the line has a `kB` unit
/// (counts such as `HugePages_Total` stay counts).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meminfo {
    entries: Vec<(String, u64)>,
}

impl Meminfo {
    /// Parses the text. Per-node files (`Node 0 MemTotal: ...`) are accepted too. Lines that do
    /// not parse are skipped; the caller decides which keys it needs.
    pub fn parse(text: &str) -> Self {
        let mut entries = Vec::with_capacity(64);
        for line in text.lines() {
            let Some((key, rest)) = line.split_once(':') else { continue };
            let key = key.rsplit(' ').next().unwrap_or(key).trim();
            let mut words = rest.split_whitespace();
            let Some(Ok(value)) = words.next().map(str::parse::<u64>) else { continue };
            let value = match words.next() {
                Some("kB") => value.saturating_mul(1024),
                _ => value,
            };
            entries.push((key.to_string(), value));
        }
        Meminfo { entries }
    }

    /// The value of `key` (bytes for `kB` lines).
    pub fn get(&self, key: &str) -> Option<u64> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// True when nothing parsed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_and_node_files() {
        let m = Meminfo::parse("MemTotal:       16384 kB\nHugePages_Total:       4\ngarbage\nX: y\n");
        assert_eq!(m.get("MemTotal"), Some(16384 * 1024));
        assert_eq!(m.get("HugePages_Total"), Some(4));
        assert_eq!(m.get("MemAvailable"), None);
        let n = Meminfo::parse("Node 1 MemTotal:  2048 kB\nNode 1 MemFree: 1024 kB\n");
        assert_eq!(n.get("MemTotal"), Some(2048 * 1024));
        assert!(Meminfo::parse("").is_empty());
    }
}

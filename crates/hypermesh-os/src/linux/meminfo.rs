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
        let entries = text.lines().filter_map(parse_line).map(|(k, v)| (k.to_string(), v)).collect();
        Meminfo { entries }
    }

    /// The values of `keys` only, without building the whole table (for sampling meminfo many
    /// times a second): stops reading once every key was seen.
    pub fn lookup<const N: usize>(text: &str, keys: [&str; N]) -> [Option<u64>; N] {
        let mut values = [None; N];
        let mut missing = N;
        for (key, value) in text.lines().filter_map(parse_line) {
            if let Some(i) = keys.iter().position(|k| *k == key)
                && values[i].replace(value).is_none()
            {
                missing -= 1;
                if missing == 0 {
                    break;
                }
            }
        }
        values
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

/// One `Key: value [kB]` line (`Node N Key:` accepted): the key and the value in bytes for `kB`
/// lines; `None` for a line that does not parse.
fn parse_line(line: &str) -> Option<(&str, u64)> {
    let (key, rest) = line.split_once(':')?;
    let key = key.rsplit(' ').next().unwrap_or(key).trim();
    let mut words = rest.split_ascii_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some((key, value.saturating_mul(1024))),
        _ => Some((key, value)),
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
        let text = "MemTotal: 2 kB\nMemFree: 1 kB\nbad line\nHugePages_Total: 4\n";
        assert_eq!(
            Meminfo::lookup(text, ["HugePages_Total", "Nope", "MemTotal"]),
            [Some(4), None, Some(2048)]
        );
    }
}

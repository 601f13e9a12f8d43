//! `/proc/net/dev`: traffic counters per network interface.

use crate::error::{Error, Result};

/// Counters of one interface since it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetCounters {
    /// Interface name.
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_drops: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Transmit errors.
    pub tx_errors: u64,
    /// Packets dropped on transmit.
    pub tx_drops: u64,
}

/// Parses `/proc/net/dev` into `out` (cleared first); the two header lines are skipped.
pub fn parse(text: &str, path: &str, out: &mut Vec<NetCounters>) -> Result<()> {
    out.clear();
    for line in text.lines().skip(2).filter(|l| !l.trim().is_empty()) {
        let (name, rest) =
            line.split_once(':').ok_or_else(|| Error::parse(path, format!("no ':' in {line:?}")))?;
        let mut v = [0u64; 16];
        let mut n = 0;
        for (slot, word) in v.iter_mut().zip(rest.split_ascii_whitespace()) {
            *slot = word.parse().map_err(|_| Error::parse(path, format!("bad number {word:?}")))?;
            n += 1;
        }
        if n < 16 {
            return Err(Error::parse(path, format!("{}: {n} counters, expected 16", name.trim())));
        }
        out.push(NetCounters {
            name: name.trim().to_string(),
            rx_bytes: v[0],
            rx_packets: v[1],
            rx_errors: v[2],
            rx_drops: v[3],
            tx_bytes: v[8],
            tx_packets: v[9],
            tx_errors: v[10],
            tx_drops: v[11],
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes packets|bytes\n    lo: 10 2 0 0 0 0 0 0 20 3 1 4 0 0 0 0\n";
        let mut v = Vec::new();
        parse(text, "/proc/net/dev", &mut v).unwrap();
        assert_eq!((v[0].name.as_str(), v[0].rx_bytes, v[0].tx_packets, v[0].tx_drops), ("lo", 10, 3, 4));
        assert!(parse("h\nh\nlo 1 2\n", "n", &mut v).is_err());
        assert!(parse("h\nh\nlo: 1 2\n", "n", &mut v).is_err());
    }
}

//! `/proc/vmstat`: paging counters.

/// The paging counters the sampler turns into rates (all since boot).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VmCounters {
    /// Page faults (minor and major).
    pub pgfault: Option<u64>,
    /// Major page faults (needed I/O).
    pub pgmajfault: Option<u64>,
    /// Pages swapped in.
    pub pswpin: Option<u64>,
    /// Pages swapped out.
    pub pswpout: Option<u64>,
    /// KiB paged in from block devices.
    pub pgpgin: Option<u64>,
    /// KiB paged out to block devices.
    pub pgpgout: Option<u64>,
}

/// Parses `/proc/vmstat` text; keys it does not know are ignored, missing ones stay `None`.
pub fn parse(text: &str) -> VmCounters {
    let mut c = VmCounters::default();
    // The wanted keys sit together from `pgpgin` to `pgmajfault` in every kernel since 2.6;
    // starting there skips ~60 of the ~180 lines. Without a `pgpgin` line, read it all.
    let start = text.find("\npgpgin ").map_or(0, |i| i + 1);
    let mut seen = 0u8;
    for line in text[start..].lines() {
        // All wanted keys start with "p": skip the other lines early.
        if !line.starts_with('p') {
            continue;
        }
        let Some((key, value)) = line.split_once(' ') else { continue };
        let (bit, slot) = match key {
            "pgfault" => (0, &mut c.pgfault),
            "pgmajfault" => (1, &mut c.pgmajfault),
            "pswpin" => (2, &mut c.pswpin),
            "pswpout" => (3, &mut c.pswpout),
            "pgpgin" => (4, &mut c.pgpgin),
            "pgpgout" => (5, &mut c.pgpgout),
            _ => continue,
        };
        *slot = value.trim().parse().ok();
        seen |= 1 << bit;
        if seen == 0b11_1111 {
            break;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_known_keys() {
        let c = parse("nr_free_pages 5\npgfault 100\npgmajfault 3\npswpin x\npgpgout 9\n");
        assert_eq!(
            (c.pgfault, c.pgmajfault, c.pswpin, c.pgpgout, c.pgpgin),
            (Some(100), Some(3), None, Some(9), None)
        );
        let full = "nr_free_pages 5\npgfault 1\npgpgin 2\npgpgout 3\npswpin 4\npswpout 5\npgfault 6\npgmajfault 7\npgfault 8\n";
        let c = parse(full);
        assert_eq!(
            [c.pgpgin, c.pgpgout, c.pswpin, c.pswpout, c.pgfault, c.pgmajfault],
            [2, 3, 4, 5, 6, 7].map(Some),
            "reading starts at pgpgin and stops once all six were seen"
        );
    }
}

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
    for line in text.lines() {
        // All wanted keys start with "p"; skipping the other ~170 lines early halves the cost.
        if !line.starts_with('p') {
            continue;
        }
        let Some((key, value)) = line.split_once(' ') else { continue };
        let slot = match key {
            "pgfault" => &mut c.pgfault,
            "pgmajfault" => &mut c.pgmajfault,
            "pswpin" => &mut c.pswpin,
            "pswpout" => &mut c.pswpout,
            "pgpgin" => &mut c.pgpgin,
            "pgpgout" => &mut c.pgpgout,
            _ => continue,
        };
        *slot = value.trim().parse().ok();
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
    }
}

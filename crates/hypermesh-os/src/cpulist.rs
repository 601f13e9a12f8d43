//! The kernel's CPU list (`0-3,8,10-11`) and CPU mask (`ff,00000001`) formats.

/// Highest CPU number accepted from a list; guards against `0-4294967295` exhausting memory.
pub const MAX_CPU: u32 = 1 << 20;

/// Trims what the kernel may leave around a sysfs list or mask: whitespace and the `"\n\0"` some
/// kernels (5.15 era) end `cpulist` and `*_list` files with.
pub fn clean(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\0')
}

/// Parses a CPU list such as `0-3,8,10-11` (also `0-7:2` strided ranges) into sorted,
/// de-duplicated CPU numbers. Whitespace, trailing NULs and an empty list are accepted.
///
/// The CPUs are gathered in a bitmap (at most [`MAX_CPU`] bits), so overlapping ranges cost no
/// memory: a 40 KB file of `0-1048576,` repeated stays a 128 KiB bitmap instead of gigabytes.
pub fn parse_list(text: &str) -> Result<Vec<u32>, String> {
    let mut bits: Vec<u64> = Vec::new();
    for part in clean(text).split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (range, stride) = match part.split_once(':') {
            Some((r, s)) => (r, parse_num(s)?.max(1)),
            None => (part, 1),
        };
        let (lo, hi) = match range.split_once('-') {
            Some((a, b)) => (parse_num(a)?, parse_num(b)?),
            None => {
                let n = parse_num(range)?;
                (n, n)
            }
        };
        if lo > hi {
            return Err(format!("range {part:?} runs backwards"));
        }
        let words = hi as usize / 64 + 1;
        if bits.len() < words {
            bits.resize(words, 0);
        }
        if stride == 1 {
            set_range(&mut bits, lo, hi);
        } else {
            for cpu in (lo..=hi).step_by(stride as usize) {
                bits[cpu as usize / 64] |= 1 << (cpu % 64);
            }
        }
    }
    Ok(members(&bits))
}

/// The set bits of a bitmap, in ascending order.
fn members(bits: &[u64]) -> Vec<u32> {
    let mut cpus = Vec::new();
    for (i, &word) in bits.iter().enumerate() {
        let mut w = word;
        while w != 0 {
            cpus.push(i as u32 * 64 + w.trailing_zeros());
            w &= w - 1;
        }
    }
    cpus
}

/// Sets bits `lo..=hi`: the partial first and last words, whole words between.
fn set_range(bits: &mut [u64], lo: u32, hi: u32) {
    let (first, last) = (lo as usize / 64, hi as usize / 64);
    let head = u64::MAX << (lo % 64);
    let tail = u64::MAX >> (63 - hi % 64);
    if first == last {
        bits[first] |= head & tail;
    } else {
        bits[first] |= head;
        bits[first + 1..last].fill(u64::MAX);
        bits[last] |= tail;
    }
}

/// Parses a hexadecimal CPU mask as in `cpumap` and `shared_cpu_map` files: comma-separated
/// 32-bit words, most significant first (`00000000,0000000f`; bit 0 of the last word is CPU 0).
/// A word may be written with fewer than 8 digits; masks of any length (machines with more
/// than 1000 CPUs have 32 and more words) are accepted up to [`MAX_CPU`].
pub fn parse_mask(text: &str) -> Result<Vec<u32>, String> {
    let text = clean(text);
    if text.is_empty() {
        return Err("empty mask".into());
    }
    let words: Vec<&str> = text.split(',').map(str::trim).collect();
    let mut bits = vec![0u64; words.len().div_ceil(2)];
    for (i, word) in words.iter().rev().enumerate() {
        if word.is_empty() || word.len() > 8 {
            return Err(format!("{word:?} is not a 32-bit hex word"));
        }
        let value =
            u32::from_str_radix(word, 16).map_err(|_| format!("{word:?} is not a 32-bit hex word"))?;
        if value != 0 && (i as u64 * 32 + 31 - u64::from(value.leading_zeros())) > u64::from(MAX_CPU) {
            return Err(format!("mask beyond the supported CPU {MAX_CPU}"));
        }
        bits[i / 2] |= u64::from(value) << (32 * (i % 2));
    }
    Ok(members(&bits))
}

/// Formats sorted CPU numbers in the kernel's list format (`0-3,8`).
pub fn format_list(cpus: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < cpus.len() {
        let start = cpus[i];
        let mut end = start;
        while i + 1 < cpus.len() && cpus[i + 1] == end + 1 {
            i += 1;
            end = cpus[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}-{end}"));
        }
        i += 1;
    }
    out
}

fn parse_num(s: &str) -> Result<u32, String> {
    let n: u32 = s.trim().parse().map_err(|_| format!("{s:?} is not a CPU number"))?;
    if n > MAX_CPU {
        return Err(format!("CPU {n} beyond the supported {MAX_CPU}"));
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lists() {
        assert_eq!(parse_list("0-3,8,10-11\n").unwrap(), vec![0, 1, 2, 3, 8, 10, 11]);
        assert_eq!(parse_list("0-3,8\n\0").unwrap(), vec![0, 1, 2, 3, 8], "5.15-era trailing NUL");
        assert_eq!(parse_list("\n\0").unwrap(), Vec::<u32>::new());
        assert_eq!(parse_list("").unwrap(), Vec::<u32>::new());
        assert_eq!(parse_list("0-7:2").unwrap(), vec![0, 2, 4, 6]);
        assert!(parse_list("3-1").is_err());
        assert!(parse_list("x").is_err());
        assert!(parse_list("0-4294967295").is_err());
    }

    #[test]
    fn masks() {
        assert_eq!(parse_mask("00000000,0000000f").unwrap(), vec![0, 1, 2, 3]);
        assert_eq!(parse_mask("1,00000000").unwrap(), vec![32]);
        assert_eq!(parse_mask("f0\n\0").unwrap(), vec![4, 5, 6, 7]);
        assert_eq!(parse_mask("1,0").unwrap(), vec![32], "short words are still 32 bits");
        assert!(parse_mask("zz").is_err());
        assert!(parse_mask("100000000").is_err(), "a word has 32 bits");
        assert!(parse_mask("").is_err());
    }

    /// A 1,056-CPU mask: 33 words, CPU 1055 in the first (most significant) one.
    #[test]
    fn masks_beyond_a_thousand_cpus() {
        let mut words = vec!["00000000"; 33];
        words[0] = "80000000";
        words[32] = "00000001";
        words[1] = "00000003"; // CPUs 992 and 993
        assert_eq!(parse_mask(&words.join(",")).unwrap(), vec![0, 992, 993, 1055]);
    }

    /// Found by the `cpulist` fuzz target: a 4 KB list of overlapping full ranges ran past
    /// libFuzzer's 10 s timeout, as every range's members were collected before de-duplication
    /// (this 40 KB one needed 16 GiB).
    #[test]
    fn overlapping_full_ranges_cost_no_memory() {
        let hostile = "0-1048576,".repeat(4000);
        let cpus = parse_list(&hostile).unwrap();
        assert_eq!(cpus.len(), MAX_CPU as usize + 1);
        assert_eq!(cpus.last(), Some(&MAX_CPU));
        let strided = "1-1048575:2,".repeat(4);
        assert_eq!(parse_list(&strided).unwrap().len(), 1 << 19);
    }

    #[test]
    fn ranges_across_words() {
        assert_eq!(parse_list("62-65,127-128").unwrap(), vec![62, 63, 64, 65, 127, 128]);
        assert_eq!(parse_list("63,0-0,64:3").unwrap(), vec![0, 63, 64]);
        assert_eq!(parse_list("0-191").unwrap(), (0..192).collect::<Vec<_>>());
    }

    proptest! {
        #[test]
        fn list_round_trips(mut cpus in proptest::collection::vec(0u32..5000, 0..200)) {
            cpus.sort_unstable();
            cpus.dedup();
            prop_assert_eq!(parse_list(&format_list(&cpus)).unwrap(), cpus);
        }

        #[test]
        fn never_panics(s in ".{0,64}") {
            let _ = parse_list(&s);
            let _ = parse_mask(&s);
        }
    }
}

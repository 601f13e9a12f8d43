//! Turning two readings of a monotonic kernel counter into a rate.

/// Per-second rate of a counter between two readings `secs` apart. `None` when the counter went
/// down (a reset, a wrap of a 32-bit counter, a device that was replaced: the interval holds no
/// usable information) or when no time passed.
pub fn rate(prev: u64, cur: u64, secs: f64) -> Option<f64> {
    if cur < prev || secs <= 0.0 || !secs.is_finite() {
        return None;
    }
    Some((cur - prev) as f64 / secs)
}

/// Increase of a counter, `None` when it went down.
pub fn delta(prev: u64, cur: u64) -> Option<u64> {
    cur.checked_sub(prev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_never_negative() {
        assert_eq!(rate(100, 300, 2.0), Some(100.0));
        assert_eq!(rate(300, 100, 2.0), None);
        assert_eq!(rate(u64::MAX - 1, 5, 1.0), None);
        assert_eq!(rate(1, 2, 0.0), None);
        assert_eq!(delta(5, 7), Some(2));
        assert_eq!(delta(7, 5), None);
    }
}

//! `/proc/loadavg`: the 1, 5 and 15 minute load averages.

use crate::error::{Error, Result};
use serde::Serialize;

/// Load averages (runnable plus uninterruptible tasks, exponentially averaged).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct LoadAvg {
    /// Over 1 minute.
    pub one: f64,
    /// Over 5 minutes.
    pub five: f64,
    /// Over 15 minutes.
    pub fifteen: f64,
}

/// Parses `/proc/loadavg` text.
pub fn parse(text: &str, path: &str) -> Result<LoadAvg> {
    let mut w = text.split_ascii_whitespace().map(str::parse::<f64>);
    match (w.next(), w.next(), w.next()) {
        (Some(Ok(one)), Some(Ok(five)), Some(Ok(fifteen))) => Ok(LoadAvg { one, five, fifteen }),
        _ => Err(Error::parse(path, "expected three load averages")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let l = parse("0.21 0.37 0.39 1/719 19737\n", "/proc/loadavg").unwrap();
        assert_eq!((l.one, l.five, l.fifteen), (0.21, 0.37, 0.39));
        assert!(parse("0.1 x", "/proc/loadavg").is_err());
    }
}

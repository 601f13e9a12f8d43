//! Pressure stall information (`/proc/pressure/*`, `<cgroup>/*.pressure`).

use crate::error::{Error, Result};

/// One PSI line: share of time some (or all) tasks were stalled.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PsiLine {
    /// Percent of the last 10 s.
    pub avg10: f64,
    /// Percent of the last 60 s.
    pub avg60: f64,
    /// Percent of the last 300 s.
    pub avg300: f64,
    /// Total stall time since boot, microseconds.
    pub total_us: u64,
}

/// A PSI file: the `some` line, and the `full` line where the resource has one (not for the
/// system-wide cpu file before 5.13; `irq` has only `full`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Psi {
    /// At least one task stalled.
    pub some: Option<PsiLine>,
    /// All non-idle tasks stalled.
    pub full: Option<PsiLine>,
}

/// Parses a PSI file.
pub fn parse(text: &str, path: &str) -> Result<Psi> {
    let mut psi = Psi::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut words = line.split_ascii_whitespace();
        let kind = words.next().unwrap_or("");
        let mut parsed = PsiLine::default();
        let mut seen = 0;
        for word in words {
            let Some((key, value)) = word.split_once('=') else { continue };
            let bad = || Error::parse(path, format!("bad value {word:?}"));
            match key {
                "avg10" => parsed.avg10 = value.parse().map_err(|_| bad())?,
                "avg60" => parsed.avg60 = value.parse().map_err(|_| bad())?,
                "avg300" => parsed.avg300 = value.parse().map_err(|_| bad())?,
                "total" => parsed.total_us = value.parse().map_err(|_| bad())?,
                _ => continue,
            }
            seen += 1;
        }
        if seen != 4 {
            return Err(Error::parse(path, format!("incomplete line {line:?}")));
        }
        match kind {
            "some" => psi.some = Some(parsed),
            "full" => psi.full = Some(parsed),
            _ => return Err(Error::parse(path, format!("unknown line kind {kind:?}"))),
        }
    }
    if psi.some.is_none() && psi.full.is_none() {
        return Err(Error::parse(path, "empty pressure file"));
    }
    Ok(psi)
}

/// The reason PSI of `resource` could not be read, in words for reports.
pub fn unavailable_reason(resource: &str, err: &Error) -> String {
    match err {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound && resource == "irq" => {
            "not provided by this kernel (irq pressure needs Linux 6.1+ with CONFIG_IRQ_TIME_ACCOUNTING)"
                .into()
        }
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            "not provided by this kernel (CONFIG_PSI off, or booted with psi=0)".into()
        }
        Error::Io { source, .. } if source.raw_os_error() == Some(libc::EOPNOTSUPP) => {
            "disabled (booted with psi=0 or psi disabled for this cgroup)".into()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_some_full_and_irq() {
        let p = parse(
            "some avg10=0.18 avg60=0.34 avg300=0.10 total=159886802\nfull avg10=0.18 avg60=0.34 avg300=0.10 total=159229614\n",
            "/proc/pressure/io",
        )
        .unwrap();
        assert_eq!(p.some.unwrap().total_us, 159886802);
        assert_eq!(p.full.unwrap().avg60, 0.34);
        let irq = parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=8494", "/proc/pressure/irq").unwrap();
        assert!(irq.some.is_none());
        assert_eq!(irq.full.unwrap().total_us, 8494);
        assert!(parse("some avg10=x avg60=0 avg300=0 total=1", "p").is_err());
        assert!(parse("some avg10=1", "p").is_err());
        assert!(parse("", "p").is_err());
    }
}

//! The answer of every probe item: supported, absent, denied or unknown, and why.

use serde::{Serialize, Serializer};
use std::io;

/// Whether this kernel, for this process, offers a feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The kernel accepted it.
    Supported,
    /// The kernel does not know or was built without it (EINVAL, E2BIG, ENOENT, ...).
    Absent,
    /// The kernel knows it but policy refused it (EPERM: lockdown, missing capability, sysctl).
    Denied,
    /// The probe could not tell (unexpected error, or a prerequisite was missing).
    Unknown,
}

impl Verdict {
    /// Classifies the errno of a failed probe call.
    pub fn from_error(err: &io::Error) -> Verdict {
        match err.raw_os_error() {
            Some(
                libc::EINVAL | libc::E2BIG | libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV | libc::ENOSYS,
            ) => Verdict::Absent,
            // ENOTSUPP (524), the kernel-internal "not supported" some paths leak to userspace.
            Some(524) => Verdict::Absent,
            Some(libc::EPERM | libc::EACCES) => Verdict::Denied,
            _ => Verdict::Unknown,
        }
    }

    /// The lowercase word used in JSON and tables.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Supported => "supported",
            Verdict::Absent => "absent",
            Verdict::Denied => "denied",
            Verdict::Unknown => "unknown",
        }
    }
}

/// A verdict with the reason behind it (the errno, or what was missing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The verdict.
    pub verdict: Verdict,
    /// Why, in a few words (empty when supported without remark).
    pub detail: String,
}

impl Finding {
    /// Supported, with an optional remark (e.g. which attach variant worked).
    pub fn supported(detail: impl Into<String>) -> Self {
        Finding { verdict: Verdict::Supported, detail: detail.into() }
    }

    /// A verdict with its reason.
    pub fn new(verdict: Verdict, detail: impl Into<String>) -> Self {
        Finding { verdict, detail: detail.into() }
    }

    /// The verdict of a failed call, the reason naming the step and the errno.
    pub fn from_error(step: &str, err: &io::Error) -> Self {
        Finding { verdict: Verdict::from_error(err), detail: format!("{step}: {err}") }
    }

    /// Supported when `result` is Ok, else classified by errno.
    pub fn from_result<T>(step: &str, result: io::Result<T>) -> Self {
        match result {
            Ok(_) => Finding::supported(""),
            Err(e) => Finding::from_error(step, &e),
        }
    }
}

/// A finding serialises as its verdict word alone (`"supported"`), so that JSON paths such as
/// `program_types.xdp` hold one of the four words; the reasons go to the probe's `details` map.
impl Serialize for Finding {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.verdict.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_classes() {
        let v = |e| Verdict::from_error(&io::Error::from_raw_os_error(e));
        assert_eq!(v(libc::EINVAL), Verdict::Absent);
        assert_eq!(v(libc::E2BIG), Verdict::Absent);
        assert_eq!(v(libc::EPERM), Verdict::Denied);
        assert_eq!(v(libc::ENOMEM), Verdict::Unknown);
    }
}

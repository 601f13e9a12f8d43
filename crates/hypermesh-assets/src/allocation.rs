//! Requests for assets and the allocations that answer them.

use crate::error::{Error, Result};
use crate::kind::{AssetKind, SharingLevel};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a consumer asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Kind of asset.
    pub kind: AssetKind,
    /// Amount in the kind's unit (milli-CPUs, GPUs, bytes).
    pub amount: u64,
    /// Who holds the allocation (job, tenant).
    pub holder: String,
    /// How long it is granted for.
    pub duration: Duration,
    /// Where the request comes from; only assets whose sharing level admits it are considered.
    pub scope: SharingLevel,
    /// Only assets on this NUMA node.
    pub numa_node: Option<u32>,
    /// Only this asset.
    pub asset: Option<String>,
    /// Only solid-state storage (NVMe, SSD).
    pub solid_state: bool,
}

impl Request {
    /// A request with no placement constraint, from the `Private` scope.
    pub fn new(kind: AssetKind, amount: u64, holder: impl Into<String>, duration: Duration) -> Self {
        Request {
            kind,
            amount,
            holder: holder.into(),
            duration,
            scope: SharingLevel::Private,
            numa_node: None,
            asset: None,
            solid_state: false,
        }
    }
}

impl Request {
    /// Why this request cannot be served at all, at time `now` (ms since the Unix epoch): a
    /// zero amount or duration, a holder that is not a printable name of at most 256 bytes, or a
    /// deadline past 9999-12-31 (which no date could show).
    pub fn validate(&self, now: u64) -> Result<()> {
        if self.amount == 0 {
            return Err(Error::Invalid("the amount must be positive".into()));
        }
        crate::text::check_name("holder", &self.holder).map_err(Error::Invalid)?;
        if self.duration.is_zero() {
            return Err(Error::Invalid("the duration must be positive".into()));
        }
        if deadline(now, self.duration) > MAX_DEADLINE_MS {
            return Err(Error::Invalid(format!(
                "a duration of {} ends after 9999-12-31T23:59:59Z, the latest deadline that can be kept",
                humantime::format_duration(self.duration)
            )));
        }
        Ok(())
    }
}

/// The deadline `duration` after `now` (ms since the Unix epoch), saturating.
pub(crate) fn deadline(now: u64, duration: Duration) -> u64 {
    now.saturating_add(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}

/// The latest deadline kept: 9999-12-31T23:59:59.999Z, in ms since the Unix epoch.
pub const MAX_DEADLINE_MS: u64 = 253_402_300_799_999;

/// An amount taken from one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// Asset id.
    pub asset: String,
    /// Amount in the kind's unit.
    pub amount: u64,
}

/// Whether an allocation still holds its assets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum AllocationState {
    /// Holding its assets.
    Active,
    /// An operator declared its assets gone (`hypermesh assets mark-lost`): it holds nothing
    /// and stays listed until released.
    Lost {
        /// Why, as the operator said.
        reason: String,
        /// When it was noticed (ms since the Unix epoch).
        since_ms: u64,
    },
}

/// A grant of assets to a holder until a deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    /// Id, never reused on this node.
    pub id: u64,
    /// Holder named in the request.
    pub holder: String,
    /// Kind of asset.
    pub kind: AssetKind,
    /// What it holds.
    pub parts: Vec<Part>,
    /// Scope of the request.
    pub scope: SharingLevel,
    /// Granted at (ms since the Unix epoch).
    pub created_ms: u64,
    /// Expires at (ms since the Unix epoch).
    pub expires_ms: u64,
    /// Active or lost.
    #[serde(flatten)]
    pub state: AllocationState,
}

impl Allocation {
    /// True while it holds its assets.
    pub fn is_active(&self) -> bool {
        self.state == AllocationState::Active
    }

    /// Total amount held.
    pub fn amount(&self) -> u64 {
        self.parts.iter().map(|p| p.amount).sum()
    }
}

/// Milliseconds since the Unix epoch now (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Parses a duration written by a user (`90s`, `1h`, `2h 30m`); it must be positive.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(format!("{text:?}: the duration must be positive")),
        Err(e) => Err(format!("{text:?} is not a duration (e.g. 90s, 1h, 2h 30m): {e}")),
    }
}

/// A deadline for people: `2026-11-27T01:00:00Z (in 59m 12s)`, or `(passed)`; a stored
/// deadline past 9999-12-31 (older versions let one in) is shown as such, never a panic.
pub fn format_deadline(expires_ms: u64, now_ms: u64) -> String {
    if expires_ms > MAX_DEADLINE_MS {
        return format!("after 9999-12-31 (stored: {expires_ms} ms, out of range)");
    }
    let at = humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(expires_ms));
    if expires_ms <= now_ms {
        return format!("{at} (passed)");
    }
    let left = Duration::from_secs((expires_ms - now_ms) / 1000);
    format!("{at} (in {})", humantime::format_duration(left))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_duration("2h 30m"), Ok(Duration::from_secs(9000)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn deadlines_format() {
        let t = 1_800_000_000_000;
        assert_eq!(format_deadline(t + 3_600_000, t), "2027-01-15T09:00:00Z (in 1h)");
        assert_eq!(format_deadline(t, t), "2027-01-15T08:00:00Z (passed)");
        assert_eq!(format_deadline(MAX_DEADLINE_MS, t).get(..20), Some("9999-12-31T23:59:59Z"));
        assert!(format_deadline(MAX_DEADLINE_MS + 1, t).contains("out of range"));
        assert!(format_deadline(u64::MAX, t).contains("out of range"));
    }

    #[test]
    fn deadlines_past_year_9999_are_refused_before_anything_is_kept() {
        let t = 1_800_000_000_000;
        let long = Request::new(AssetKind::Cpu, 1, "j", parse_duration("10000y").unwrap());
        let err = long.validate(t).unwrap_err().to_string();
        assert!(err.contains("ends after 9999-12-31"), "{err}");
        assert!(Request::new(AssetKind::Cpu, 1, "j", Duration::from_secs(3600)).validate(t).is_ok());
        let max = Request::new(AssetKind::Cpu, 1, "j", Duration::from_millis(MAX_DEADLINE_MS - t));
        assert!(max.validate(t).is_ok());
    }
}

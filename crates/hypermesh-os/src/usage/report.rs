//! One usage reading as people and tools get it: the rates between two samples plus filesystem
//! space now. The JSON of `hypermesh usage --json` and of the agent's `/v1/usage`.

use super::Sample;
use super::filesystems::{self, Filesystems};
use super::rates::{Rates, SourceError};
use crate::root::FsRoot;
use serde::Serialize;

/// Rates over an interval and filesystem space at its end.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Rates between the two samples.
    #[serde(flatten)]
    pub rates: Rates,
    /// Space per filesystem; `None` when the mount table could not be read (the reason is in
    /// `errors`, source `filesystems`).
    pub filesystems: Option<Filesystems>,
}

impl Report {
    /// Rates between `prev` and `cur`, and filesystem space read under `root` now.
    pub fn new(root: &FsRoot, prev: &Sample, cur: &Sample) -> Report {
        let mut rates = Rates::between(prev, cur);
        let filesystems = match filesystems::read(root) {
            Ok(fs) => Some(fs),
            Err(e) => {
                rates.errors.push(SourceError { source: "filesystems", message: e.to_string() });
                None
            }
        };
        Report { rates, filesystems }
    }

    /// True when not one of CPU, memory, disks and network could be read.
    pub fn is_empty(&self) -> bool {
        let r = &self.rates;
        r.cpu.is_none() && r.memory.is_none() && r.disks.is_empty() && r.network.is_empty()
    }
}

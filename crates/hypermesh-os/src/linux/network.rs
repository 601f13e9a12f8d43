//! network section (placeholder until implemented).

use crate::error::{Error, Result};
use crate::model::Network;
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects the network section.
pub fn detect(_root: &FsRoot, _problems: &mut Problems) -> Result<Network> {
    Err(Error::Unsupported("network detection is not implemented yet".into()))
}

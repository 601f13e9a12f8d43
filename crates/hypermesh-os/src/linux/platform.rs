//! platform section (placeholder until implemented).

use crate::error::{Error, Result};
use crate::model::Platform;
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects the platform section.
pub fn detect(_root: &FsRoot, _problems: &mut Problems) -> Result<Platform> {
    Err(Error::Unsupported("platform detection is not implemented yet".into()))
}

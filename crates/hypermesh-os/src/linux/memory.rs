//! memory section (placeholder until implemented).

use crate::error::{Error, Result};
use crate::model::Memory;
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects the memory section.
pub fn detect(_root: &FsRoot, _problems: &mut Problems) -> Result<Memory> {
    Err(Error::Unsupported("memory detection is not implemented yet".into()))
}

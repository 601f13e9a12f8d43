//! numa section (placeholder until implemented).

use crate::error::{Error, Result};
use crate::model::Numa;
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects the numa section.
pub fn detect(_root: &FsRoot, _problems: &mut Problems) -> Result<Numa> {
    Err(Error::Unsupported("numa detection is not implemented yet".into()))
}

//! GPU detection (placeholder until implemented).

use crate::error::{Error, Result};
use crate::model::Gpu;
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects GPUs.
pub fn detect(_root: &FsRoot, _problems: &mut Problems) -> Result<Vec<Gpu>> {
    Err(Error::Unsupported("gpu detection is not implemented yet".into()))
}

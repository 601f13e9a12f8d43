//! storage section (placeholder until implemented).

use crate::error::{Error, Result};
use crate::model::Storage;
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects the storage section.
pub fn detect(_root: &FsRoot, _problems: &mut Problems) -> Result<Storage> {
    Err(Error::Unsupported("storage detection is not implemented yet".into()))
}

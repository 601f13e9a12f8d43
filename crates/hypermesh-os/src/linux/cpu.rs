//! cpu section (placeholder until implemented).

use crate::error::{Error, Result};
use crate::model::Cpu;
use crate::profile::Problems;
use crate::root::FsRoot;

/// Detects the cpu section.
pub fn detect(_root: &FsRoot, _problems: &mut Problems) -> Result<Cpu> {
    Err(Error::Unsupported("cpu detection is not implemented yet".into()))
}

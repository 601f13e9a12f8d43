//! HyperMesh eBPF layer (Linux): kernel capability probe, bytecode check, program lifecycle.

pub mod btf_index;
pub mod error;
pub mod probe;
pub mod sys;

pub use error::{Error, Result};

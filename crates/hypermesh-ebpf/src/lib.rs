//! HyperMesh eBPF layer (Linux): kernel capability probe, bytecode check, program lifecycle.

pub mod btf_index;
pub mod check;
pub mod error;
pub mod lifecycle;
pub mod maps;
pub mod probe;
pub mod programs;
pub mod stats;
pub mod sys;

pub use error::{Error, Result};

//! HyperMesh eBPF layer (Linux): kernel capability probe, bytecode check, program lifecycle.
//!
//! Linux only: the crate is empty without the `native_linux` cfg (other systems, or the
//! portable-only check build; see `build-support/native_linux.rs`).

#![cfg(native_linux)]

pub mod btf_index;
pub mod check;
pub mod error;
pub mod lifecycle;
pub mod maps;
pub mod probe;
pub mod programs;
pub mod stats;
pub mod sys;
pub mod tracefs;

pub use error::{Error, Result};

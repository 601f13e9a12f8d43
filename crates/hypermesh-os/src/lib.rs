//! HyperMesh OS abstraction: one API that tells what a host has and how busy it is.
//!
//! Linux is read natively from /proc and /sys under an injectable [`FsRoot`]; other systems go
//! through the portable backend. Every section of a [`HostProfile`] is detected on its own, so
//! one unreadable part yields an error entry for that part only.
//!
//! The modules that read Linux /proc and /sys, and [`FsRoot`] itself, exist only under the
//! `native_linux` cfg (Linux, unless built with `--cfg hypermesh_portable_only`; see
//! `build-support/native_linux.rs`); everywhere else the portable backend is the only one.

#[cfg(native_linux)]
pub mod capture;
pub mod cpulist;
pub mod error;
#[cfg(native_linux)]
pub mod gpu;
#[cfg(native_linux)]
pub mod health;
pub mod heap;
#[cfg(native_linux)]
pub mod linux;
pub mod model;
pub mod portable;
pub mod profile;
#[cfg(native_linux)]
pub mod root;
pub mod select;
#[cfg(native_linux)]
pub mod usage;

pub use error::{Error, Result};
pub use profile::{Backend, HostProfile, Problems, Section, SectionError, detect};
#[cfg(native_linux)]
pub use root::FsRoot;

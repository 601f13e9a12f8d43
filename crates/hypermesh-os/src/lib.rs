//! HyperMesh OS abstraction: one API that tells what a host has and how busy it is.
//!
//! Linux is read natively from /proc and /sys under an injectable [`FsRoot`]; other systems go
//! through the portable backend. Every section of a [`HostProfile`] is detected on its own, so
//! one unreadable part yields an error entry for that part only.

pub mod capture;
pub mod cpulist;
pub mod error;
pub mod gpu;
pub mod heap;
pub mod linux;
pub mod model;
pub mod portable;
pub mod profile;
pub mod root;
pub mod synthetic;
pub mod testing;
pub mod usage;

pub use error::{Error, Result};
pub use profile::{Backend, HostProfile, Problems, Section, SectionError, detect};
pub use root::FsRoot;

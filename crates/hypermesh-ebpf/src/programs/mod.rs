//! The programs HyperMesh ships, each a [`Spec`](crate::lifecycle::Spec) over an embedded object.
//! To add one: write `bpf/NAME.bpf.c` (names prefixed `hm_`), run `scripts/build-bpf.sh`, add a
//! module here with its spec and typed readers, implement [`Traced`] for a tracing program, list
//! it in [`suite`], and add a `run` arm in the CLI.

use crate::error::Result;
use crate::lifecycle::{Loaded, Spec};

pub mod biolatency;
pub mod exec;
pub mod metrics;
pub mod nanosleep;
pub mod runqlat;
pub mod syscalls;
pub mod tcp;
pub mod xdp_counter;

/// An embedded object, 8-byte aligned as aya needs.
#[macro_export]
#[doc(hidden)]
macro_rules! embedded_object {
    ($name:literal) => {
        aya::include_bytes_aligned!(concat!(env!("CARGO_MANIFEST_DIR"), "/bpf/", $name))
    };
}

/// A hook's tracepoint fallback chain as a `&'static [Variant]`, best first: any `first:`
/// variants, then tp_btf, raw_tp and the classic tracepoint `CATEGORY:EVENT`, whose programs
/// are named `PREFIX_btf`, `PREFIX_raw` and `PREFIX_tp`; `core` as in
/// [`Variant::RawTp`](crate::lifecycle::Variant::RawTp).
#[macro_export]
#[doc(hidden)]
macro_rules! tracepoint_chain {
    ($(first: [$($first:expr),* $(,)?],)? $prefix:literal, $category:literal : $event:literal, core: $core:literal) => {
        &[
            $($($first,)*)?
            $crate::lifecycle::Variant::TpBtf { prog: concat!($prefix, "_btf"), event: $event },
            $crate::lifecycle::Variant::RawTp { prog: concat!($prefix, "_raw"), event: $event, core: $core },
            $crate::lifecycle::Variant::Tracepoint {
                prog: concat!($prefix, "_tp"),
                category: $category,
                event: $event,
            },
        ]
    };
}

/// A kernel `comm` (NUL-padded, at most 16 bytes) as text.
pub(crate) fn comm_str(comm: &[u8]) -> String {
    let end = comm.iter().position(|&b| b == 0).unwrap_or(comm.len());
    String::from_utf8_lossy(&comm[..end]).into_owned()
}

/// A tracing program of the suite: one spec with its fallback chains, and how to start it.
/// The CLI's `ebpf run` and `ebpf programs` go through it, so that each program is named and
/// specified in one place.
pub trait Traced: Sized {
    /// The spec for this kernel: every hook's chain, best first; its `name` is the program's.
    fn spec() -> Spec;
    /// Loads and attaches `spec` ([`spec`](Self::spec), possibly forced to one variant).
    fn start_spec(spec: &Spec) -> Result<Self>;
    /// The loaded programs: the variant each hook got, and the kernel ids.
    fn loaded(&self) -> &Loaded;
}

/// Implements [`Traced`] with the program's own `start_spec` and `loaded` and the given spec.
macro_rules! traced {
    ($ty:ty, $spec:expr) => {
        impl Traced for $ty {
            fn spec() -> Spec {
                $spec
            }
            fn start_spec(spec: &Spec) -> Result<Self> {
                <$ty>::start_spec(spec)
            }
            fn loaded(&self) -> &Loaded {
                <$ty>::loaded(self)
            }
        }
    };
}

traced!(runqlat::Runqlat, runqlat::spec_from(0));
traced!(syscalls::Syscalls, syscalls::spec());
traced!(exec::Exec, exec::spec_from(0));
traced!(tcp::Tcp, tcp::spec());
traced!(biolatency::Biolatency, biolatency::spec());

/// The tracing programs `hypermesh ebpf run` offers, as their specs, in the order listed.
pub fn suite() -> Vec<Spec> {
    vec![
        runqlat::Runqlat::spec(),
        syscalls::Syscalls::spec(),
        exec::Exec::spec(),
        tcp::Tcp::spec(),
        biolatency::Biolatency::spec(),
    ]
}

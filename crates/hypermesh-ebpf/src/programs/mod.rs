//! The programs HyperMesh ships, each a [`Spec`](crate::lifecycle::Spec) over an embedded object.
//! To add one: write `bpf/NAME.bpf.c` (names prefixed `hm_`), run `scripts/build-bpf.sh`, add a
//! module here with its spec and typed readers, and a `run` arm in the CLI.

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

/// The suite `hypermesh ebpf run` offers, by name.
pub fn suite() -> Vec<crate::lifecycle::Spec> {
    vec![runqlat::spec_from(0), syscalls::spec(), exec::spec_from(0), tcp::spec(), biolatency::spec()]
}

//! The `native_linux` cfg, shared by the build scripts of the workspace crates (`hypermesh-os`'s
//! and `cfg_only.rs`, the others', include this file with `#[path]`), so the condition is
//! written once.
//!
//! `native_linux` holds where the Linux-only code (the native /proc and /sys backend, `FsRoot`,
//! the usage sampler, capture, eBPF) is compiled: on Linux, unless `--cfg hypermesh_portable_only`
//! is given. That flag makes a Linux build compile exactly what a Windows, macOS or FreeBSD build
//! compiles (the portable backend only), so that configuration is type-checked and tested here:
//!
//! ```sh
//! RUSTFLAGS="--cfg hypermesh_portable_only" cargo check --workspace --all-targets --target-dir target/portable-only
//! ```

/// Prints the cargo instructions that declare `hypermesh_portable_only` and define `native_linux`.
pub fn declare() {
    println!("cargo::rerun-if-changed={}/../../build-support/native_linux.rs", env!("CARGO_MANIFEST_DIR"));
    println!("cargo::rustc-check-cfg=cfg(hypermesh_portable_only)");
    println!("cargo::rustc-check-cfg=cfg(native_linux)");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    // Cargo exposes the --cfg flags of RUSTFLAGS to build scripts as CARGO_CFG_<NAME>.
    let portable_only = std::env::var_os("CARGO_CFG_HYPERMESH_PORTABLE_ONLY").is_some();
    if linux && !portable_only {
        println!("cargo::rustc-cfg=native_linux");
    }
}

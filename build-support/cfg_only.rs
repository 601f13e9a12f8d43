//! The build script of the workspace crates that need nothing but the `native_linux` cfg
//! (`build = "../../build-support/cfg_only.rs"` in their Cargo.toml).

#[path = "native_linux.rs"]
mod native_linux;

fn main() {
    native_linux::declare();
}

//! Build script: defines the workspace's `native_linux` cfg (see
//! `build-support/native_linux.rs`).

#[path = "../../build-support/native_linux.rs"]
mod native_linux;

fn main() {
    native_linux::declare();
}

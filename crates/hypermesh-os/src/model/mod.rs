//! Plain data types of a host profile, shared by every backend and serialised as the CLI's JSON.
//!
//! Field names are snake_case, sizes are bytes as integers, and a value that cannot be known
//! is `None` (`null` in JSON), never a made-up 0 or -1.

mod allowed;
mod cpu;
mod gpu;
mod memory;
mod network;
mod numa;
mod platform;
mod storage;

pub use allowed::*;
pub use cpu::*;
pub use gpu::*;
pub use memory::*;
pub use network::*;
pub use numa::*;
pub use platform::*;
pub use storage::*;

/// The snake_case name serde gives a unit enum variant (`nvme`, `discrete`), for a label value
/// or a table cell.
pub fn snake_name<T: serde::Serialize>(value: T) -> Option<String> {
    serde_json::to_value(value).ok()?.as_str().map(str::to_string)
}

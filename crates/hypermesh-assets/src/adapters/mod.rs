//! One adapter per asset kind.

mod cpu;
mod gpu;
mod memory;
mod storage;

pub use cpu::CpuAdapter;
pub use gpu::GpuAdapter;
pub use memory::MemoryAdapter;
pub use storage::StorageAdapter;

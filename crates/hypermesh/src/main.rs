//! The `hypermesh` binary; the command lives in the library (`src/lib.rs`).

fn main() -> std::process::ExitCode {
    hypermesh::main()
}

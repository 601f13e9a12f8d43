//! The floor under `hypermesh profile --json` as a whole process: does only the system calls a
//! profile of this host makes (see `hypermesh_testkit::floor`). `scripts/bench-process.sh` times it.
//!
//! - `read_floor record > steps`: profiles this host and prints what it read, one step a line.
//! - `read_floor [--threads N] steps`: reads the step list, then replays it on N threads.
//!   With an empty list it is the start-up of a Rust program that reads one small file.

#[cfg(native_linux)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use hypermesh_testkit::floor::{Step, record, replay};
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (threads, list) = match args.as_slice() {
        [cmd] if cmd == "record" => {
            for step in record() {
                println!("{step}");
            }
            return Ok(());
        }
        [flag, n, list] if flag == "--threads" => (n.parse()?, list),
        [list] => (1, list),
        _ => return Err("usage: read_floor record | read_floor [--threads N] STEPS_FILE".into()),
    };
    let steps = std::fs::read_to_string(list)?.lines().map(str::parse).collect::<Result<Vec<Step>, _>>()?;
    println!("{:?}", replay(&steps, threads));
    Ok(())
}

#[cfg(not(native_linux))]
fn main() {
    eprintln!("read_floor: the floor is measured on Linux only");
}

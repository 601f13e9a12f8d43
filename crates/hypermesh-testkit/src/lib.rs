//! Scaffolding for the workspace's tests, benches and examples, a dev-dependency only: skipping
//! with a reason, the shared fixture archives, the median of timings, a real Prometheus server
//! ([`prometheus`]), generated trees of other machines ([`synthetic`]) and the system-call floor
//! under a profile ([`floor`]).
//!
//! A test that needs root or a kernel feature calls [`skip`] when it cannot run. Elsewhere it
//! prints the reason and returns; under `.ci/run` (which sets `HYPERMESH_REQUIRE_ALL=1`) the skip
//! becomes a failure, so CI never passes by skipping.

use std::path::{Path, PathBuf};

#[cfg(native_linux)]
pub mod floor;
pub mod prometheus;
#[cfg(native_linux)]
pub mod synthetic;

/// Variable that turns every [`skip`] into a failure.
pub const REQUIRE_ALL_VAR: &str = "HYPERMESH_REQUIRE_ALL";

/// Reports that a test cannot run here. Panics (fails the test) when [`REQUIRE_ALL_VAR`] is set.
pub fn skip(reason: &str) {
    if std::env::var_os(REQUIRE_ALL_VAR).is_some_and(|v| v != "0") {
        panic!("test could not run and {REQUIRE_ALL_VAR} is set: {reason}");
    }
    eprintln!("SKIP: {reason}");
}

/// True when the process runs as root (uid 0).
#[cfg(native_linux)]
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Sends `signal` (`libc::SIGTERM`...) to process `pid`, as `kill -SIG PID` does, without the
/// `kill` program (procps, which a minimal Debian root lacks). Panics when the kernel refuses.
#[cfg(native_linux)]
pub fn send_signal(pid: u32, signal: libc::c_int) {
    let raw = libc::pid_t::try_from(pid).expect("pid fits pid_t");
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    let rc = unsafe { libc::kill(raw, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal}): {}", std::io::Error::last_os_error());
}

/// The hypervisor verdict and its source that a capture's replay gives for a live `verdict`:
/// the same, except that CPUID is no file, so a live verdict from its hypervisor leaf (reached
/// when the ACPI table naming the hypervisor is unreadable, DSDT being root-only) replays as the
/// bare hypervisor flag.
pub fn replayed_virtualization<'a>(
    verdict: (Option<&'a str>, Option<&'a str>),
) -> (Option<&'a str>, Option<&'a str>) {
    match verdict.1 {
        Some(source) if source.starts_with("cpuid") => (Some("unknown"), Some("cpuinfo hypervisor flag")),
        _ => verdict,
    }
}

/// Asserts that the replay of a capture (`profile --json` over `--root`) gives the hypervisor
/// verdict [`replayed_virtualization`] expects from the live one.
pub fn assert_same_virtualization(live: &serde_json::Value, replay: &serde_json::Value) {
    fn verdict(profile: &serde_json::Value) -> (Option<&str>, Option<&str>) {
        let p = &profile["platform"];
        (p["virtualization"].as_str(), p["virtualization_source"].as_str())
    }
    assert_eq!(verdict(replay), replayed_virtualization(verdict(live)), "platform.virtualization");
}

/// The median of timings (the upper one of an even count): what the benches print when they time
/// rivals in alternation, since this host's speed drifts more than their differences.
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The project's `shared/` folder, beside the repository: `HYPERMESH_SHARED` if set, else the
/// first `shared/` found beside the workspace root or one of its ancestors.
pub fn shared_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HYPERMESH_SHARED") {
        return Some(PathBuf::from(dir));
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().map(|a| a.join("shared")).find(|p| p.join("fixtures").is_dir())
}

/// Unpacks `shared/fixtures/NAME.tar.gz` into a fresh temporary directory and returns the
/// directory the archive holds (e.g. `.../node_exporter`). `None`, with a printed reason, when
/// the shared folder is absent (the skip fails under `.ci/run`).
pub fn unpack_fixture(name: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let Some(shared) = shared_dir() else {
        skip(&format!("../shared/fixtures/{name}.tar.gz not found (no shared folder beside the repo)"));
        return None;
    };
    let archive = shared.join("fixtures").join(format!("{name}.tar.gz"));
    let tmp = tempfile::Builder::new()
        .prefix(&format!("hypermesh-{name}-"))
        .tempdir()
        .expect("create a temporary directory");
    let file = std::fs::File::open(&archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(tmp.path())
        .unwrap_or_else(|e| panic!("unpack {}: {e}", archive.display()));
    let inner = tmp.path().join(name);
    let dir = if inner.is_dir() { inner } else { tmp.path().to_path_buf() };
    Some((tmp, dir))
}

//! Speed goals of the eBPF layer (run as root: `cargo bench -p hypermesh-ebpf`):
//! quick probe ≤ 20 ms; full probe ≤ 0.5 × `bpftool feature probe` (measured here too);
//! runqlat load + attach ≤ 100 ms with the kernel BTF parsed once per process (also measured:
//! the one-time BTF parse).

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use criterion::{Criterion, criterion_group};
    use hypermesh_ebpf::lifecycle::kernel_btf;
    use hypermesh_ebpf::probe::{ProbeOptions, probe};
    use hypermesh_ebpf::programs::runqlat::Runqlat;
    use hypermesh_os::FsRoot;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn benches(c: &mut Criterion) {
        if !hypermesh_os::testing::is_root() {
            eprintln!("SKIP: the eBPF benches load programs and need root");
            return;
        }
        let root = FsRoot::host();
        let mut g = c.benchmark_group("ebpf");
        g.sample_size(10).measurement_time(Duration::from_secs(5));
        g.bench_function("probe_quick", |b| b.iter(|| probe(&root, ProbeOptions::quick()).unwrap()));
        g.bench_function("probe_full", |b| b.iter(|| probe(&root, ProbeOptions::full()).unwrap()));
        if Command::new("bpftool").arg("version").output().is_ok() {
            g.bench_function("bpftool_feature_probe", |b| {
                b.iter(|| Command::new("bpftool").args(["feature", "probe", "--json"]).output().unwrap())
            });
        }
        let t = Instant::now();
        assert!(kernel_btf().is_some(), "kernel BTF");
        eprintln!("one-time kernel BTF parse: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
        // Load + attach only: the detach on drop (RCU grace periods) is left out of the timing.
        g.bench_function("runqlat_load_attach", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let rq = Runqlat::start().unwrap();
                    total += t.elapsed();
                    drop(rq);
                }
                total
            })
        });
        g.finish();
    }

    criterion_group!(ebpf, benches);
}

#[cfg(native_linux)]
criterion::criterion_main!(native::ebpf);

/// Nothing to measure: this build has no native Linux backend.
#[cfg(not(native_linux))]
fn main() {}

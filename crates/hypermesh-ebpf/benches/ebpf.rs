//! Speed goals of the eBPF layer (run as root: `cargo bench -p hypermesh-ebpf`):
//! quick probe ≤ 20 ms; full probe ≤ 0.5 × `bpftool feature probe` (measured here too, and the
//! full probe's helper scan alone);
//! runqlat load + attach ≤ 100 ms with the kernel BTF parsed once per process (also measured:
//! the one-time BTF parse).

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use criterion::{Criterion, criterion_group};
    use hypermesh_ebpf::probe::helpers::{probe_helpers, supported_types};
    use hypermesh_ebpf::probe::types::probe_prog_types;
    use hypermesh_ebpf::probe::{ProbeOptions, probe};
    use hypermesh_ebpf::programs::runqlat::Runqlat;
    use hypermesh_os::FsRoot;
    use std::process::Command;
    use std::time::{Duration, Instant};

    fn benches(c: &mut Criterion) {
        if !hypermesh_testkit::is_root() {
            eprintln!("SKIP: the eBPF benches load programs and need root");
            return;
        }
        let root = FsRoot::host();
        let mut g = c.benchmark_group("ebpf");
        g.sample_size(10).measurement_time(Duration::from_secs(5));
        g.bench_function("probe_quick", |b| b.iter(|| probe(&root, ProbeOptions::quick()).unwrap()));
        g.bench_function("probe_full", |b| b.iter(|| probe(&root, ProbeOptions::full()).unwrap()));
        // The helper scan alone (some 5,700 loads that fail in the verifier, spread over all
        // CPUs): the part of the full probe that does what bpftool does, one load at a time.
        let types = probe_prog_types();
        let usable = supported_types(&types);
        g.bench_function("probe_helpers_only", |b| b.iter(|| probe_helpers(&usable)));
        let bpftool = || Command::new("bpftool").args(["feature", "probe", "--json"]).output().unwrap();
        if Command::new("bpftool").arg("version").output().is_ok() {
            g.bench_function("bpftool_feature_probe", |b| b.iter(bpftool));
            // Criterion times one function after the other, and this host's speed drifts by
            // more than the difference between runs: also alternate the three, one run each
            // in turn, and print the median ratios.
            let full = || drop(probe(&root, ProbeOptions::full()).unwrap());
            let helpers = || drop(probe_helpers(&usable));
            let tool = || drop(bpftool());
            let mut times: [Vec<f64>; 3] = Default::default();
            for _ in 0..15 {
                for (i, f) in [&full as &dyn Fn(), &helpers, &tool].into_iter().enumerate() {
                    let t = Instant::now();
                    f();
                    times[i].push(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            let [full, helpers, tool] = times.map(hypermesh_testkit::median);
            eprintln!(
                "alternating, medians of 15: full probe {full:.1} ms, helper scan alone {helpers:.1} ms, \
                 bpftool {tool:.1} ms: full/bpftool {:.2}, helpers/bpftool {:.2}",
                full / tool,
                helpers / tool
            );
        }
        let t = Instant::now();
        assert!(aya::Btf::from_sys_fs().is_ok(), "kernel BTF");
        eprintln!("one kernel BTF parse (each load does one): {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
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

//! Cost of one full usage sample (every source: per-CPU stat, loadavg, PSI, meminfo, vmstat,
//! diskstats, net/dev, cgroup) on the live host, and of turning two samples into rates.
//! Target: at most 100 µs per sample.

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use criterion::{Criterion, criterion_group};
    use hypermesh_os::FsRoot;
    use hypermesh_os::usage::{Rates, Sampler};
    use std::hint::black_box;

    fn usage(c: &mut Criterion) {
        let mut sampler = Sampler::new(FsRoot::host());
        c.bench_function("usage/sample", |b| b.iter(|| black_box(sampler.sample())));
        let a = sampler.sample();
        let z = sampler.sample();
        c.bench_function("usage/rates_between", |b| b.iter(|| black_box(Rates::between(&a, &z))));
        c.bench_function("usage/sampler_new", |b| b.iter(|| black_box(Sampler::new(FsRoot::host()))));
    }

    criterion_group!(benches, usage);
}

#[cfg(native_linux)]
criterion::criterion_main!(native::benches);

/// Nothing to measure: this build has no native Linux backend.
#[cfg(not(native_linux))]
fn main() {}

//! Cost of one full usage sample (every source: per-CPU stat, loadavg, PSI, meminfo, vmstat,
//! diskstats, net/dev, cgroup) on the live host, and of turning two samples into rates.
//! Target: at most 100 µs per sample.

use criterion::{Criterion, criterion_group, criterion_main};
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
criterion_main!(benches);

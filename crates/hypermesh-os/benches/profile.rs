//! Speed of the inventory: the full profile of this host in-process (all sections, then each
//! section alone), the floor under it (only the system calls the profile makes, see
//! `hypermesh_testkit::floor`, on one thread and on two), the sysinfo-based equivalent, and the cpu
//! section on generated 64-, 512- and 4096-CPU trees to show that its cost grows linearly with
//! the number of CPUs.

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
    use hypermesh_os::linux::LinuxBackend;
    use hypermesh_os::{FsRoot, Section, detect};
    use hypermesh_testkit::floor;
    use hypermesh_testkit::synthetic::{Machine, Tree};
    use std::hint::black_box;
    use std::time::Instant;
    use sysinfo::{CpuRefreshKind, Disks, MemoryRefreshKind, Networks, RefreshKind, System};

    fn host(c: &mut Criterion) {
        let backend = LinuxBackend::new(FsRoot::host());
        let mut g = c.benchmark_group("host");
        g.bench_function("profile_all_sections", |b| b.iter(|| black_box(detect(&backend, &[]))));
        for s in Section::ALL {
            g.bench_function(format!("section_{s}"), |b| b.iter(|| black_box(detect(&backend, &[s]))));
        }
        let steps = floor::record();
        for threads in [1, 2] {
            g.bench_function(format!("floor_{threads}_thread"), |b| {
                b.iter(|| black_box(floor::replay(&steps, threads)))
            });
        }
        g.bench_function("sysinfo_cpus_memory_disks_networks", |b| b.iter(sysinfo_summary));
        g.finish();
        // Criterion times one function after the other, and this host's speed drifts by more
        // than the differences between them: also time the four in turn, 30 runs each per
        // round, and print the medians of the round means.
        let profile = || {
            black_box(detect(&backend, &[]));
        };
        let floor_1 = || {
            black_box(floor::replay(&steps, 1));
        };
        let floor_2 = || {
            black_box(floor::replay(&steps, 2));
        };
        let sysinfo = || {
            black_box(sysinfo_summary());
        };
        let runs: [&dyn Fn(); 4] = [&profile, &floor_1, &floor_2, &sysinfo];
        let mut means: [Vec<f64>; 4] = Default::default();
        for _ in 0..ROUNDS {
            for (f, m) in runs.iter().zip(&mut means) {
                let t = Instant::now();
                (0..30).for_each(|_| f());
                m.push(t.elapsed().as_secs_f64() * 1e6 / 30.0);
            }
        }
        let [profile, floor_1, floor_2, sysinfo] = means.map(hypermesh_testkit::median);
        eprintln!(
            "host: alternating, medians of {ROUNDS} rounds: profile {profile:.0} µs, floor {floor_1:.0} µs on \
             one thread and {floor_2:.0} µs on two, sysinfo {sysinfo:.0} µs"
        );
    }

    /// Rounds of the alternating comparison.
    const ROUNDS: usize = 21;

    /// What the sysinfo-based program reads: CPUs, memory, disks, networks.
    fn sysinfo_summary() -> impl Sized {
        let sys = System::new_with_specifics(
            RefreshKind::nothing()
                .with_cpu(CpuRefreshKind::everything())
                .with_memory(MemoryRefreshKind::everything()),
        );
        (sys, Disks::new_with_refreshed_list(), Networks::new_with_refreshed_list())
    }

    fn cpu_scaling(c: &mut Criterion) {
        let mut g = c.benchmark_group("cpu_section_synthetic");
        g.sample_size(20);
        for (packages, cores, threads) in [(1, 32, 2), (2, 128, 2), (8, 256, 2)] {
            let n = packages * cores * threads;
            let dir = tempfile::tempdir().unwrap();
            Machine::x86(packages, cores, threads).write(&Tree::new(dir.path()).unwrap()).unwrap();
            let backend = LinuxBackend::new(FsRoot::new(dir.path()).unwrap());
            let cpu = detect(&backend, &[Section::Cpu]).cpu.expect("cpu section");
            assert_eq!(cpu.logical_cpus, n);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::from_parameter(n), &backend, |b, backend| {
                b.iter(|| black_box(detect(backend, &[Section::Cpu])))
            });
        }
        g.finish();
    }

    /// Storage and network sections on generated trees of 64 and 512 disks / interfaces.
    fn device_scaling(c: &mut Criterion) {
        let mut g = c.benchmark_group("device_sections_synthetic");
        g.sample_size(20);
        for n in [64, 512] {
            let dir = tempfile::tempdir().unwrap();
            Tree::new(dir.path()).unwrap().virtio_disks(n).unwrap().ethernet_interfaces(n).unwrap();
            let backend = LinuxBackend::new(FsRoot::new(dir.path()).unwrap());
            let p = detect(&backend, &[Section::Storage, Section::Network]);
            assert_eq!(p.storage.expect("storage section").block_devices.len(), n);
            assert_eq!(p.network.expect("network section").interfaces.len(), n);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new("disks", n), &backend, |b, backend| {
                b.iter(|| black_box(detect(backend, &[Section::Storage])))
            });
            g.bench_with_input(BenchmarkId::new("interfaces", n), &backend, |b, backend| {
                b.iter(|| black_box(detect(backend, &[Section::Network])))
            });
        }
        g.finish();
    }

    criterion_group!(benches, host, cpu_scaling, device_scaling);
}

#[cfg(native_linux)]
criterion::criterion_main!(native::benches);

/// Nothing to measure: this build has no native Linux backend.
#[cfg(not(native_linux))]
fn main() {}

//! Cost of the storage and network sections on the live host, whole and by part.

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use criterion::{Criterion, criterion_group};
    use hypermesh_os::FsRoot;
    use hypermesh_os::linux::storage::{block, filesystems, nvme};
    use hypermesh_os::linux::{network, storage};
    use std::hint::black_box;

    fn sections(c: &mut Criterion) {
        let root = FsRoot::host();
        c.bench_function("storage section", |b| {
            b.iter(|| black_box(storage::detect(&root, &mut Vec::new())))
        });
        c.bench_function("storage: block devices + nvme", |b| {
            b.iter(|| {
                let mut p = Vec::new();
                let ctrls = nvme::detect(&root, &mut p).unwrap_or_default();
                black_box(block::detect(&root, &ctrls, &mut p))
            })
        });
        c.bench_function("storage: filesystems (mountinfo + statvfs worker)", |b| {
            b.iter(|| black_box(filesystems::detect(&root, &mut Vec::new())))
        });
        c.bench_function("network section", |b| {
            b.iter(|| black_box(network::detect(&root, &mut Vec::new())))
        });
        c.bench_function("network: getifaddrs", |b| b.iter(|| black_box(network::addresses::collect())));
    }

    criterion_group!(benches, sections);
}

#[cfg(native_linux)]
criterion::criterion_main!(native::benches);

/// Nothing to measure: this build has no native Linux backend.
#[cfg(not(native_linux))]
fn main() {}

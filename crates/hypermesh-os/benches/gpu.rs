//! GPU detection cost without NVML: the live host (headless here), the procfs fixture's two
//! GPUs under an alternate root, and the pci.ids lookups (built-in, and the host file fallback
//! paid only for ids the built-in database lacks).

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use criterion::{Criterion, criterion_group};
    use hypermesh_os::FsRoot;
    use hypermesh_os::gpu::{detect_sysfs, names::PciNames};
    use hypermesh_testkit::unpack_fixture;
    use std::hint::black_box;

    fn bench(c: &mut Criterion) {
        let host = FsRoot::host();
        c.bench_function("gpu/detect_sysfs/live_host", |b| {
            b.iter(|| black_box(detect_sysfs(&host, &mut Vec::new()).unwrap()))
        });
        if let Some((_tmp, dir)) = unpack_fixture("procfs") {
            let root = FsRoot::new(&dir).unwrap();
            c.bench_function("gpu/detect_sysfs/procfs_fixture_amdgpu_i915", |b| {
                b.iter(|| black_box(detect_sysfs(&root, &mut Vec::new()).unwrap()))
            });
        }
        // The fallback path: an id the built-in database lacks makes the host's pci.ids be read.
        c.bench_function("gpu/pci_ids/host_file_fallback", |b| {
            b.iter(|| black_box(PciNames::new(&host).device(0x10de, 0xfffe)))
        });
        c.bench_function("gpu/pci_ids/built_in_lookup", |b| {
            let names = PciNames::default();
            b.iter(|| black_box((names.vendor(0x10de), names.device(0x10de, 0x2330))))
        });
    }

    criterion_group!(benches, bench);
}

#[cfg(native_linux)]
criterion::criterion_main!(native::benches);

/// Nothing to measure: this build has no native Linux backend.
#[cfg(not(native_linux))]
fn main() {}

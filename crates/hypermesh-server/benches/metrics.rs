//! `/metrics` server-side cost with the inventory cached and usage sampled from this host per
//! scrape: collect + encode, as the handler does it, for a typical two-socket node's inventory
//! and for a large one (64 disks, 200 filesystems, 64 interfaces, 8 GPUs); and a whole loopback
//! round trip for reference.
//! Target: <= 2 ms per scrape (node_exporter here: about 12 ms for its default collectors).

#[cfg(native_linux)]
#[path = "../tests/common/mod.rs"]
mod common;

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use super::common;
    use criterion::{Criterion, criterion_group};
    use hypermesh_os::HostProfile;
    use hypermesh_server::collector::{Format, Scraper};

    fn scraper(profile: HostProfile) -> Scraper {
        let sources = common::sources(profile, Err("no asset view in this bench".into()));
        let selected = ["inventory".to_string(), "usage".to_string()];
        Scraper::new(hypermesh_server::collectors::build(&selected, &sources).unwrap())
    }

    fn large_profile() -> HostProfile {
        let mut p = common::sample_profile();
        let storage = p.storage.as_mut().unwrap();
        let disk = storage.block_devices[0].clone();
        storage.block_devices = (0..64)
            .map(|i| hypermesh_os::model::BlockDevice { name: format!("nvme{i}n1"), ..disk.clone() })
            .collect();
        let fs = storage.filesystems[0].clone();
        storage.filesystems = (0..200)
            .map(|i| hypermesh_os::model::Filesystem {
                mount_point: format!("/var/lib/kubelet/pods/{i}"),
                ..fs.clone()
            })
            .collect();
        let network = p.network.as_mut().unwrap();
        let iface = network.interfaces[0].clone();
        network.interfaces = (0..64)
            .map(|i| hypermesh_os::model::Interface { name: format!("veth{i}"), ..iface.clone() })
            .collect();
        let gpu = p.gpus[0].clone();
        p.gpus = (0..8)
            .map(|i| hypermesh_os::model::Gpu { pci_address: format!("0000:{i:02x}:00.0"), ..gpu.clone() })
            .collect();
        p
    }

    fn bench(c: &mut Criterion) {
        let typical = scraper(common::sample_profile());
        let large = scraper(large_profile());
        c.bench_function("scrape/typical/prometheus_text", |b| b.iter(|| typical.scrape(Format::Prometheus)));
        c.bench_function("scrape/typical/openmetrics", |b| b.iter(|| typical.scrape(Format::OpenMetrics)));
        c.bench_function("scrape/large/prometheus_text", |b| b.iter(|| large.scrape(Format::Prometheus)));
        let server = common::Running::plain(common::sample_profile());
        c.bench_function("http_roundtrip/typical/metrics", |b| {
            b.iter(|| common::get(server.addr, "/metrics"))
        });
    }

    criterion_group!(benches, bench);
}

#[cfg(native_linux)]
criterion::criterion_main!(native::benches);

/// Nothing to measure: this build has no native Linux backend.
#[cfg(not(native_linux))]
fn main() {}

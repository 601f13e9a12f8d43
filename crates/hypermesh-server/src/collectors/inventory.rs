//! `inventory`: what the host has, detected once at start and exposed on every scrape.
//!
//! Info metrics (`*_info`, value 1) carry names and models as labels; gauges carry counts and
//! sizes in base units (bytes, hertz). Live values that the profile also holds (free memory,
//! filesystem free space, GPU utilisation, link state) are left out: the profile is cached, and
//! a cached live value would be a wrong number. They belong to the usage collector.
//! `hypermesh_inventory_section_detected{section}` tells which sections could not be read.

use crate::collector::{CollectError, Collector};
use crate::rows::{GaugeRows, Labels, snake_name};
use hypermesh_os::model::{Cpu, Storage};
use hypermesh_os::{HostProfile, Section};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Name of this collector.
pub const NAME: &str = "inventory";

/// One metric family: name, help, samples.
type Family = (&'static str, &'static str, GaugeRows<Labels, u64>);

/// Exposes a cached [`HostProfile`]: its families are built once and shared by every scrape.
pub struct Inventory {
    families: Vec<Family>,
    /// Set when no section at all could be detected.
    error: Option<String>,
}

impl Inventory {
    /// A collector over a profile detected once.
    pub fn new(profile: Arc<HostProfile>) -> Self {
        let p = &*profile;
        let error = Section::ALL
            .iter()
            .all(|s| !detected(p, *s))
            .then(|| format!("no inventory section could be detected ({} problems)", p.errors.len()));
        Inventory { families: families(p), error }
    }
}

impl Collector for Inventory {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, registry: &mut Registry) -> Result<(), CollectError> {
        for (name, help, rows) in &self.families {
            registry.register(*name, *help, rows.clone());
        }
        match &self.error {
            Some(e) => Err(e.clone().into()),
            None => Ok(()),
        }
    }
}

/// Every family of a profile, empty ones left out.
fn families(p: &HostProfile) -> Vec<Family> {
    let mut out = Out(Vec::new());
    sections(&mut out, p);
    if let Some(platform) = &p.platform {
        out.info(
            "os_info",
            "Operating system, kernel and environment",
            vec![labels(&[
                ("os", Some(platform.os.clone())),
                ("distro", platform.distro.clone()),
                ("distro_id", platform.distro_id.clone()),
                ("distro_version", platform.distro_version.clone()),
                ("kernel", platform.kernel.clone()),
                ("arch", platform.arch.clone()),
                ("hostname", platform.hostname.clone()),
                ("virtualization", platform.virtualization.clone()),
                ("container", platform.container.clone()),
            ])],
        );
        out.scalar("boot_time_seconds", "Boot time, seconds since the Unix epoch", platform.boot_time);
    }
    if let Some(cpu) = &p.cpu {
        cpu_metrics(&mut out, cpu);
    }
    if let Some(numa) = &p.numa {
        out.gauges(
            "numa_node_cpus",
            "Logical CPUs on a NUMA node",
            numa.nodes.iter().map(|n| (node(n.id), n.cpus.len() as u64)),
        );
        out.gauges(
            "numa_node_memory_total_bytes",
            "Memory of a NUMA node in bytes",
            numa.nodes.iter().filter_map(|n| Some((node(n.id), n.memory_total_bytes?))),
        );
    }
    if let Some(memory) = &p.memory {
        out.scalar("memory_total_bytes", "Usable memory (MemTotal) in bytes", Some(memory.total_bytes));
        out.scalar("memory_swap_total_bytes", "Swap space in bytes", memory.swap_total_bytes);
        out.gauges(
            "memory_hugepages_reserved",
            "Huge pages reserved, by page size in bytes",
            memory
                .hugepages
                .iter()
                .map(|h| (vec![("page_size_bytes", h.page_size_bytes.to_string())], h.total)),
        );
    }
    if let Some(storage) = &p.storage {
        storage_metrics(&mut out, storage);
    }
    if let Some(network) = &p.network {
        let iface = |name: &str| vec![("interface", name.to_string())];
        out.info(
            "network_interface_info",
            "Network interface hardware address, kind and driver",
            network.interfaces.iter().map(|i| {
                labels(&[
                    ("interface", Some(i.name.clone())),
                    ("mac", i.mac.clone()),
                    ("kind", i.kind.clone()),
                    ("driver", i.driver.clone()),
                    ("pci_address", i.pci_address.clone()),
                    ("duplex", i.duplex.clone()),
                    ("virtual", Some(i.is_virtual.to_string())),
                ])
            }),
        );
        out.gauges(
            "network_interface_mtu_bytes",
            "Network interface MTU in bytes",
            network.interfaces.iter().filter_map(|i| Some((iface(&i.name), i.mtu?))),
        );
        out.gauges(
            "network_interface_speed_bytes",
            "Network interface link speed in bytes per second",
            network
                .interfaces
                .iter()
                .filter_map(|i| Some((iface(&i.name), i.speed_mbps?.checked_mul(125_000)?))),
        );
    }
    let gpu = |addr: &str| vec![("pci_address", addr.to_string())];
    out.info(
        "gpu_info",
        "GPU vendor, model, kind and driver",
        p.gpus.iter().map(|g| {
            labels(&[
                ("pci_address", Some(g.pci_address.clone())),
                ("vendor", g.vendor.clone()),
                ("model", g.model.clone()),
                ("kind", g.kind.and_then(snake_name)),
                ("driver", g.driver.clone()),
                ("uuid", g.uuid.clone()),
            ])
        }),
    );
    out.gauges(
        "gpu_memory_total_bytes",
        "GPU memory in bytes",
        p.gpus.iter().filter_map(|g| Some((gpu(&g.pci_address), g.memory_total_bytes?))),
    );
    out.0
}

/// Which sections were detected, and how many problems each had.
fn sections(out: &mut Out, p: &HostProfile) {
    let section = |s: Section| vec![("section", s.name().to_string())];
    out.gauges(
        "inventory_section_detected",
        "Whether an inventory section could be detected at start (1) or not (0)",
        Section::ALL.iter().map(|s| (section(*s), u32::from(detected(p, *s)))),
    );
    out.gauges(
        "inventory_problems",
        "Problems met while detecting an inventory section at start",
        Section::ALL
            .iter()
            .map(|s| (section(*s), p.errors.iter().filter(|e| e.section == *s).count() as u64)),
    );
}

fn cpu_metrics(out: &mut Out, cpu: &Cpu) {
    out.info(
        "cpu_info",
        "CPU vendor and model",
        vec![labels(&[
            ("vendor", cpu.vendor.clone()),
            ("model", cpu.model.clone()),
            ("family", cpu.family.map(|v| v.to_string())),
            ("model_id", cpu.model_id.map(|v| v.to_string())),
            ("stepping", cpu.stepping.map(|v| v.to_string())),
            ("microcode", cpu.microcode.clone()),
        ])],
    );
    out.scalar("cpu_packages", "Physical packages (sockets) with an online CPU", Some(cpu.packages));
    out.scalar("cpu_cores", "Physical cores among online CPUs", Some(cpu.cores));
    out.scalar("cpu_logical_cpus", "Online logical CPUs", Some(cpu.logical_cpus));
    out.scalar("cpu_threads_per_core", "Most hardware threads on one core", Some(cpu.threads_per_core));
    let hz = |khz: Option<u64>| khz?.checked_mul(1000);
    if let Some(f) = &cpu.frequency {
        out.scalar("cpu_frequency_min_hertz", "Lowest CPU frequency in hertz", hz(f.min_khz));
        out.scalar("cpu_frequency_max_hertz", "Highest CPU frequency in hertz", hz(f.max_khz));
        out.scalar("cpu_frequency_base_hertz", "Base CPU frequency in hertz", hz(f.base_khz));
    }
    let kind = |name: &str| vec![("kind", name.to_string())];
    out.gauges(
        "cpu_kind_cores",
        "Physical cores of a kind (performance, efficiency, uniform)",
        cpu.kinds.iter().map(|k| (kind(&k.name), k.cores)),
    );
    out.gauges(
        "cpu_kind_logical_cpus",
        "Logical CPUs of a kind (performance, efficiency, uniform)",
        cpu.kinds.iter().map(|k| (kind(&k.name), k.cpus.len() as u64)),
    );
    out.gauges(
        "cpu_kind_max_frequency_hertz",
        "Highest frequency of a CPU kind in hertz",
        cpu.kinds.iter().filter_map(|k| Some((kind(&k.name), hz(k.max_frequency_khz)?))),
    );
    // One series per cache group (equal level, type and size); `cpus` tells apart the groups
    // of one level and type on hosts with caches of different sizes (P and E cores).
    let cache = |c: &hypermesh_os::model::Cache| {
        vec![
            ("level", c.level.to_string()),
            ("type", c.kind.clone()),
            ("cpus", hypermesh_os::cpulist::format_list(&c.cpus)),
        ]
    };
    out.gauges(
        "cpu_cache_size_bytes",
        "Size of one cache instance in bytes, by level, type and the CPUs of its group",
        cpu.caches.iter().filter_map(|c| Some((cache(c), c.size_bytes?))),
    );
    out.gauges(
        "cpu_cache_instances",
        "Cache instances of a group, by level, type and the CPUs of the group",
        cpu.caches.iter().map(|c| (cache(c), c.instances)),
    );
}

fn storage_metrics(out: &mut Out, storage: &Storage) {
    let dev = |name: &str| vec![("device", name.to_string())];
    let disks = &storage.block_devices;
    out.info(
        "block_device_info",
        "Block device kind, model and transport",
        disks.iter().map(|d| {
            labels(&[
                ("device", Some(d.name.clone())),
                ("kind", snake_name(d.kind)),
                ("class", d.class.clone()),
                ("model", d.model.clone()),
                ("vendor", d.vendor.clone()),
                ("serial", d.serial.clone()),
                ("firmware", d.firmware.clone()),
                ("wwn", d.wwn.clone()),
                ("transport", d.transport.clone()),
                ("scheduler", d.scheduler.clone()),
            ])
        }),
    );
    out.gauges(
        "block_device_size_bytes",
        "Block device size in bytes",
        disks.iter().filter_map(|d| Some((dev(&d.name), d.size_bytes?))),
    );
    out.gauges(
        "block_device_logical_block_size_bytes",
        "Block device logical block size in bytes",
        disks.iter().filter_map(|d| Some((dev(&d.name), d.logical_block_bytes?))),
    );
    out.gauges(
        "block_device_physical_block_size_bytes",
        "Block device physical block size in bytes",
        disks.iter().filter_map(|d| Some((dev(&d.name), d.physical_block_bytes?))),
    );
    let fs = |f: &hypermesh_os::model::Filesystem| {
        vec![
            ("device", f.device.clone()),
            ("mountpoint", f.mount_point.clone()),
            ("fstype", f.fs_type.clone()),
        ]
    };
    let filesystems = &storage.filesystems;
    out.gauges(
        "filesystem_size_bytes",
        "Filesystem capacity in bytes",
        filesystems.iter().filter_map(|f| Some((fs(f), f.total_bytes?))),
    );
    out.gauges(
        "filesystem_inodes",
        "Filesystem inodes in total",
        filesystems.iter().filter_map(|f| Some((fs(f), f.inodes_total?))),
    );
    out.gauges(
        "filesystem_read_only",
        "Whether a filesystem is mounted read-only (1) or not (0)",
        filesystems.iter().map(|f| (fs(f), u32::from(f.options.iter().any(|o| o == "ro")))),
    );
}

/// Whether a section of the profile was detected (a headless host's empty GPU list counts).
fn detected(p: &HostProfile, section: Section) -> bool {
    match section {
        Section::Platform => p.platform.is_some(),
        Section::Cpu => p.cpu.is_some(),
        Section::Numa => p.numa.is_some(),
        Section::Memory => p.memory.is_some(),
        Section::Storage => p.storage.is_some(),
        Section::Network => p.network.is_some(),
        Section::Gpus => !p.gpus.is_empty() || !p.errors.iter().any(|e| e.section == Section::Gpus),
    }
}

fn node(id: u32) -> Labels {
    vec![("node", id.to_string())]
}

/// Label pairs, unknown values as empty strings (which Prometheus treats as absent).
fn labels(pairs: &[(&'static str, Option<String>)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, v.clone().unwrap_or_default())).collect()
}

/// Collects non-empty families.
struct Out(Vec<Family>);

impl Out {
    /// A family of gauges; left out when it has no sample.
    fn gauges<V: Into<u64>>(
        &mut self,
        name: &'static str,
        help: &'static str,
        rows: impl IntoIterator<Item = (Labels, V)>,
    ) {
        let rows: Vec<(Labels, u64)> = rows.into_iter().map(|(l, v)| (l, v.into())).collect();
        if !rows.is_empty() {
            self.0.push((name, help, GaugeRows::new(rows)));
        }
    }

    /// An info family: one sample of value 1 per label set.
    fn info(&mut self, name: &'static str, help: &'static str, rows: impl IntoIterator<Item = Labels>) {
        self.gauges(name, help, rows.into_iter().map(|l| (l, 1u32)));
    }

    /// A gauge without labels, left out when unknown.
    fn scalar<V: Into<u64>>(&mut self, name: &'static str, help: &'static str, value: Option<V>) {
        self.gauges(name, help, value.map(|v| (Labels::new(), v)));
    }
}

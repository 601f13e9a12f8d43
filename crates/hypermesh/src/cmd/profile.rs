//! `hypermesh profile`: the host inventory as tables or JSON.

use super::Global;
use super::output::{Table, bytes, key_values, opt, opt_bytes, snake_name};
use hypermesh_os::model::{AllowedSource, Cpu, Memory, Network, Numa, Platform, Storage};
use hypermesh_os::{HostProfile, Section, cpulist, detect};
use std::process::ExitCode;

/// Arguments of `hypermesh profile`.
#[derive(clap::Args)]
pub struct Args {
    /// Print the full profile as JSON.
    #[arg(long)]
    pub json: bool,
    /// Only these sections (comma-separated: platform,cpu,numa,memory,storage,network,gpus).
    #[arg(long, value_delimiter = ',')]
    pub section: Vec<Section>,
    /// Exit non-zero when any section reported an error (for CI), not only when all failed.
    #[arg(long)]
    pub strict: bool,
}

/// Runs the command: exit 0 when anything could be read (with `--strict`: when nothing
/// errored), errors listed per section.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let backend = global.backend()?;
    let profile = detect(backend.as_ref(), &args.section);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&profile)?);
    } else {
        print!("{}", render(&profile));
    }
    if args.strict && !profile.errors.is_empty() {
        eprintln!("strict: {} section error(s)", profile.errors.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(exit_code(&profile, &args.section))
}

/// Non-zero only when every requested section failed.
fn exit_code(profile: &HostProfile, sections: &[Section]) -> ExitCode {
    let requested = if sections.is_empty() { Section::ALL.len() } else { sections.len() };
    let failed = profile
        .errors
        .iter()
        .filter(|e| e.path.is_none() || section_missing(profile, e.section))
        .map(|e| e.section)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .filter(|s| section_missing(profile, *s))
        .count();
    if failed >= requested { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}

fn section_missing(p: &HostProfile, s: Section) -> bool {
    match s {
        Section::Platform => p.platform.is_none(),
        Section::Cpu => p.cpu.is_none(),
        Section::Numa => p.numa.is_none(),
        Section::Memory => p.memory.is_none(),
        Section::Storage => p.storage.is_none(),
        Section::Network => p.network.is_none(),
        Section::Gpus => p.errors.iter().any(|e| e.section == Section::Gpus) && p.gpus.is_empty(),
    }
}

/// `value (source)`, or `none detected (source)` when there is only a note.
fn with_source(value: Option<&str>, source: Option<&str>) -> String {
    let v = value.unwrap_or("none detected");
    match source {
        Some(s) => format!("{v} ({s})"),
        None => v.to_string(),
    }
}

fn list_or_none(cpus: &[u32]) -> String {
    if cpus.is_empty() { "none".into() } else { cpulist::format_list(cpus) }
}

/// Renders the profile as human tables.
pub fn render(p: &HostProfile) -> String {
    let mut out = String::new();
    if let Some(pl) = &p.platform {
        out += &platform(pl);
    }
    if let Some(c) = &p.cpu {
        out += &cpu(c);
    }
    if let Some(n) = &p.numa {
        out += &numa(n);
    }
    if let Some(m) = &p.memory {
        out += &memory(m);
    }
    if let Some(s) = &p.storage {
        out += &storage(s);
    }
    if let Some(n) = &p.network {
        out += &network(n);
    }
    if p.gpus.is_empty() {
        out += "GPUs: none found\n";
    } else {
        out += &super::gpus::table(&p.gpus, false);
    }
    if !p.errors.is_empty() {
        out += "\nCould not read:\n";
        for e in &p.errors {
            out += &format!("  {e}\n");
        }
    }
    out
}

/// The platform section: OS, kernel, virtualization, container.
fn platform(pl: &Platform) -> String {
    let mut out = String::new();
    out += &key_values(
        "Platform",
        &[
            ("os", opt(pl.distro.clone().or(Some(pl.os.clone())))),
            ("kernel", opt(pl.kernel.clone())),
            ("arch", opt(pl.arch.clone())),
            ("hostname", opt(pl.hostname.clone())),
            ("uptime", opt(pl.uptime_seconds.map(|u| format!("{:.1} h", u / 3600.0)))),
            (
                "virtualization",
                with_source(pl.virtualization.as_deref(), pl.virtualization_source.as_deref()),
            ),
            ("container", with_source(pl.container.as_deref(), pl.container_source.as_deref())),
        ],
    );
    out.push('\n');
    out
}

/// The CPU section, with its cache and core-kind tables.
fn cpu(c: &Cpu) -> String {
    let mut out = String::new();
    out += &key_values(
        "CPU",
        &[
            ("model", opt(c.model.clone())),
            ("vendor", opt(c.vendor.clone())),
            ("packages", c.packages.to_string()),
            ("cores", c.cores.to_string()),
            ("logical cpus", format!("{} (online {})", c.logical_cpus, cpulist::format_list(&c.online))),
            ("threads/core", c.threads_per_core.to_string()),
            ("offline cpus", list_or_none(&c.offline)),
            ("isolated cpus", list_or_none(&c.isolated)),
            ("allowed cpus", allowed(c.allowed.as_deref(), c.allowed_source.as_ref())),
            (
                "frequency",
                c.frequency
                    .as_ref()
                    .map(|f| {
                        format!(
                            "{} - {} MHz",
                            opt(f.min_khz.map(|k| k / 1000)),
                            opt(f.max_khz.map(|k| k / 1000))
                        )
                    })
                    .unwrap_or_else(|| "-".into()),
            ),
            ("flags", format!("{} flags", c.flags.len())),
        ],
    );
    if !c.caches.is_empty() {
        // One row per group of equal level, type and size, with the CPUs it serves.
        let mut t = Table::new(&["  CACHE", "TYPE", "SIZE", "INSTANCES", "CPUS"]);
        for cache in &c.caches {
            t.row(vec![
                format!("  L{}", cache.level),
                cache.kind.clone(),
                opt_bytes(cache.size_bytes),
                cache.instances.to_string(),
                cpulist::format_list(&cache.cpus),
            ]);
        }
        out += &t.render();
    }
    if c.kinds.len() > 1 {
        let mut t = Table::new(&["  KIND", "CPUS", "CORES", "MAX MHZ"]);
        for k in &c.kinds {
            t.row(vec![
                format!("  {}", k.name),
                cpulist::format_list(&k.cpus),
                k.cores.to_string(),
                opt(k.max_frequency_khz.map(|f| f / 1000)),
            ]);
        }
        out += &t.render();
    }
    out.push('\n');
    out
}

/// The NUMA table and the allowed nodes.
fn numa(n: &Numa) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["NUMA NODE", "CPUS", "MEMORY"]);
    for node in &n.nodes {
        let mut cpus = cpulist::format_list(&node.cpus);
        if !node.offline_cpus.is_empty() {
            cpus += &format!(" (offline {})", cpulist::format_list(&node.offline_cpus));
        }
        t.row(vec![node.id.to_string(), cpus, opt_bytes(node.memory_total_bytes)]);
    }
    out += &t.render();
    out += &format!("allowed nodes: {}\n", allowed(n.allowed_nodes.as_deref(), n.allowed_source.as_ref()));
    out.push('\n');
    out
}

/// The memory section and its parts.
fn memory(m: &Memory) -> String {
    let mut out = String::new();
    out += &key_values(
        "Memory",
        &[
            ("total", bytes(m.total_bytes)),
            (
                "available",
                m.available_bytes.map(bytes).unwrap_or_else(|| {
                    format!("unavailable ({})", m.available_note.as_deref().unwrap_or("not reported"))
                }),
            ),
            ("swap", opt_bytes(m.swap_total_bytes)),
            (
                "huge pages",
                m.hugepages
                    .iter()
                    .map(|h| format!("{} × {}", h.total, bytes(h.page_size_bytes)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("transparent hugepages", opt(m.transparent_hugepage.clone())),
        ],
    );
    out += &memory_parts(m);
    out.push('\n');
    out
}

/// The disk and filesystem tables.
fn storage(s: &Storage) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["DISK", "KIND", "SIZE", "MODEL", "PARTITIONS"]);
    for d in &s.block_devices {
        let kind = snake_name(d.kind).unwrap_or_default();
        t.row(vec![
            d.name.clone(),
            kind,
            opt_bytes(d.size_bytes),
            opt(d.model.clone()),
            d.partitions.len().to_string(),
        ]);
    }
    out += &t.render();
    out.push('\n');
    let mut t = Table::new(&["MOUNT", "TYPE", "DEVICE", "SIZE", "AVAILABLE"]);
    for f in &s.filesystems {
        t.row(vec![
            f.mount_point.clone(),
            f.fs_type.clone(),
            f.device.clone(),
            opt_bytes(f.total_bytes),
            opt_bytes(f.available_bytes),
        ]);
    }
    out += &t.render();
    out.push('\n');
    out
}

/// The interface table.
fn network(n: &Network) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["INTERFACE", "STATE", "MAC", "MTU", "SPEED", "KIND", "ADDRESSES"]);
    for i in &n.interfaces {
        let mut addrs = i.ipv4.clone();
        addrs.extend(i.ipv6.iter().cloned());
        t.row(vec![
            i.name.clone(),
            opt(i.oper_state.clone()),
            opt(i.mac.clone()),
            opt(i.mtu),
            i.speed_mbps.map(|s| format!("{s} Mb/s")).unwrap_or_else(|| "-".into()),
            opt(i.kind.clone()),
            addrs.join(" "),
        ]);
    }
    out += &t.render();
    out.push('\n');
    out
}

/// An allowed set with where it was read: `0-3 (cgroup_v2 /sys/fs/cgroup/x/cpuset.cpus.effective)`.
fn allowed(list: Option<&[u32]>, source: Option<&AllowedSource>) -> String {
    match (list, source) {
        (Some(l), Some(s)) => {
            format!("{} ({} {})", list_or_none(l), snake_name(s.kind).unwrap_or_default(), s.path)
        }
        (Some(l), None) => list_or_none(l),
        (None, _) => "unknown".into(),
    }
}

/// The tables of the memory parts that are present: DIMMs, memory-side caches, pmem, DAX.
fn memory_parts(m: &Memory) -> String {
    let mut out = String::new();
    if let Some(dimms) = m.dimms.as_ref().filter(|d| !d.is_empty()) {
        let mut t =
            Table::new(&["  DIMM", "BANK", "SIZE", "TYPE", "SPEED", "MANUFACTURER", "PART NUMBER", "RANK"]);
        for d in dimms {
            let size = if d.populated { opt_bytes(d.size_bytes) } else { "empty".into() };
            let speed = match (d.speed_mts, d.configured_speed_mts) {
                (Some(max), Some(now)) if now != max => format!("{now}/{max} MT/s"),
                (Some(s), _) | (None, Some(s)) => format!("{s} MT/s"),
                (None, None) => "-".into(),
            };
            t.row(vec![
                format!("  {}", d.locator.as_deref().unwrap_or("-")),
                opt(d.bank_locator.clone()),
                size,
                opt(d.memory_type.clone()),
                speed,
                opt(d.manufacturer.clone()),
                opt(d.part_number.clone()),
                opt(d.rank),
            ]);
        }
        out += &t.render();
    }
    if !m.side_caches.is_empty() {
        let mut t = Table::new(&["  MEMORY-SIDE CACHE", "NODE", "SIZE", "LINE", "INDEXING", "WRITE POLICY"]);
        for c in &m.side_caches {
            t.row(vec![
                format!("  L{}", c.level),
                c.node.to_string(),
                opt_bytes(c.size_bytes),
                opt_bytes(c.line_size_bytes),
                opt(c.indexing.clone()),
                opt(c.write_policy.clone()),
            ]);
        }
        out += &t.render();
    }
    if !m.pmem.is_empty() {
        let mut t = Table::new(&["  PMEM NAMESPACE", "MODE", "SIZE", "NODE", "BLOCK DEVICE"]);
        for n in &m.pmem {
            t.row(vec![
                format!("  {}", n.name),
                opt(n.mode.clone()),
                opt_bytes(n.size_bytes),
                opt(n.numa_node),
                opt(n.block_device.clone()),
            ]);
        }
        out += &t.render();
    }
    if !m.dax.is_empty() {
        let mut t = Table::new(&["  DAX DEVICE", "MODE", "SIZE", "NODE", "TARGET NODE"]);
        for d in &m.dax {
            t.row(vec![
                format!("  {}", d.name),
                opt(d.mode.clone()),
                opt_bytes(d.size_bytes),
                opt(d.numa_node),
                opt(d.target_node),
            ]);
        }
        out += &t.render();
    }
    out
}

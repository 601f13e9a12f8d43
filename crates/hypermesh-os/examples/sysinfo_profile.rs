//! The comparison program of the speed goal: a host summary (CPUs, memory, disks, networks)
//! built on the `sysinfo` crate, printed as JSON. `scripts/bench-process.sh` times it beside
//! `hypermesh profile --json`.

use sysinfo::{CpuRefreshKind, Disks, MemoryRefreshKind, Networks, RefreshKind, System};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sys = System::new_with_specifics(
        RefreshKind::nothing()
            .with_cpu(CpuRefreshKind::everything())
            .with_memory(MemoryRefreshKind::everything()),
    )?;
    let disks = Disks::new_with_refreshed_list()?;
    let networks = Networks::new_with_refreshed_list()?;
    let cpus = sys.cpus();
    let summary = serde_json::json!({
        "os": System::long_os_version().ok(),
        "kernel": System::kernel_version().ok(),
        "hostname": System::host_name().ok(),
        "cpu": {
            "vendor": cpus.first().map(|c| c.vendor_id().to_string()),
            "model": cpus.first().map(|c| c.brand().to_string()),
            "logical_cpus": cpus.len(),
            "cores": System::physical_core_count().ok(),
            "frequency_mhz": cpus.iter().map(|c| c.frequency()).collect::<Vec<_>>(),
        },
        "memory": {
            "total_bytes": sys.total_memory(),
            "available_bytes": sys.available_memory(),
            "swap_total_bytes": sys.total_swap(),
        },
        "disks": disks.iter().map(|d| serde_json::json!({
            "name": d.name().to_string_lossy(),
            "mount_point": d.mount_point(),
            "total_bytes": d.total_space(),
            "available_bytes": d.available_space(),
        })).collect::<Vec<_>>(),
        "networks": networks.iter().map(|(name, n)| serde_json::json!({
            "name": name.to_string_lossy(),
            "mac": n.mac_address().to_string(),
            "mtu": n.mtu(),
        })).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(())
}

use serde::{Deserialize, Serialize};

/// Operating system, kernel and the environment the host runs in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    /// Operating system family, e.g. `linux`.
    pub os: String,
    /// Distribution name from os-release `PRETTY_NAME` (or `NAME VERSION`).
    pub distro: Option<String>,
    /// os-release `ID`, e.g. `debian`.
    pub distro_id: Option<String>,
    /// os-release `VERSION_ID`.
    pub distro_version: Option<String>,
    /// Kernel release, e.g. `6.18.44`.
    pub kernel: Option<String>,
    /// Full kernel version string (`/proc/version`).
    pub kernel_version: Option<String>,
    /// Machine architecture, e.g. `x86_64`, `aarch64`.
    pub arch: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// Boot time, seconds since the Unix epoch.
    pub boot_time: Option<u64>,
    /// Seconds since boot.
    pub uptime_seconds: Option<f64>,
    /// Hypervisor or virtual machine kind (`kvm`, `firecracker`, `vmware`, ...); `None` on bare metal
    /// or when unknown (see `virtualization_source`).
    pub virtualization: Option<String>,
    /// How `virtualization` was decided (e.g. `cpuinfo hypervisor flag`, `dmi sys_vendor`).
    pub virtualization_source: Option<String>,
    /// Container runtime the process runs in (`docker`, `podman`, `kubernetes`, `lxc`, ...), `None` if not.
    pub container: Option<String>,
    /// Evidence for `container` (e.g. `/run/.containerenv`, `/proc/1/cgroup`), or why a hint
    /// was not taken as a container.
    pub container_source: Option<String>,
}

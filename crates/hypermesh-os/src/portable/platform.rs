//! Platform section from sysinfo's static system queries.

use super::{known, not_reported};
use crate::error::Result;
use crate::model::Platform;
use crate::profile::Problems;
use sysinfo::System;

/// OS family (the target's), OS release, kernel, architecture, host name and boot time.
pub(super) fn detect(problems: &mut Problems) -> Result<Platform> {
    let distro_id = Some(System::distribution_id()).filter(|s| !s.is_empty());
    not_reported("virtualization, container", problems);
    Ok(Platform {
        os: std::env::consts::OS.to_string(),
        distro: known("distro (long OS version)", System::long_os_version(), problems),
        distro_id,
        distro_version: known("distro_version", System::os_version(), problems),
        kernel: known("kernel", System::kernel_version(), problems),
        kernel_version: known("kernel_version", System::kernel_long_version(), problems),
        arch: Some(System::cpu_arch()).filter(|s| !s.is_empty()),
        hostname: known("hostname", System::host_name(), problems),
        boot_time: known("boot_time", System::boot_time(), problems),
        uptime_seconds: known("uptime_seconds", System::uptime(), problems).map(|s| s as f64),
        virtualization: None,
        virtualization_source: None,
        container: None,
        container_source: None,
    })
}

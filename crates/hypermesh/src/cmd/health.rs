//! `hypermesh health`: disk SMART and NVMe logs, sensors, memory errors, thermal zones and
//! NVIDIA GPUs, as a table (one row per device: status, the values that matter, why) or JSON.

use super::Global;
use super::output::{Table, snake_name};
use hypermesh_os::health::disks::DiskHealth;
use hypermesh_os::health::hwmon::SensorKind;
use hypermesh_os::health::{self, Assessment, HealthReport};
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `hypermesh health`.
#[derive(clap::Args)]
pub struct Args {
    /// Print the whole report as JSON (disks with their logs, sensors, memory controllers,
    /// thermal zones, GPUs, errors).
    #[arg(long)]
    pub json: bool,
}

/// Runs the command: exit 0 whenever the report could be made, whatever the devices say.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let report = health::check(&global.fs_root()?);
    let text = if args.json { serde_json::to_string_pretty(&report)? + "\n" } else { render(&report) };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// The table: one row per device, then the sources that could not be read.
pub fn render(report: &HealthReport) -> String {
    let mut t = Table::new(&["DEVICE", "KIND", "STATUS", "VALUES", "WHY"]);
    let mut row = |device: &str, kind: &str, a: &Assessment, values: String| {
        t.row(vec![
            device.to_string(),
            kind.to_string(),
            snake_name(a.status).unwrap_or_default(),
            if values.is_empty() { "-".into() } else { values },
            a.reasons.join("; "),
        ]);
    };
    for d in &report.disks {
        let kind = d.protocol.and_then(snake_name).unwrap_or_else(|| "disk".into());
        row(&d.device, &kind, &d.assessment, disk_values(d));
    }
    for m in &report.memory_controllers {
        let n = |v: Option<u64>| v.map_or("-".into(), |n| n.to_string());
        let values =
            format!("corrected {}, uncorrected {}", n(m.correctable_errors), n(m.uncorrectable_errors));
        row(&m.name, "memory", &m.assess(), values);
    }
    // Chips with nothing to read (fan controls only) are in the JSON, not the table.
    for c in report.sensors.iter().filter(|c| !c.sensors.is_empty()) {
        let hottest = c
            .sensors
            .iter()
            .filter(|s| s.kind == SensorKind::Temperature)
            .filter_map(|s| Some((s, s.input?)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(s, t)| match s.crit {
                Some(c) => format!("{} {t} °C (critical {c} °C)", s.display_name()),
                None => format!("{} {t} °C", s.display_name()),
            });
        let values = hottest.unwrap_or_else(|| format!("{} sensors", c.sensors.len()));
        row(&c.chip, "sensors", &c.assess(), values);
    }
    for z in &report.thermal_zones {
        let crit = z.trip_points.iter().find(|t| t.kind == "critical").map(|t| t.temperature_celsius);
        let values = match (z.temperature_celsius, crit) {
            (Some(t), Some(c)) => format!("{t} °C (critical {c} °C)"),
            (Some(t), None) => format!("{t} °C"),
            _ => String::new(),
        };
        let kind = z.kind.as_deref().unwrap_or("thermal");
        row(&z.name, &format!("thermal ({kind})"), &z.assess(), values);
    }
    for g in &report.gpus {
        let values = g.counters.as_ref().map_or(String::new(), |c| {
            let n = |v: Option<u64>| v.map_or("-".into(), |n| n.to_string());
            format!(
                "ECC uncorrected {}, retired pages {}/{}",
                n(c.ecc_uncorrected_volatile),
                n(c.retired_pages_single_bit),
                n(c.retired_pages_double_bit)
            )
        });
        row(&g.pci_address, "gpu", &g.assessment, values);
    }
    let mut out = t.render();
    for e in &report.errors {
        out += &format!(
            "\n{}: {}{}\n",
            e.source,
            e.path.as_deref().map(|p| format!("{p}: ")).unwrap_or_default(),
            e.message
        );
    }
    out
}

/// The few values that tell a disk's health.
fn disk_values(d: &DiskHealth) -> String {
    if let Some(l) = &d.nvme {
        return format!(
            "{} °C, spare {} % (threshold {} %), used {} %, media errors {}, {} h",
            l.temperature_celsius,
            l.available_spare,
            l.available_spare_threshold,
            l.percentage_used,
            l.media_errors,
            l.power_on_hours
        );
    }
    if let Some(s) = &d.ata {
        let raw = |id: u8| s.attributes.iter().find(|a| a.id == id).map_or("-".into(), |a| a.raw.to_string());
        let temp = s.temperature_celsius.map_or("-".into(), |t| format!("{t} °C"));
        let hours = s.power_on_hours.map_or("-".into(), |h| format!("{h} h"));
        return format!(
            "{temp}, reallocated {}, pending {}, uncorrectable {}, {hours}",
            raw(5),
            raw(197),
            raw(198)
        );
    }
    if let Some(ie) = &d.scsi {
        return ie.temperature_celsius.map_or(String::new(), |t| format!("{t} °C"));
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypermesh_os::health::nvme;
    use hypermesh_os::health::{Status, disks::Protocol};

    #[test]
    fn failing_nvme_row() {
        let mut page = [0u8; 512];
        page[0] = 0x01;
        page[1..3].copy_from_slice(&320u16.to_le_bytes());
        page[3] = 5;
        page[4] = 10;
        let log = nvme::parse(&page).unwrap();
        let disk = DiskHealth {
            device: "nvme0".into(),
            protocol: Some(Protocol::Nvme),
            assessment: log.assess(),
            nvme: Some(log),
            ..DiskHealth::default()
        };
        let vda = DiskHealth {
            device: "vda".into(),
            assessment: Assessment::not_read(Status::Unsupported, "virtio-blk disk"),
            ..DiskHealth::default()
        };
        let report = HealthReport { disks: vec![disk, vda], ..HealthReport::default() };
        let text = render(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("DEVICE  KIND  STATUS"), "{text}");
        assert!(lines[1].starts_with("nvme0   nvme  failing"), "{text}");
        assert!(lines[1].contains("47 °C, spare 5 % (threshold 10 %)"), "{text}");
        assert!(lines[1].contains("critical warning: available spare below threshold"), "{text}");
        assert!(lines[2].starts_with("vda     disk  unsupported  -"), "{text}");
    }
}

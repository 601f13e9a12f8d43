//! `health`: disk SMART and NVMe logs, hwmon sensors, EDAC memory errors, thermal zones and
//! NVIDIA counters ([`hypermesh_os::health`]), read at most once per [`MAX_AGE`] and shared by
//! `/metrics` and `/v1/health`.
//!
//! Names follow the exporters that have them, with the project's prefix: node_exporter's
//! `node_X` is `hypermesh_X` (`hypermesh_hwmon_temp_celsius{chip,sensor}`,
//! `hypermesh_edac_correctable_errors_total{controller}`, `hypermesh_thermal_zone_temp`), and
//! smartctl_exporter's `smartctl_device_X` is `hypermesh_smartctl_device_X` (counters with
//! `_total`). The README's health section lists each name and where it differs.
//! `hypermesh_health_state{subject,device,state}` is 1 for each device's current state.

use crate::collector::{CollectError, Collector};
use crate::rows::{CounterRows, GaugeRows, Labels, snake_name};
use crate::sources::Sources;
use hypermesh_os::FsRoot;
use hypermesh_os::health::hwmon::{Chip, SensorKind};
use hypermesh_os::health::{self, HealthReport, Status};
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Name of this collector.
pub const NAME: &str = "health";

/// How long a report is served before the devices are asked again. SMART commands cost
/// milliseconds per disk and are not worth repeating on every 15 s scrape.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// Every state a device can be in, as the `state` label spells them.
const STATES: [Status; 5] =
    [Status::Ok, Status::Warning, Status::Failing, Status::Unsupported, Status::Unavailable];

/// The last report and when it was read.
pub struct HealthSource {
    root_dir: PathBuf,
    cached: Mutex<Option<(Instant, Arc<HealthReport>)>>,
}

impl HealthSource {
    /// Reads under `root_dir` on first use.
    pub fn new(root_dir: PathBuf) -> Self {
        HealthSource { root_dir, cached: Mutex::new(None) }
    }

    /// The report, read again when the last one is older than [`MAX_AGE`].
    pub fn report(&self) -> Result<Arc<HealthReport>, hypermesh_os::Error> {
        let mut cached = self.cached.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((at, report)) = cached.as_ref()
            && at.elapsed() < MAX_AGE
        {
            return Ok(report.clone());
        }
        let report = Arc::new(health::check(&FsRoot::new(&self.root_dir)?));
        *cached = Some((Instant::now(), report.clone()));
        Ok(report)
    }
}

/// The health collector.
pub struct Health {
    sources: Arc<Sources>,
}

impl Health {
    /// A collector over `sources.health`.
    pub fn new(sources: Arc<Sources>) -> Self {
        Health { sources }
    }
}

impl Collector for Health {
    fn name(&self) -> &'static str {
        NAME
    }

    fn collect(&self, r: &mut Registry) -> Result<(), CollectError> {
        let report = self.sources.health.report()?;
        register(r, &report);
        if report.errors.is_empty() {
            Ok(())
        } else {
            let all: Vec<String> =
                report.errors.iter().map(|e| format!("{}: {}", e.source, e.message)).collect();
            Err(all.join("; ").into())
        }
    }
}

/// Samples of dynamically named families: name → (help, counter?, rows).
type Families = BTreeMap<String, (String, bool, Vec<(Labels, f64)>)>;

fn push(f: &mut Families, name: String, help: &str, counter: bool, labels: Labels, value: f64) {
    f.entry(name).or_insert_with(|| (help.to_string(), counter, Vec::new())).2.push((labels, value));
}

/// Registers every family of `report`.
pub fn register(r: &mut Registry, report: &HealthReport) {
    let mut f = Families::new();
    for v in report.verdicts() {
        for state in STATES {
            let labels = vec![
                ("subject", snake_name(v.subject).unwrap_or_default()),
                ("device", v.device.clone()),
                ("state", snake_name(state).unwrap_or_default()),
            ];
            let on = f64::from(u8::from(v.assessment.status == state));
            push(
                &mut f,
                "health_state".into(),
                "Health of a device: 1 for its current state",
                false,
                labels,
                on,
            );
        }
    }
    disks(&mut f, report);
    for chip in &report.sensors {
        hwmon(&mut f, chip);
    }
    edac(&mut f, report);
    for z in &report.thermal_zones {
        let zone = || vec![("type", z.kind.clone().unwrap_or_default()), ("zone", z.zone.to_string())];
        if let Some(t) = z.temperature_celsius {
            push(&mut f, "thermal_zone_temp".into(), "Zone temperature in Celsius", false, zone(), t);
        }
        for trip in &z.trip_points {
            let mut labels = zone();
            labels.extend([("trip_point", trip.index.to_string()), ("trip_type", trip.kind.clone())]);
            push(
                &mut f,
                "thermal_zone_trip_point_celsius".into(),
                "Zone trip point in Celsius",
                false,
                labels,
                trip.temperature_celsius,
            );
        }
    }
    gpus(&mut f, report);
    for (name, (help, counter, rows)) in f {
        if counter {
            r.register(name, help, CounterRows::new(rows));
        } else {
            r.register(name, help, GaugeRows::new(rows));
        }
    }
}

fn disks(f: &mut Families, report: &HealthReport) {
    for d in &report.disks {
        let dev = || vec![("device", d.device.clone())];
        if let Some(log) = &d.nvme {
            let gauges: [(&str, &str, f64); 5] = [
                ("critical_warning", "NVMe critical warning byte (0 = none)", log.critical_warning.into()),
                ("available_spare", "NVMe available spare, percent", log.available_spare.into()),
                (
                    "available_spare_threshold",
                    "NVMe available spare threshold, percent",
                    log.available_spare_threshold.into(),
                ),
                (
                    "percentage_used",
                    "NVMe share of rated endurance used, percent",
                    log.percentage_used.into(),
                ),
                ("temperature", "Current temperature in Celsius", log.temperature_celsius.into()),
            ];
            for (name, help, v) in gauges {
                push(f, format!("smartctl_device_{name}"), help, false, labels_temp(name, dev()), v);
            }
            let counters: [(&str, &str, u64); 6] = [
                ("media_errors", "NVMe media and data integrity errors", log.media_errors),
                ("num_err_log_entries", "NVMe error information log entries", log.num_err_log_entries),
                (
                    "bytes_read",
                    "Bytes read (NVMe data units × 512000)",
                    log.data_units_read.saturating_mul(512_000),
                ),
                (
                    "bytes_written",
                    "Bytes written (NVMe data units × 512000)",
                    log.data_units_written.saturating_mul(512_000),
                ),
                ("power_on_seconds", "Power-on time in seconds", log.power_on_hours.saturating_mul(3600)),
                ("power_cycle_count", "Power cycles", log.power_cycles),
            ];
            for (name, help, v) in counters {
                push(f, format!("smartctl_device_{name}"), help, true, dev(), v as f64);
            }
            push(
                f,
                "smartctl_device_smart_status".into(),
                SMART_STATUS,
                false,
                dev(),
                f64::from(u8::from(log.critical_warning == 0)),
            );
        }
        if let Some(s) = &d.ata {
            push(
                f,
                "smartctl_device_smart_status".into(),
                SMART_STATUS,
                false,
                dev(),
                f64::from(u8::from(s.passed)),
            );
            if let Some(t) = s.temperature_celsius {
                push(
                    f,
                    "smartctl_device_temperature".into(),
                    "Current temperature in Celsius",
                    false,
                    labels_temp("temperature", dev()),
                    t as f64,
                );
            }
            if let Some(h) = s.power_on_hours {
                push(
                    f,
                    "smartctl_device_power_on_seconds".into(),
                    "Power-on time in seconds",
                    true,
                    dev(),
                    (h * 3600) as f64,
                );
            }
            if let Some(n) = s.power_cycle_count {
                push(f, "smartctl_device_power_cycle_count".into(), "Power cycles", true, dev(), n as f64);
            }
            for a in &s.attributes {
                let values = [("value", Some(a.value)), ("worst", Some(a.worst)), ("thresh", a.thresh)];
                let rows = values
                    .into_iter()
                    .filter_map(|(k, v)| Some((k, f64::from(v?))))
                    .chain([("raw", a.raw as f64)]);
                for (kind, v) in rows {
                    let mut labels = dev();
                    labels.extend([
                        ("attribute_id", a.id.to_string()),
                        ("attribute_name", a.name.clone()),
                        ("attribute_value_type", kind.to_string()),
                    ]);
                    push(f, "smartctl_device_attribute".into(), "ATA SMART attribute", false, labels, v);
                }
            }
        }
        if let Some(ie) = &d.scsi {
            push(
                f,
                "smartctl_device_smart_status".into(),
                SMART_STATUS,
                false,
                dev(),
                f64::from(u8::from(ie.ie_asc == 0)),
            );
            if let Some(t) = ie.temperature_celsius {
                push(
                    f,
                    "smartctl_device_temperature".into(),
                    "Current temperature in Celsius",
                    false,
                    labels_temp("temperature", dev()),
                    t.into(),
                );
            }
        }
    }
}

const SMART_STATUS: &str = "1 when the device reports itself healthy (ATA SMART passed, no NVMe critical warning, no SCSI informational exception)";

/// smartctl_exporter labels its temperature `temperature_type="current"`.
fn labels_temp(name: &str, mut labels: Labels) -> Labels {
    if name == "temperature" {
        labels.push(("temperature_type", "current".into()));
    }
    labels
}

fn hwmon(f: &mut Families, chip: &Chip) {
    let labels = |sensor: &str| vec![("chip", chip.chip.clone()), ("sensor", sensor.to_string())];
    if let Some(name) = chip.name.as_deref().map(health::hwmon::clean_name).filter(|n| !n.is_empty()) {
        let l = vec![("chip", chip.chip.clone()), ("chip_name", name)];
        push(f, "hwmon_chip_names".into(), "Annotation metric for human-readable chip names", false, l, 1.0);
    }
    for s in &chip.sensors {
        if let Some(label) = &s.label {
            let mut l = labels(&s.sensor);
            l.insert(1, ("label", label.clone()));
            push(f, "hwmon_sensor_label".into(), "Label for given chip and sensor", false, l, 1.0);
        }
        let (unit, counter) = match s.kind {
            SensorKind::Temperature => ("_celsius", false),
            SensorKind::Voltage => ("_volts", false),
            SensorKind::Fan => ("_rpm", false),
            SensorKind::Current => ("_amps", false),
            SensorKind::Power => ("_watt", false),
            SensorKind::Energy => ("_joule", true),
            SensorKind::Humidity | SensorKind::Intrusion => ("", false),
        };
        let prefix = s.kind.prefix();
        if s.kind != SensorKind::Humidity {
            let values = [
                ("", s.input),
                ("_min", s.min),
                ("_max", s.max),
                ("_crit", s.crit),
                ("_lcrit", s.lcrit),
                ("_target", s.target),
            ];
            for (property, v) in values {
                if let Some(v) = v {
                    let help = format!("Hardware monitor {prefix}{property} reading, in base units");
                    push(f, format!("hwmon_{prefix}{property}{unit}"), &help, counter, labels(&s.sensor), v);
                }
            }
        }
        for (alarm, on) in &s.alarms {
            let help = format!("Hardware sensor {alarm} status ({prefix})");
            push(
                f,
                format!("hwmon_{prefix}_{alarm}"),
                &help,
                false,
                labels(&s.sensor),
                f64::from(u8::from(*on)),
            );
        }
    }
}

fn edac(f: &mut Families, report: &HealthReport) {
    for mc in &report.memory_controllers {
        let c = || vec![("controller", mc.index.to_string())];
        let kinds = [
            ("correctable", mc.correctable_errors, mc.correctable_noinfo),
            ("uncorrectable", mc.uncorrectable_errors, mc.uncorrectable_noinfo),
        ];
        for (kind, total, noinfo) in kinds {
            let help = format!("Total {kind} memory errors");
            if let Some(n) = total {
                push(f, format!("edac_{kind}_errors"), &help, true, c(), n as f64);
            }
            let rows = mc.csrows.iter().map(|r| {
                (
                    r.index.to_string(),
                    if kind == "correctable" { r.correctable_errors } else { r.uncorrectable_errors },
                )
            });
            for (csrow, n) in rows.chain([("unknown".to_string(), noinfo)]) {
                if let Some(n) = n {
                    let mut l = c();
                    l.push(("csrow", csrow));
                    push(
                        f,
                        format!("edac_csrow_{kind}_errors"),
                        &format!("Total {kind} memory errors for this csrow"),
                        true,
                        l,
                        n as f64,
                    );
                }
            }
            for row in &mc.csrows {
                for ch in &row.channels {
                    let n =
                        if kind == "correctable" { ch.correctable_errors } else { ch.uncorrectable_errors };
                    if let Some(n) = n {
                        let l = vec![
                            ("channel", ch.index.to_string()),
                            ("controller", mc.index.to_string()),
                            ("csrow", row.index.to_string()),
                            ("dimm_label", ch.dimm_label.clone().unwrap_or_default()),
                        ];
                        push(
                            f,
                            format!("edac_channel_{kind}_errors"),
                            &format!("Total {kind} memory errors for this channel"),
                            true,
                            l,
                            n as f64,
                        );
                    }
                }
            }
            for d in &mc.dimms {
                let n = if kind == "correctable" { d.correctable_errors } else { d.uncorrectable_errors };
                if let Some(n) = n {
                    let l = vec![
                        ("controller", mc.index.to_string()),
                        ("dimm", d.index.to_string()),
                        ("dimm_label", d.label.clone().unwrap_or_default()),
                    ];
                    push(
                        f,
                        format!("edac_dimm_{kind}_errors"),
                        &format!("Total {kind} memory errors for this DIMM"),
                        true,
                        l,
                        n as f64,
                    );
                }
            }
        }
    }
}

fn gpus(f: &mut Families, report: &HealthReport) {
    for g in &report.gpus {
        let Some(c) = &g.counters else { continue };
        let gpu = || vec![("pci_address", g.pci_address.clone())];
        let ecc = [
            ("corrected", "volatile", c.ecc_corrected_volatile),
            ("uncorrected", "volatile", c.ecc_uncorrected_volatile),
            ("corrected", "aggregate", c.ecc_corrected_aggregate),
            ("uncorrected", "aggregate", c.ecc_uncorrected_aggregate),
        ];
        for (kind, counter, n) in ecc {
            if let Some(n) = n {
                let mut l = gpu();
                l.extend([("error_type", kind.to_string()), ("counter", counter.to_string())]);
                push(
                    f,
                    "gpu_ecc_errors".into(),
                    "GPU ECC errors (NVML; volatile since the driver loaded)",
                    true,
                    l,
                    n as f64,
                );
            }
        }
        for (cause, n) in
            [("single_bit", c.retired_pages_single_bit), ("double_bit", c.retired_pages_double_bit)]
        {
            if let Some(n) = n {
                let mut l = gpu();
                l.push(("cause", cause.to_string()));
                push(f, "gpu_retired_pages".into(), "GPU memory pages retired (NVML)", false, l, n as f64);
            }
        }
        if let Some(p) = c.retired_pages_pending {
            push(
                f,
                "gpu_retired_pages_pending".into(),
                "1 when GPU pages wait for retirement (NVML)",
                false,
                gpu(),
                f64::from(u8::from(p)),
            );
        }
        for reason in &c.throttle_reasons {
            let mut l = gpu();
            l.push(("reason", reason.clone()));
            push(f, "gpu_throttle_reason".into(), "Clock throttle reasons in effect (NVML)", false, l, 1.0);
        }
    }
}

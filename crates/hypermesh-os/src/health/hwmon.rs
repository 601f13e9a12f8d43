//! Hardware monitoring chips (`/sys/class/hwmon/hwmonN`): temperatures, fans, voltages,
//! currents, power and energy, with labels, limits and alarms, in base units.
//!
//! Chips are named as node_exporter's hwmon collector names them (`chip` label), so that series
//! line up: from the device the chip belongs to (`platform_coretemp_0`), with the chip's `name`
//! appended when several chips share one device (`platform_asus_nb_wmi_asus`), else from the
//! `name` file (`nct6779`), else the directory (`hwmon4`); an id that would still repeat gets
//! the directory appended (`platform_foo_hwmon3`). Sensor files are read from the chip
//! directory and from its `device` directory, as some drivers (applesmc) put them there.

use super::{Assessment, Status};
use crate::error::Result;
use crate::root::FsRoot;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const CLASS: &str = "/sys/class/hwmon";

/// What a sensor measures, with the sysfs unit divisor that gives the base unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SensorKind {
    /// `temp*`: °C (sysfs: millidegrees).
    Temperature,
    /// `in*`: volts (sysfs: millivolts).
    Voltage,
    /// `fan*`: revolutions per minute.
    Fan,
    /// `curr*`: amperes (sysfs: milliamperes).
    Current,
    /// `power*`: watts (sysfs: microwatts).
    Power,
    /// `energy*`: joules (sysfs: microjoules).
    Energy,
    /// `humidity*`: percent (sysfs: milli-percent).
    Humidity,
    /// `intrusion*`: chassis intrusion (alarms only).
    Intrusion,
}

impl SensorKind {
    /// The kind of a sysfs file prefix (`temp`, `in`...).
    pub fn of_prefix(prefix: &str) -> Option<Self> {
        Some(match prefix {
            "temp" => SensorKind::Temperature,
            "in" => SensorKind::Voltage,
            "fan" => SensorKind::Fan,
            "curr" => SensorKind::Current,
            "power" => SensorKind::Power,
            "energy" => SensorKind::Energy,
            "humidity" => SensorKind::Humidity,
            "intrusion" => SensorKind::Intrusion,
            _ => return None,
        })
    }

    /// The sysfs file prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            SensorKind::Temperature => "temp",
            SensorKind::Voltage => "in",
            SensorKind::Fan => "fan",
            SensorKind::Current => "curr",
            SensorKind::Power => "power",
            SensorKind::Energy => "energy",
            SensorKind::Humidity => "humidity",
            SensorKind::Intrusion => "intrusion",
        }
    }

    /// Divisor from the sysfs value to the base unit.
    fn divisor(self) -> f64 {
        match self {
            SensorKind::Temperature | SensorKind::Voltage | SensorKind::Current | SensorKind::Humidity => 1e3,
            SensorKind::Power | SensorKind::Energy => 1e6,
            SensorKind::Fan | SensorKind::Intrusion => 1.0,
        }
    }

    /// Unit of the base values, for display.
    pub fn unit(self) -> &'static str {
        match self {
            SensorKind::Temperature => "°C",
            SensorKind::Voltage => "V",
            SensorKind::Fan => "RPM",
            SensorKind::Current => "A",
            SensorKind::Power => "W",
            SensorKind::Energy => "J",
            SensorKind::Humidity => "%",
            SensorKind::Intrusion => "",
        }
    }
}

/// One sensor of a chip. Values are in the kind's base unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sensor {
    /// Sensor name as sysfs spells it (`temp1`, `fan2`, `in0`).
    pub sensor: String,
    /// What it measures.
    pub kind: SensorKind,
    /// `*_label` as the driver wrote it (`Core 0`, `Composite`).
    pub label: Option<String>,
    /// Current reading (`*_input`).
    pub input: Option<f64>,
    /// Lower limit (`*_min`).
    pub min: Option<f64>,
    /// Upper limit (`*_max`).
    pub max: Option<f64>,
    /// Critical upper limit (`*_crit`).
    pub crit: Option<f64>,
    /// Critical lower limit (`*_lcrit`).
    pub lcrit: Option<f64>,
    /// Target (`fan*_target`).
    pub target: Option<f64>,
    /// Alarm and fault flags by property (`alarm`, `crit_alarm`, `max_alarm`, `fault`...).
    pub alarms: BTreeMap<String, bool>,
}

/// One hwmon chip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chip {
    /// Stable chip id, as node_exporter's `chip` label.
    pub chip: String,
    /// The driver's `name` (`coretemp`, `nvme`, `amdgpu`), when it has one.
    pub name: Option<String>,
    /// The class directory (`hwmon3`): changes across boots.
    pub hwmon: String,
    /// Kernel path of the device the chip monitors.
    pub device_path: Option<String>,
    /// PCI address of that device, where it is on PCI (NVMe drives, GPUs, NICs).
    pub pci_address: Option<String>,
    /// Sensors, by kind and number.
    pub sensors: Vec<Sensor>,
}

/// Lower case, every character other than `a-z0-9:_` as `_`, trimmed of `_` (node_exporter's
/// `cleanMetricName`, used for chip ids).
pub fn clean_name(s: &str) -> String {
    let lowered: String = s
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_lowercase() || c.is_ascii_digit() || c == ':' || c == '_' { c } else { '_' })
        .collect();
    lowered.trim_matches('_').to_string()
}

/// Splits a sysfs file name `<type><number>[_<property>]` (`temp1_crit_alarm` → `temp`, 1,
/// `crit_alarm`); a bare `temp1` has the empty property.
pub fn split_file_name(file: &str) -> Option<(&str, u32, &str)> {
    let digits_at = file.find(|c: char| c.is_ascii_digit())?;
    let (kind, rest) = file.split_at(digits_at);
    let digits_end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    let number = rest[..digits_end].parse().ok()?;
    let property = match &rest[digits_end..] {
        "" => "",
        tail => tail.strip_prefix('_').filter(|p| !p.is_empty())?,
    };
    (!kind.is_empty()).then_some((kind, number, property))
}

/// Reads every chip. No `/sys/class/hwmon` means no chips.
pub fn read(root: &FsRoot) -> Result<Vec<Chip>> {
    let entries = match root.read_dir(CLASS) {
        Ok(e) => e,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let dirs: Vec<(String, Option<String>)> = entries
        .into_iter()
        .map(|e| format!("{CLASS}/{e}"))
        .filter(|dir| root.is_dir(dir))
        .map(|dir| {
            let device = root.resolve(&format!("{dir}/device")).ok();
            (dir, device)
        })
        .collect();
    let mut chips: Vec<Chip> = dirs
        .iter()
        .map(|(dir, device)| {
            let shared = device.is_some() && dirs.iter().filter(|(_, d)| d == device).count() > 1;
            chip(root, dir, device.as_deref(), shared)
        })
        .collect();
    // Chips of one device without names would share an id; keep ids unique (one series each).
    let ids: Vec<String> = chips.iter().map(|c| c.chip.clone()).collect();
    for c in chips.iter_mut().filter(|c| ids.iter().filter(|id| **id == c.chip).count() > 1) {
        c.chip = format!("{}_{}", c.chip, c.hwmon);
    }
    Ok(chips)
}

fn chip(root: &FsRoot, dir: &str, device: Option<&str>, shared: bool) -> Chip {
    let hwmon = dir.rsplit('/').next().unwrap_or(dir).to_string();
    let name = root.read_opt(&format!("{dir}/name"));
    let clean = name.as_deref().map(clean_name).filter(|n| !n.is_empty());
    let from_device = device.and_then(|path| {
        let mut parts = path.rsplit('/');
        let dev = clean_name(parts.next()?);
        let kind = clean_name(parts.next().unwrap_or(""));
        match (kind.is_empty(), dev.is_empty()) {
            (_, true) => None,
            (true, false) => Some(dev),
            (false, false) => Some(format!("{kind}_{dev}")),
        }
    });
    let chip = match (from_device, &clean) {
        (Some(d), Some(n)) if shared => format!("{d}_{n}"),
        (Some(d), _) => d,
        (None, Some(n)) => n.clone(),
        (None, None) => clean_name(&hwmon),
    };
    let mut values: BTreeMap<(SensorKind, u32), BTreeMap<String, String>> = BTreeMap::new();
    for base in [dir.to_string(), format!("{dir}/device")] {
        let Ok(files) = root.read_dir(&base) else { continue };
        for file in files {
            let Some((prefix, number, property)) = split_file_name(&file) else { continue };
            let Some(kind) = SensorKind::of_prefix(prefix) else { continue };
            if let Some(v) = root.read_opt(&format!("{base}/{file}")) {
                values.entry((kind, number)).or_default().insert(property.to_string(), v);
            }
        }
    }
    let sensors = values.into_iter().map(|((kind, n), props)| sensor(kind, n, &props)).collect();
    let pci_address = device.and_then(|p| {
        p.split('/').rev().find(|c| crate::linux::devpath::is_pci_address(c)).map(str::to_string)
    });
    Chip { chip, name, hwmon, device_path: device.map(str::to_string), pci_address, sensors }
}

fn sensor(kind: SensorKind, number: u32, props: &BTreeMap<String, String>) -> Sensor {
    let value = |p: &str| props.get(p).and_then(|v| v.parse::<f64>().ok()).map(|v| v / kind.divisor());
    let alarms = props
        .iter()
        .filter(|(p, _)| p.ends_with("alarm") || p.as_str() == "fault")
        .filter_map(|(p, v)| v.parse::<i64>().ok().map(|n| (p.clone(), n != 0)))
        .collect();
    Sensor {
        sensor: format!("{}{number}", kind.prefix()),
        kind,
        label: props.get("label").cloned(),
        input: value("input"),
        min: value("min"),
        max: value("max"),
        crit: value("crit"),
        lcrit: value("lcrit"),
        target: value("target"),
        alarms,
    }
}

impl Sensor {
    /// `temp1 (Core 0)`, or `temp1` without a label.
    pub fn display_name(&self) -> String {
        match &self.label {
            Some(l) => format!("{} ({l})", self.sensor),
            None => self.sensor.clone(),
        }
    }
}

impl Chip {
    /// Failing at or above a critical limit (or with a critical alarm raised); a warning above
    /// the upper limit, or with any other alarm or fault raised.
    pub fn assess(&self) -> Assessment {
        let mut a = Assessment::default();
        for s in &self.sensors {
            let unit = s.kind.unit();
            let name = s.display_name();
            match (s.input, s.crit) {
                (Some(v), Some(c)) if c > 0.0 && v >= c => {
                    a.note(Status::Failing, format!("{name} {v} {unit} at or above critical {c} {unit}"));
                }
                _ => match (s.input, s.max) {
                    (Some(v), Some(m)) if m > 0.0 && v > m && s.kind != SensorKind::Fan => {
                        a.note(Status::Warning, format!("{name} {v} {unit} above its maximum {m} {unit}"));
                    }
                    _ => {}
                },
            }
            for (alarm, _) in s.alarms.iter().filter(|(_, on)| **on) {
                let state = if alarm.starts_with("crit") { Status::Failing } else { Status::Warning };
                a.note(state, format!("{name} {alarm} raised"));
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names() {
        assert_eq!(split_file_name("temp1_crit_alarm"), Some(("temp", 1, "crit_alarm")));
        assert_eq!(split_file_name("in0_input"), Some(("in", 0, "input")));
        assert_eq!(split_file_name("fan12"), Some(("fan", 12, "")));
        assert_eq!(split_file_name("name"), None);
        assert_eq!(split_file_name("temp1x"), None);
        assert_eq!(split_file_name("temp1_"), None);
        assert_eq!(split_file_name("1_input"), None);
        assert_eq!(clean_name("asus-nb-wmi"), "asus_nb_wmi");
        assert_eq!(clean_name(" Core 0\n"), "core_0");
    }

    #[test]
    fn critical_temperature_fails_and_alarms_warn() {
        let mut s = Sensor {
            sensor: "temp1".into(),
            kind: SensorKind::Temperature,
            label: Some("Composite".into()),
            input: Some(101.0),
            min: None,
            max: Some(84.0),
            crit: Some(100.0),
            lcrit: None,
            target: None,
            alarms: BTreeMap::new(),
        };
        let mut chip = Chip {
            chip: "nvme".into(),
            name: None,
            hwmon: "hwmon0".into(),
            device_path: None,
            pci_address: None,
            sensors: vec![s.clone()],
        };
        let a = chip.assess();
        assert_eq!(a.status, Status::Failing);
        assert!(a.reasons[0].contains("temp1 (Composite) 101 °C at or above critical 100 °C"), "{a:?}");
        s.input = Some(90.0);
        s.alarms.insert("alarm".into(), true);
        chip.sensors = vec![s];
        let a = chip.assess();
        assert_eq!(a.status, Status::Warning);
        assert_eq!(a.reasons.len(), 2, "{a:?}");
    }
}

//! Thermal zones (`/sys/class/thermal/thermal_zoneN`): type, temperature and trip points.

use super::{Assessment, Status};
use crate::error::Result;
use crate::root::FsRoot;
use serde::{Deserialize, Serialize};

const CLASS: &str = "/sys/class/thermal";

/// One thermal zone.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ThermalZone {
    /// Directory name (`thermal_zone0`).
    pub name: String,
    /// Zone number.
    pub zone: u32,
    /// What it measures (`type`: `x86_pkg_temp`, `acpitz`, `cpu-thermal`).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Temperature, °C (`temp` is millidegrees); `None` when the sensor does not answer.
    pub temperature_celsius: Option<f64>,
    /// Trip points with a temperature above 0 °C (firmware fills unused ones with 0 or less).
    pub trip_points: Vec<TripPoint>,
}

/// One trip point.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TripPoint {
    /// Number (`trip_point_N_*`).
    pub index: u32,
    /// `critical`, `hot`, `passive` or `active`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Temperature, °C.
    pub temperature_celsius: f64,
}

/// Reads every thermal zone. No thermal class means none.
pub fn read(root: &FsRoot) -> Result<Vec<ThermalZone>> {
    let entries = match root.read_dir(CLASS) {
        Ok(e) => e,
        Err(e) if e.is_not_found() => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut zones: Vec<ThermalZone> = entries
        .iter()
        .filter_map(|e| e.strip_prefix("thermal_zone")?.parse().ok().map(|n| (e, n)))
        .map(|(entry, zone)| {
            let dir = format!("{CLASS}/{entry}");
            let files = root.read_dir(&dir).unwrap_or_default();
            let mut trip_points: Vec<TripPoint> = files
                .iter()
                .filter_map(|f| f.strip_prefix("trip_point_")?.strip_suffix("_type")?.parse().ok())
                .filter_map(|index: u32| {
                    let kind = root.read_opt(&format!("{dir}/trip_point_{index}_type"))?;
                    let milli = root.read_opt_parsed::<i64>(&format!("{dir}/trip_point_{index}_temp"))?;
                    (milli > 0).then(|| TripPoint { index, kind, temperature_celsius: milli as f64 / 1e3 })
                })
                .collect();
            trip_points.sort_by_key(|t| t.index);
            ThermalZone {
                name: entry.clone(),
                zone,
                kind: root.read_opt(&format!("{dir}/type")),
                temperature_celsius: root
                    .read_opt_parsed::<i64>(&format!("{dir}/temp"))
                    .map(|m| m as f64 / 1e3),
                trip_points,
            }
        })
        .collect();
    zones.sort_by_key(|z| z.zone);
    Ok(zones)
}

impl ThermalZone {
    /// Failing at or above a `critical` trip point (the kernel shuts down there); a warning at
    /// or above a `hot` one.
    pub fn assess(&self) -> Assessment {
        let mut a = Assessment::default();
        let Some(t) = self.temperature_celsius else { return a };
        for trip in &self.trip_points {
            let state = match trip.kind.as_str() {
                "critical" => Status::Failing,
                "hot" => Status::Warning,
                _ => continue,
            };
            if t >= trip.temperature_celsius {
                a.note(
                    state,
                    format!(
                        "{t} °C at or above its {} trip point {} °C",
                        trip.kind, trip.temperature_celsius
                    ),
                );
            }
        }
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_trip_fails() {
        let mut z = ThermalZone {
            name: "thermal_zone0".into(),
            temperature_celsius: Some(95.0),
            trip_points: vec![
                TripPoint { index: 0, kind: "hot".into(), temperature_celsius: 90.0 },
                TripPoint { index: 1, kind: "critical".into(), temperature_celsius: 100.0 },
            ],
            ..ThermalZone::default()
        };
        assert_eq!(z.assess().status, Status::Warning);
        z.temperature_celsius = Some(100.0);
        assert_eq!(z.assess().status, Status::Failing);
        z.temperature_celsius = Some(40.0);
        assert_eq!(z.assess(), Assessment::default());
    }
}

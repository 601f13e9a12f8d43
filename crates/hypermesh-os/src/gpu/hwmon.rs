//! Sensors a GPU driver publishes through hwmon (`DEVICE/hwmon/hwmonN/`): temperature and power.

use crate::model::Gpu;
use crate::root::FsRoot;

/// Fills temperature, power draw and power cap from the device's first hwmon directory, where
/// the driver has one (amdgpu, nouveau, xe and discrete i915). Leaves fields already set alone.
pub fn fill(root: &FsRoot, dir: &str, gpu: &mut Gpu) {
    let Ok(names) = root.read_dir(&format!("{dir}/hwmon")) else { return };
    let Some(hwmon) = names.into_iter().find(|n| n.starts_with("hwmon")) else { return };
    let base = format!("{dir}/hwmon/{hwmon}");
    let read = |name: &str| root.read_opt_parsed::<i64>(&format!("{base}/{name}"));
    // temp1_input is millidegrees Celsius; power files are microwatts.
    if gpu.temperature_celsius.is_none() {
        gpu.temperature_celsius = read("temp1_input").map(|m| m as f64 / 1000.0);
    }
    if gpu.power_draw_watts.is_none() {
        gpu.power_draw_watts = read("power1_average").or_else(|| read("power1_input")).map(micro_to_unit);
    }
    if gpu.power_limit_watts.is_none() {
        gpu.power_limit_watts =
            read("power1_cap").or_else(|| read("power1_max")).filter(|w| *w > 0).map(micro_to_unit);
    }
}

fn micro_to_unit(v: i64) -> f64 {
    v as f64 / 1e6
}

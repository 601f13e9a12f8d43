//! `hypermesh gpus`: the GPUs of this host as a table or a JSON list.

use super::Global;
use super::output::{Table, opt, opt_bytes, snake_name};
use hypermesh_os::model::Gpu;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

/// Arguments of `hypermesh gpus`.
#[derive(clap::Args)]
pub struct Args {
    /// Print the list as JSON (`[]` when there is no GPU).
    #[arg(long)]
    pub json: bool,
    /// Also print, on stderr, how long detection and NVML's initialisation took.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Runs the command: exit 0 whenever the list could be made, even if it is empty.
pub fn run(global: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let backend = global.backend()?;
    let mut problems = Vec::new();
    let start = Instant::now();
    let gpus = backend.gpus(&mut problems)?;
    let took = start.elapsed();
    for p in &problems {
        eprintln!("hypermesh: gpus: {p}");
    }
    if args.verbose {
        let nvml = nvml_note();
        eprintln!("gpus: detected {} in {:.3} ms ({nvml})", gpus.len(), took.as_secs_f64() * 1e3);
    }
    let text = if args.json { serde_json::to_string_pretty(&gpus)? + "\n" } else { render(&gpus) };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        // A reader that stopped early (`| head`) is not an error of ours.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// How much of the detection NVML initialisation took, when the native backend loaded it.
#[cfg(native_linux)]
fn nvml_note() -> String {
    match hypermesh_os::gpu::nvml::init_time() {
        Some(t) => format!("{:.1} ms of it NVML initialisation", t.as_secs_f64() * 1e3),
        None => "NVML not loaded".into(),
    }
}

/// The portable backend, the only one here, asks sysinfo, not NVML directly.
#[cfg(not(native_linux))]
fn nvml_note() -> String {
    "NVML not loaded".into()
}

/// Renders GPUs as a table followed by each GPU's notes.
pub fn render(gpus: &[Gpu]) -> String {
    if gpus.is_empty() {
        return "No GPU found.\n".into();
    }
    let mut out = table(gpus, true);
    for g in gpus.iter().filter(|g| !g.notes.is_empty()) {
        out += &format!("\n{} notes:\n", g.pci_address);
        for n in &g.notes {
            out += &format!("  {n}\n");
        }
    }
    out
}

/// The GPU table: address, vendor, model, kind, driver, memory, use and temperature; `wide`
/// adds power, PCIe link and DRM card (`gpus` shows them, the profile's summary does not).
pub fn table(gpus: &[Gpu], wide: bool) -> String {
    const WIDE: [&str; 3] = ["POWER", "PCIE", "DRM"];
    let mut header = vec!["GPU", "VENDOR", "MODEL", "KIND", "DRIVER", "MEMORY", "USED", "BUSY", "TEMP"];
    if wide {
        header.extend(WIDE);
    }
    let mut t = Table::new(&header);
    for g in gpus {
        let mut row = vec![
            g.pci_address.clone(),
            opt(g.vendor.clone()),
            opt(g.model.clone()),
            opt(g.kind.and_then(snake_name)),
            opt(g.driver.clone()),
            opt_bytes(g.memory_total_bytes),
            opt_bytes(g.memory_used_bytes),
            opt(g.utilization_percent.map(|u| format!("{u:.0}%"))),
            opt(g.temperature_celsius.map(|t| format!("{t:.0}°C"))),
        ];
        if wide {
            row.extend(wide_cells(g));
        }
        t.row(row);
    }
    t.render()
}

/// Power draw (of the limit), PCIe link and DRM card of one GPU.
fn wide_cells(g: &Gpu) -> [String; 3] {
    let pcie = g.pcie.as_ref().map(|l| format!("gen{} x{}", opt(l.current_generation), opt(l.current_width)));
    let power = g.power_draw_watts.map(|w| match g.power_limit_watts {
        Some(limit) => format!("{w:.0}/{limit:.0} W"),
        None => format!("{w:.0} W"),
    });
    [opt(power), opt(pcie), opt(g.drm_card.clone())]
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypermesh_os::model::{GpuKind, PcieLink};

    #[test]
    fn table_with_notes() {
        let gpu = Gpu {
            pci_address: "0000:09:00.0".into(),
            vendor: Some("AMD".into()),
            kind: Some(GpuKind::Discrete),
            memory_total_bytes: Some(8 << 30),
            utilization_percent: Some(4.0),
            pcie: Some(PcieLink {
                current_generation: Some(3),
                current_width: Some(16),
                ..PcieLink::default()
            }),
            notes: vec!["NVML unavailable: test".into()],
            ..Gpu::default()
        };
        let text = render(&[gpu]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("GPU           VENDOR  MODEL  KIND"), "{text}");
        assert!(
            lines[1].contains("discrete") && lines[1].contains("8.0 GiB") && lines[1].contains("4%"),
            "{text}"
        );
        assert!(lines[1].contains("gen3 x16"), "{text}");
        assert_eq!(&lines[2..], ["", "0000:09:00.0 notes:", "  NVML unavailable: test"]);
        assert_eq!(render(&[]), "No GPU found.\n");
    }
}

//! Where `top`'s numbers come from: the usage sampler (one sample per tick), plus what is found
//! once at start (CPU grouping, GPUs, asset inventory, the runqlat and biolatency eBPF programs) and refreshed
//! with it: NVML live values every tick, filesystem space and the asset ledger every tenth.

use super::state::{AssetTotals, CpuGroup, State};
use crate::cmd::Global;
use hypermesh_assets::{
    AssetManager, Config, HostView, Inventory, LEDGER_FILE, LiveState, default_adapters, default_state_dir,
};
use hypermesh_ebpf::lifecycle;
use hypermesh_ebpf::maps::Log2Histogram;
use hypermesh_ebpf::maps::sum_cpus;
use hypermesh_ebpf::programs::biolatency::Biolatency;
use hypermesh_ebpf::programs::runqlat::Runqlat;
use hypermesh_os::gpu::nvml::{self, NVIDIA_VENDOR_ID};
use hypermesh_os::model::Cpu;
use hypermesh_os::usage::filesystems;
use hypermesh_os::usage::{Rates, Sample, Sampler};
use hypermesh_os::{Section, detect};
use std::path::PathBuf;
use std::time::Duration;

/// Filesystems and the ledger are read every this many ticks (statvfs can be slow).
const SLOW_EVERY: u64 = 10;

/// The open sources.
pub struct Sources {
    sampler: Sampler,
    prev: Sample,
    runqlat: Option<(Runqlat, Vec<u64>)>,
    biolatency: Option<(Biolatency, Vec<u64>)>,
    inventory: Option<(Inventory, PathBuf)>,
    nvidia: bool,
    ticks: u64,
}

impl Sources {
    /// Opens everything and fills what `state` shows from the start; `state_dir` holds the
    /// asset ledger (default: [`default_state_dir`]); `ebpf` false leaves runqlat unloaded.
    pub fn open(
        global: &Global,
        state_dir: Option<PathBuf>,
        ebpf: bool,
        state: &mut State,
    ) -> anyhow::Result<Sources> {
        let mut sampler = Sampler::new(global.fs_root()?);
        let backend = global.backend()?;
        let profile = detect(
            backend.as_ref(),
            &[Section::Cpu, Section::Numa, Section::Memory, Section::Storage, Section::Gpus],
        );
        state.cpu_groups = profile.cpu.as_ref().map(cpu_groups).unwrap_or_default();
        state.gpus = match profile.errors.iter().find(|e| e.section == Section::Gpus) {
            Some(e) if profile.gpus.is_empty() => Err(e.message.clone()),
            _ => Ok(profile.gpus.clone()),
        };
        let nvidia = profile.gpus.iter().any(|g| g.vendor_id == NVIDIA_VENDOR_ID);
        let live = LiveState::default();
        let config = Config::default();
        let inventory = Inventory::collect(
            &default_adapters(),
            &HostView { profile: &profile, live: &live, config: &config },
        );
        let inventory = match state_dir.or_else(default_state_dir) {
            Some(dir) => Some((inventory, dir.join(LEDGER_FILE))),
            None => {
                state.assets = Err("no state directory (HOME is not set)".into());
                None
            }
        };
        let allowed = if ebpf {
            lifecycle::preflight(sampler.root()).map(drop).map_err(|e| e.to_string())
        } else {
            Err("not loaded (--no-ebpf)".into())
        };
        let runqlat = match allowed.clone().and_then(|()| Runqlat::start().map_err(|e| e.to_string())) {
            Ok(rq) => Some((rq, Vec::new())),
            Err(why) => {
                state.runqlat = Err(why);
                None
            }
        };
        let biolatency = match allowed.and_then(|()| Biolatency::start().map_err(|e| e.to_string())) {
            Ok(bio) => Some((bio, Vec::new())),
            Err(why) => {
                state.biolat = Err(why);
                None
            }
        };
        let prev = sampler.sample();
        let mut sources = Sources { sampler, prev, runqlat, biolatency, inventory, nvidia, ticks: 0 };
        sources.slow(state);
        Ok(sources)
    }

    /// One tick: a new sample and the rates since the last one, NVML and eBPF readings, and
    /// every tenth tick filesystem space and the ledger.
    pub fn tick(&mut self, state: &mut State) {
        let cur = self.sampler.sample();
        state.update(Rates::between(&self.prev, &cur));
        self.prev = cur;
        if let Some((rq, before)) = &mut self.runqlat {
            state.runqlat = rq.histogram().map(|h| interval_histogram(before, h)).map_err(|e| e.to_string());
        }
        if let Some((bio, before)) = &mut self.biolatency {
            // Every disk and operation together: the pane is one histogram.
            let all = bio.histograms(self.sampler.root()).map(|per_disk| {
                let slots: Vec<Vec<u64>> = per_disk.into_iter().map(|d| d.hist.slots).collect();
                Log2Histogram { slots: sum_cpus(&slots) }
            });
            state.biolat = all.map(|h| interval_histogram(before, h)).map_err(|e| e.to_string());
        }
        if self.nvidia {
            refresh_nvml(state);
        }
        self.ticks += 1;
        if self.ticks.is_multiple_of(SLOW_EVERY) {
            self.slow(state);
        }
    }

    /// Filesystem space and the asset ledger.
    fn slow(&mut self, state: &mut State) {
        state.filesystems = filesystems::read(self.sampler.root()).map_err(|e| e.to_string());
        if let Some((inventory, path)) = &self.inventory {
            state.assets = asset_totals(inventory, path);
        }
    }
}

/// The counts added since `before` (cumulative slots), keeping the new totals in `before`.
fn interval_histogram(before: &mut Vec<u64>, now: Log2Histogram) -> Log2Histogram {
    let slots = now
        .slots
        .iter()
        .enumerate()
        .map(|(i, c)| c.saturating_sub(before.get(i).copied().unwrap_or(0)))
        .collect();
    *before = now.slots;
    Log2Histogram { slots }
}

/// Utilisation, memory and temperature of NVIDIA GPUs from NVML, now.
fn refresh_nvml(state: &mut State) {
    let (Ok(gpus), Ok(api)) = (&mut state.gpus, nvml::shared()) else { return };
    for g in gpus.iter_mut().filter(|g| g.vendor_id == NVIDIA_VENDOR_ID) {
        if let Ok(d) = api.device(&g.pci_address) {
            g.utilization_percent = d.utilization.map(|u| u.0.into());
            g.memory_used_bytes = d.memory_used;
            g.memory_total_bytes = d.memory_total.or(g.memory_total_bytes);
            g.temperature_celsius = d.temperature.map(f64::from);
        }
    }
}

/// Groups CPUs by core kind on a hybrid CPU, else by package when there are several, else none.
pub fn cpu_groups(cpu: &Cpu) -> Vec<CpuGroup> {
    if cpu.kinds.len() > 1 {
        return cpu.kinds.iter().map(|k| CpuGroup { name: k.name.clone(), cpus: k.cpus.clone() }).collect();
    }
    let mut packages: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
    for l in cpu.logical.iter().filter(|l| l.online) {
        packages.entry(l.package.unwrap_or(0)).or_default().push(l.id);
    }
    if packages.len() < 2 {
        return Vec::new();
    }
    packages.into_iter().map(|(p, cpus)| CpuGroup { name: format!("package {p}"), cpus }).collect()
}

/// Allocatable, allocated and free per kind from the ledger (read-only when it exists).
fn asset_totals(inventory: &Inventory, ledger: &std::path::Path) -> Result<Vec<AssetTotals>, String> {
    let (manager, _) = AssetManager::open_to_look(inventory, ledger, Duration::from_millis(200))
        .map_err(|e| e.to_string())?;
    let mut totals: Vec<AssetTotals> = Vec::new();
    for s in manager.status().assets {
        let kind = s.asset.kind;
        let i = totals.iter().position(|t| t.kind == kind).unwrap_or_else(|| {
            totals.push(AssetTotals { kind, allocatable: 0, allocated: 0, free: 0 });
            totals.len() - 1
        });
        let t = &mut totals[i];
        t.allocatable += s.asset.allocatable;
        t.allocated += s.allocated;
        t.free += s.free;
    }
    Ok(totals)
}

//! Loading, attaching and detaching programs with aya.
//!
//! A program is described by a [`Spec`]: an object (embedded or from a path) and its hooks,
//! each hook an ordered chain of [`Variant`]s (e.g. tp_btf → raw_tp → tracepoint). [`Loaded::load`]
//! tries each chain in order and keeps the first variant that loads and attaches, recording why
//! the others failed. Links are owned by the [`Loaded`] value (bpf links held by this process):
//! dropping it, exiting, or being killed with SIGKILL detaches and unloads everything, unless the
//! caller pinned the links under bpffs ([`Loaded::pin`]). New programs only need a `.bpf.c`
//! file, its object, and a `Spec`.

mod fallback;

use crate::btf_index::{BtfIndex, KIND_FUNC, KIND_TYPEDEF};
use crate::error::{Error, Result};
use crate::probe::caps::{Cap, Capabilities};
use crate::probe::mounts::Mounts;
use aya::programs::{BtfTracePoint, FEntry, KProbe, ProgramError, RawTracePoint, TracePoint, links::FdLink};
use aya::{Ebpf, EbpfLoader};
use hypermesh_os::FsRoot;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Prefix of every program and map name we load, so `bpftool prog show` and `ebpf list` can
/// tell ours apart.
pub const NAME_PREFIX: &str = "hm_";

/// Directory under bpffs where pinned links live.
pub const PIN_DIR: &str = "hypermesh";

/// One way to attach a hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Variant {
    /// BTF-typed raw tracepoint (`SEC("tp_btf/EVENT")`).
    TpBtf {
        /// Program (function) name in the object.
        prog: &'static str,
        /// Tracepoint name (`sched_switch`).
        event: &'static str,
    },
    /// Raw tracepoint (`SEC("raw_tp/EVENT")`); named `raw_tracepoint` in JSON, as [`Variant::kind`].
    #[serde(rename = "raw_tracepoint")]
    RawTp {
        /// Program name.
        prog: &'static str,
        /// Tracepoint name.
        event: &'static str,
        /// The program reads kernel structs through CO-RE relocations, which only the kernel's
        /// BTF resolves (without it the reads would use the object's own, wrong, offsets).
        core: bool,
    },
    /// Classic tracepoint (`SEC("tracepoint/CATEGORY/EVENT")`).
    Tracepoint {
        /// Program name.
        prog: &'static str,
        /// Category (`sched`).
        category: &'static str,
        /// Event (`sched_switch`).
        event: &'static str,
    },
    /// fentry on a kernel function.
    Fentry {
        /// Program name.
        prog: &'static str,
        /// Kernel function.
        func: &'static str,
    },
    /// kprobe on a kernel function.
    Kprobe {
        /// Program name.
        prog: &'static str,
        /// Kernel function.
        func: &'static str,
    },
}

impl Variant {
    /// The attach kind, as the probe's `attach` map names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Variant::TpBtf { .. } => "tp_btf",
            Variant::RawTp { .. } => "raw_tracepoint",
            Variant::Tracepoint { .. } => "tracepoint",
            Variant::Fentry { .. } => "fentry",
            Variant::Kprobe { .. } => "kprobe",
        }
    }

    /// The program name in the object.
    pub fn prog(&self) -> &'static str {
        match self {
            Variant::TpBtf { prog, .. }
            | Variant::RawTp { prog, .. }
            | Variant::Tracepoint { prog, .. }
            | Variant::Fentry { prog, .. }
            | Variant::Kprobe { prog, .. } => prog,
        }
    }

    /// Whether the variant needs the kernel's BTF.
    fn needs_btf(&self) -> bool {
        matches!(self, Variant::TpBtf { .. } | Variant::Fentry { .. } | Variant::RawTp { core: true, .. })
    }
}

/// A hook: what it observes and its fallback chain, best variant first.
#[derive(Debug, Clone, Copy)]
pub struct Hook {
    /// Human name (`sched_switch`).
    pub name: &'static str,
    /// Variants in order of preference.
    pub chain: &'static [Variant],
}

impl Hook {
    /// A hook whose chain starts `skip` variants in, always keeping the last one (to force a
    /// fallback, e.g. in tests).
    pub fn skipping(name: &'static str, chain: &'static [Variant], skip: usize) -> Hook {
        Hook { name, chain: &chain[skip.min(chain.len().saturating_sub(1))..] }
    }
}

/// Where an object's bytes come from.
#[derive(Debug, Clone)]
pub enum Object {
    /// Compiled into the binary.
    Embedded(&'static [u8]),
    /// A file.
    Path(PathBuf),
}

/// A program set: one object and its hooks.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Name (`runqlat`).
    pub name: &'static str,
    /// The object.
    pub object: Object,
    /// Hooks to attach.
    pub hooks: Vec<Hook>,
    /// Values of the object's `const volatile u32` globals set before loading (e.g. tracepoint
    /// field offsets read from tracefs); each must exist in the object.
    pub globals: Vec<(&'static str, u32)>,
}

/// The attach kinds [`Spec::forcing`] takes, as [`Variant::kind`] names them.
pub const KINDS: [&str; 5] = ["fentry", "kprobe", "tp_btf", "raw_tracepoint", "tracepoint"];

impl Spec {
    /// The spec with every hook reduced to its variant of `kind` (one of [`KINDS`]; `raw_tp` is
    /// taken for `raw_tracepoint`), so that loading either attaches that variant or fails with
    /// its reason. Fails when a hook has no such variant.
    pub fn forcing(mut self, kind: &str) -> Result<Spec> {
        let kind = if kind == "raw_tp" { "raw_tracepoint" } else { kind };
        for hook in &mut self.hooks {
            let Some(i) = hook.chain.iter().position(|v| v.kind() == kind) else {
                let offers: Vec<&str> = hook.chain.iter().map(Variant::kind).collect();
                return Err(Error::Unsupported(format!(
                    "{} has no {kind} variant for {} (it offers {})",
                    self.name,
                    hook.name,
                    offers.join(", ")
                )));
            };
            hook.chain = &hook.chain[i..=i];
        }
        Ok(self)
    }
}

/// The variant a hook ended up with, and why the better ones were passed over.
#[derive(Debug, Clone, Serialize)]
pub struct Chosen {
    /// The hook.
    pub hook: &'static str,
    /// The variant used.
    pub variant: Variant,
    /// Each variant tried before it: (kind, reason).
    pub fell_back: Vec<(String, String)>,
    /// Kernel program id.
    pub prog_id: u32,
}

/// A loaded, attached program set. Dropping it detaches and unloads everything not pinned.
pub struct Loaded {
    /// bpf links taken out of their programs (tp_btf, raw_tp, fentry), by `chosen` index;
    /// declared first so they are dropped (detached) before the programs.
    links: Vec<(usize, FdLink)>,
    ebpf: Ebpf,
    chosen: Vec<Chosen>,
}

fn rejected(prog: &str, e: ProgramError) -> Error {
    match e {
        ProgramError::LoadError { io_error, verifier_log } => Error::Rejected {
            program: prog.to_string(),
            cause: io_error.to_string(),
            errno: io_error.raw_os_error(),
            log: format!("{verifier_log:?}"),
        },
        other => Error::aya(format!("program {prog}"), other),
    }
}

/// Checks what a tracing program needs before touching the kernel, so the failure is one
/// sentence naming the cause and the fix; mounts tracefs when missing (tracepoint variants
/// need it). Returns what it mounted, one sentence each.
pub fn preflight(root: &FsRoot) -> Result<Vec<String>> {
    let caps = Capabilities::read(root)?;
    if !caps.can_trace() {
        let why = if rustix::process::geteuid().is_root() {
            "this process lacks CAP_BPF and CAP_PERFMON (and CAP_SYS_ADMIN)"
        } else {
            "it is not running as root and lacks CAP_BPF and CAP_PERFMON"
        };
        return Err(Error::Unavailable(format!(
            "cannot load eBPF programs: {why}; run it as root or grant them (setcap cap_bpf,cap_perfmon+ep $(which hypermesh))"
        )));
    }
    let mut mounts = Mounts::read(root)?;
    if caps.has(Cap::SysAdmin) {
        // Best effort: without tracefs only the tracepoint variants are lost, and the
        // attach error then names the cause.
        let _ = mounts.ensure("tracefs");
    }
    Ok(mounts.mounted)
}

impl Loaded {
    /// Loads `spec`'s object and attaches every hook with the first variant that works.
    pub fn load(spec: &Spec) -> Result<Self> {
        // aya's loader parses the kernel BTF itself for the CO-RE relocations and frees it
        // with the loader; attaching reads only the targets' ids from the raw BTF.
        let mut loader = EbpfLoader::new();
        // Maps aya has no typed wrapper for (task storage) are still created; only the
        // programs touch them.
        loader.allow_unsupported_maps();
        for (name, value) in &spec.globals {
            loader.override_global(name, value, true);
        }
        let mut ebpf = match &spec.object {
            Object::Embedded(bytes) => loader.load(bytes),
            Object::Path(p) => loader.load_file(p),
        }
        .map_err(|e| Error::aya(format!("loading the {} object", spec.name), e))?;
        drop(loader);
        let mut raw = RawBtf(None);
        let (mut chosen, mut links) = (Vec::new(), Vec::new());
        for hook in &spec.hooks {
            let (c, link) = attach_hook(&mut ebpf, spec.name, hook, &mut raw)?;
            if let Some(link) = link {
                links.push((chosen.len(), link));
            }
            chosen.push(c);
        }
        Ok(Loaded { links, ebpf, chosen })
    }

    /// [`load`](Self::load) for a program whose hooks must all attach with the same kind (each
    /// kind identifies tasks or requests its own way); when they differ, fails with the message
    /// `mismatch` makes of the kinds.
    pub fn load_same_kind(spec: &Spec, mismatch: impl FnOnce(&[&str]) -> String) -> Result<Self> {
        let loaded = Self::load(spec)?;
        let kinds: Vec<&str> = loaded.chosen.iter().map(|c| c.variant.kind()).collect();
        if kinds.windows(2).any(|w| w[0] != w[1]) {
            return Err(Error::Unavailable(mismatch(&kinds)));
        }
        Ok(loaded)
    }

    /// The variant each hook uses.
    pub fn chosen(&self) -> &[Chosen] {
        &self.chosen
    }

    /// Kernel ids of the attached programs.
    pub fn prog_ids(&self) -> Vec<u32> {
        self.chosen.iter().map(|c| c.prog_id).collect()
    }

    /// A map by name.
    pub fn map(&self, name: &str) -> Result<&aya::maps::Map> {
        self.ebpf.map(name).ok_or_else(|| Error::Invalid(format!("the object has no map {name}")))
    }

    /// Pins every attachment under `BPFFS/hypermesh/SPEC/PROGRAM`, so the programs stay attached
    /// after this process exits (until `hypermesh ebpf unpin`). Only bpf links can be pinned:
    /// with a tracepoint or kprobe (perf event) attachment this fails before pinning anything.
    pub fn pin(self, bpffs: &Path, spec: &str) -> Result<Vec<PathBuf>> {
        if let Some(c) = self.chosen.iter().enumerate().find(|(i, _)| !self.links.iter().any(|(l, _)| l == i))
        {
            return Err(Error::Unsupported(format!(
                "{} attachments are perf events, not bpf links, and cannot be pinned",
                c.1.variant.kind()
            )));
        }
        let dir = bpffs.join(PIN_DIR).join(spec);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut pinned = Vec::new();
        for (i, link) in self.links {
            let path = dir.join(self.chosen[i].variant.prog());
            link.pin(&path).map_err(|e| Error::aya(format!("pinning {}", path.display()), e))?;
            pinned.push(path);
        }
        Ok(pinned)
    }
}

/// Attaches `hook` with the first variant of its chain that works; when none does, the error
/// gives each variant's reason and the fix their causes suggest.
fn attach_hook(
    ebpf: &mut Ebpf,
    spec: &str,
    hook: &Hook,
    raw: &mut RawBtf,
) -> Result<(Chosen, Option<FdLink>)> {
    let (mut fell_back, mut causes) = (Vec::new(), Vec::new());
    for v in hook.chain {
        let tried = if v.needs_btf() && raw.get().is_none() {
            Err(fallback::no_btf(v))
        } else {
            attach(ebpf, v, raw).map_err(|e| fallback::refusal(v, &e))
        };
        match tried {
            Ok((prog_id, link)) => {
                return Ok((Chosen { hook: hook.name, variant: *v, fell_back, prog_id }, link));
            }
            Err((cause, why)) => {
                causes.push(cause);
                fell_back.push((v.kind().to_string(), why));
            }
        }
    }
    let tried: Vec<String> = fell_back.iter().map(|(k, why)| format!("{k}: {why}")).collect();
    Err(Error::Unavailable(format!(
        "{spec}: no way to attach {} works here: {} ({})",
        hook.name,
        fallback::hint(&causes),
        tried.join("; ")
    )))
}

/// The kernel's raw BTF, read when a variant first needs it (`Some(None)`: the kernel has none).
struct RawBtf(Option<Option<BtfIndex>>);

impl RawBtf {
    fn get(&mut self) -> Option<&BtfIndex> {
        self.0
            .get_or_insert_with(|| BtfIndex::vmlinux(&FsRoot::host()).ok().filter(BtfIndex::is_btf))
            .as_ref()
    }
}

/// Loads and attaches one variant (whose BTF, when it needs it, is there); returns the program id and, for bpf-link attachments, the
/// link taken out of the program.
fn attach(ebpf: &mut Ebpf, v: &Variant, raw: &mut RawBtf) -> Result<(u32, Option<FdLink>)> {
    let target = match v {
        Variant::TpBtf { event, .. } => Some((format!("btf_trace_{event}"), KIND_TYPEDEF)),
        Variant::Fentry { func, .. } => Some((func.to_string(), KIND_FUNC)),
        _ => None,
    };
    let btf = match target {
        Some((name, kind)) => Some(
            raw.get()
                .and_then(|index| index.attach_target(&name, kind))
                .ok_or_else(|| Error::Unavailable(format!("the kernel's BTF has no {name}")))?,
        ),
        None => None,
    };
    let name = v.prog();
    let prog =
        ebpf.program_mut(name).ok_or_else(|| Error::Invalid(format!("the object has no program {name}")))?;
    let attached: std::result::Result<Option<FdLink>, ProgramError> = match (v, &btf) {
        (Variant::TpBtf { event, .. }, Some(btf)) => {
            let p: &mut BtfTracePoint = prog.try_into()?;
            p.load(event, btf).and_then(|_| p.attach()).and_then(|id| p.take_link(id)).map(|l| Some(l.into()))
        }
        (Variant::Fentry { func, .. }, Some(btf)) => {
            let p: &mut FEntry = prog.try_into()?;
            p.load(func, btf).and_then(|_| p.attach()).and_then(|id| p.take_link(id)).map(|l| Some(l.into()))
        }
        (Variant::RawTp { event, .. }, _) => {
            let p: &mut RawTracePoint = prog.try_into()?;
            p.load().and_then(|_| p.attach(event)).and_then(|id| p.take_link(id)).map(|l| Some(l.into()))
        }
        (Variant::Tracepoint { category, event, .. }, _) => {
            let p: &mut TracePoint = prog.try_into()?;
            p.load().and_then(|_| p.attach(category, event)).map(|_| None)
        }
        (Variant::Kprobe { func, .. }, _) => {
            let p: &mut KProbe = prog.try_into()?;
            p.load().and_then(|_| p.attach(*func, 0)).map(|_| None)
        }
        (Variant::TpBtf { .. } | Variant::Fentry { .. }, None) => unreachable!("checked by attach_hook"),
    };
    match attached {
        Ok(link) => Ok((prog.info().map_err(|e| Error::aya(name, e))?.id(), link)),
        Err(e) => {
            // Leave nothing half-loaded behind for the next variant.
            let _ = unload(prog);
            Err(rejected(name, e))
        }
    }
}

fn unload(prog: &mut aya::programs::Program) -> std::result::Result<(), ProgramError> {
    macro_rules! un {
        ($($variant:ident),*) => {
            match prog {
                $(aya::programs::Program::$variant(p) => p.unload(),)*
                _ => Ok(()),
            }
        };
    }
    un!(BtfTracePoint, RawTracePoint, TracePoint, FEntry, KProbe)
}

impl From<ProgramError> for Error {
    fn from(e: ProgramError) -> Self {
        Error::aya("program", e)
    }
}

/// A program the kernel has loaded, as `hypermesh ebpf list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ListedProgram {
    /// Kernel id.
    pub id: u32,
    /// Name (up to 15 bytes).
    pub name: String,
    /// `bpf_prog_type` number.
    pub prog_type: u32,
    /// Ours (name starts with [`NAME_PREFIX`]).
    pub ours: bool,
    /// Times run (when `kernel.bpf_stats_enabled`).
    pub run_count: u64,
    /// Total run time in ns (when stats are enabled).
    pub run_time_ns: u64,
}

/// Every program loaded in the kernel now. A program unloaded between the kernel giving its id
/// and our opening it (ENOENT) is skipped, as bpftool does; `context` names the caller's task.
pub(crate) fn loaded_programs(
    context: &'static str,
) -> impl Iterator<Item = Result<aya::programs::ProgramInfo>> {
    aya::programs::loaded_programs().filter_map(move |info| match info {
        Err(ProgramError::SyscallError(e)) if e.io_error.raw_os_error() == Some(libc::ENOENT) => None,
        other => Some(other.map_err(|e| Error::aya(context, e))),
    })
}

/// Every program loaded in the kernel, ours marked.
pub fn list_programs() -> Result<Vec<ListedProgram>> {
    let mut out = Vec::new();
    for info in loaded_programs("listing programs") {
        let info = info?;
        let name = info.name_as_str().unwrap_or("").to_string();
        out.push(ListedProgram {
            id: info.id(),
            ours: name.starts_with(NAME_PREFIX),
            prog_type: info.program_type() as u32,
            run_count: info.run_count(),
            run_time_ns: info.run_time().as_nanos() as u64,
            name,
        });
    }
    Ok(out)
}

/// The pinned links under `BPFFS/hypermesh`, as paths.
pub fn list_pins(bpffs: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(specs) = std::fs::read_dir(bpffs.join(PIN_DIR)) else { return out };
    for spec in specs.flatten() {
        if let Ok(links) = std::fs::read_dir(spec.path()) {
            out.extend(links.flatten().map(|l| l.path()));
        }
    }
    out.sort();
    out
}

/// Removes every pin under `BPFFS/hypermesh`; the programs go away with their last reference.
pub fn unpin_all(bpffs: &Path) -> Result<Vec<PathBuf>> {
    let pins = list_pins(bpffs);
    for p in &pins {
        std::fs::remove_file(p).map_err(|e| Error::io(p, e))?;
    }
    let dir = bpffs.join(PIN_DIR);
    if let Ok(specs) = std::fs::read_dir(&dir) {
        for s in specs.flatten() {
            let _ = std::fs::remove_dir(s.path());
        }
        let _ = std::fs::remove_dir(&dir);
    }
    Ok(pins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_capabilities_give_one_sentence_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proc/self")).unwrap();
        std::fs::write(dir.path().join("proc/self/status"), "CapPrm:\t0\nCapEff:\t0000000000000000\n")
            .unwrap();
        let err = preflight(&FsRoot::new(dir.path()).unwrap()).unwrap_err().to_string();
        assert!(err.contains("CAP_BPF") && err.contains("setcap"), "{err}");
        assert_eq!(err.lines().count(), 1);
    }

    #[test]
    fn forcing_keeps_one_variant_per_hook_or_says_what_is_offered() {
        let spec = crate::programs::runqlat::spec_from(0);
        for kind in ["tp_btf", "raw_tp", "raw_tracepoint", "tracepoint"] {
            let forced = spec.clone().forcing(kind).unwrap();
            assert!(forced.hooks.iter().all(|h| h.chain.len() == 1), "{kind}");
            let want = if kind == "raw_tp" { "raw_tracepoint" } else { kind };
            assert!(forced.hooks.iter().all(|h| h.chain[0].kind() == want), "{kind}");
        }
        let err = spec.forcing("fentry").unwrap_err().to_string();
        assert!(err.contains("runqlat has no fentry variant for sched_wakeup"), "{err}");
        assert!(err.contains("tp_btf, raw_tracepoint, tracepoint"), "{err}");
    }
}

//! Kubernetes node-feature-discovery labels: the `local` source's feature file.
//!
//! nfd-worker reads every file in `/etc/kubernetes/node-feature-discovery/features.d/` (files
//! whose name starts with a dot are ignored, which makes an atomic rename safe); each line is
//! `name=value`, `#` starts a comment. Names carry the `hypermesh.feature.node.kubernetes.io/`
//! prefix: a sub-namespace of `feature.node.kubernetes.io`, which nfd-master accepts without
//! `-extra-label-ns`, and which stays valid when its auto-prefixing of bare names is turned off.
//!
//! Label names (after the prefix) and values follow the Kubernetes label syntax: at most 63
//! characters of `[A-Za-z0-9._-]`, beginning and ending with a letter or digit. Values from the
//! machine (model names) go through [`sanitize`]. A fact that could not be detected gives no
//! label rather than a false one.

#[cfg(native_linux)]
use hypermesh_ebpf::probe::{Probe, Verdict};
use hypermesh_os::HostProfile;
use hypermesh_os::model::{DiskKind, Gpu, GpuKind};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Namespace of every label written.
pub const PREFIX: &str = "hypermesh.feature.node.kubernetes.io/";

/// Where nfd-worker looks for feature files.
pub const DEFAULT_DIR: &str = "/etc/kubernetes/node-feature-discovery/features.d";

/// Name of the feature file in that directory.
pub const FILE_NAME: &str = "hypermesh";

/// Longest label name (after the prefix) or value Kubernetes accepts.
pub const MAX_LEN: usize = 63;

/// One label: `name` without [`PREFIX`], both parts valid by [`is_valid`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    /// Name without the prefix, e.g. `cpu-sockets`.
    pub name: String,
    /// Value, e.g. `2`.
    pub value: String,
}

/// Hooks of the eBPF probe's attach test and the label each one gives.
#[cfg(native_linux)]
const EBPF_HOOK_LABELS: [(&str, &str); 7] = [
    ("kprobe", "ebpf-kprobes"),
    ("fentry", "ebpf-fentry"),
    ("tp_btf", "ebpf-tp-btf"),
    ("raw_tracepoint", "ebpf-raw-tracepoints"),
    ("tracepoint", "ebpf-tracepoints"),
    ("xdp", "ebpf-xdp-generic"),
    ("cgroup", "ebpf-cgroup"),
];

/// eBPF labels from a probe that really attached (`attach: true`): `ebpf-btf`, and per hook
/// whether this agent could attach there (`true`; `false` when the kernel lacks it or policy
/// refused it). Hooks the probe could not decide get no label rather than a guess. Also
/// `ebpf-xdp-native`: whether a physical network device's driver runs XDP itself.
#[cfg(native_linux)]
pub fn ebpf_labels(probe: &Probe) -> Vec<(String, String)> {
    let mut out = vec![("ebpf-btf".to_string(), probe.btf.vmlinux.to_string())];
    for (hook, label) in EBPF_HOOK_LABELS {
        let value = match probe.attach.get(hook).map(|f| f.verdict) {
            Some(Verdict::Supported) => "true",
            Some(Verdict::Absent | Verdict::Denied) => "false",
            Some(Verdict::Unknown) | None => continue,
        };
        out.push((label.to_string(), value.to_string()));
    }
    if let Some(native) = probe.xdp_native() {
        out.push(("ebpf-xdp-native".to_string(), native.to_string()));
    }
    out
}

/// Labels for a profile, plus `extra` ones computed elsewhere (the eBPF probe's `ebpf-btf`,
/// `ebpf-kprobes`... from [`ebpf_labels`]), sanitised the same way. A label whose name or value
/// sanitises to nothing is dropped.
pub fn labels(profile: &HostProfile, extra: &[(String, String)]) -> Vec<Label> {
    let mut raw: Vec<(String, String)> = Vec::new();
    let mut push = |name: &str, value: String| raw.push((name.to_string(), value));
    if let Some(cpu) = &profile.cpu {
        push("cpu-sockets", cpu.packages.to_string());
        push("cpu-cores", cpu.cores.to_string());
        push("cpu-logical-cpus", cpu.logical_cpus.to_string());
        if let Some(vendor) = &cpu.vendor {
            push("cpu-vendor", vendor.clone());
        }
        if let Some(model) = &cpu.model {
            push("cpu-model", model.clone());
        }
        if let Some(family) = cpu.family {
            push("cpu-family", family.to_string());
        }
        if !cpu.kinds.is_empty() {
            push("cpu-hybrid", (cpu.kinds.len() > 1).to_string());
        }
        if cpu.kinds.len() > 1 {
            for kind in &cpu.kinds {
                push(&format!("cpu-{}-cores", kind.name), kind.cores.to_string());
            }
        }
    }
    if !profile.errors.iter().any(|e| e.section == hypermesh_os::Section::Gpus) {
        gpu_labels(&profile.gpus, &mut push);
    }
    if let Some(storage) = &profile.storage {
        push("storage-nvme", storage.block_devices.iter().any(|d| d.kind == DiskKind::Nvme).to_string());
    }
    raw.extend(extra.iter().cloned());
    let mut out: Vec<Label> = Vec::new();
    for (name, value) in raw {
        let (name, value) = (sanitize(&name), sanitize(&value));
        if !name.is_empty() && !value.is_empty() && !out.iter().any(|l| l.name == name) {
            out.push(Label { name, value });
        }
    }
    out
}

/// GPU labels over the physical GPUs (virtual display adapters are not schedulable devices):
/// count always; vendor and model when all GPUs share them; memory as the smallest amount any
/// one GPU has, in MiB (what a pod can count on, as NVIDIA's GPU feature discovery reports it).
fn gpu_labels(gpus: &[Gpu], push: &mut impl FnMut(&str, String)) {
    let physical: Vec<&Gpu> = gpus.iter().filter(|g| g.kind != Some(GpuKind::Virtual)).collect();
    push("gpu-count", physical.len().to_string());
    let shared = |field: fn(&Gpu) -> Option<&String>| {
        let first = field(physical.first()?)?;
        physical.iter().all(|g| field(g) == Some(first)).then(|| first.clone())
    };
    if let Some(vendor) = shared(|g| g.vendor.as_ref()) {
        push("gpu-vendor", vendor);
    }
    if let Some(model) = shared(|g| g.model.as_ref()) {
        push("gpu-model", model);
    }
    let memory: Option<Vec<u64>> = physical.iter().map(|g| g.memory_total_bytes).collect();
    if let Some(min) = memory.and_then(|m| m.into_iter().min()) {
        push("gpu-memory-mib", (min >> 20).to_string());
    }
}

/// Turns any text into a valid label name or value: characters outside `[A-Za-z0-9._-]` become
/// `-`, runs of `-` shrink to one, the result is cut to 63 characters and trimmed so that it
/// begins and ends with a letter or digit. May return an empty string.
pub fn sanitize(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_LEN));
    for c in text.chars() {
        let c = if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    let trimmed = out.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    let cut = &trimmed[..trimmed.len().min(MAX_LEN)];
    cut.trim_end_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

/// True when `text` is a valid Kubernetes label name part or non-empty value.
pub fn is_valid(text: &str) -> bool {
    let bytes = text.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// The feature file's text.
pub fn render(labels: &[Label]) -> String {
    let mut out = String::from("# Written by `hypermesh nfd`; regenerated on each run.\n");
    for label in labels {
        out.push_str(&format!("{PREFIX}{}={}\n", label.name, label.value));
    }
    out
}

/// Writes the feature file into `dir` atomically (a dot-file nfd-worker ignores, then a
/// rename) and returns its path.
pub fn write(dir: &Path, labels: &[Label]) -> std::io::Result<PathBuf> {
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!(".{FILE_NAME}.tmp"));
    let mut file = std::fs::File::create(&tmp)?;
    file.write_all(render(labels).as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypermesh_os::model::{BlockDevice, CoreKind, Cpu, Storage};
    use proptest::prelude::*;

    fn gpu(model: &str, memory: Option<u64>, kind: GpuKind) -> Gpu {
        Gpu {
            pci_address: "0000:01:00.0".into(),
            vendor: Some("NVIDIA Corporation".into()),
            model: Some(model.into()),
            kind: Some(kind),
            driver: Some("nvidia".into()),
            memory_total_bytes: memory,
            memory_used_bytes: None,
            utilization_percent: None,
            temperature_celsius: None,
            uuid: None,
            ..Default::default()
        }
    }

    fn get<'a>(labels: &'a [Label], name: &str) -> Option<&'a str> {
        labels.iter().find(|l| l.name == name).map(|l| l.value.as_str())
    }

    #[test]
    fn sanitizes_model_names() {
        assert_eq!(
            sanitize("Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"),
            "Intel-R-Xeon-R-Gold-6338-CPU-2.00GHz"
        );
        assert_eq!(sanitize("  NVIDIA H100 80GB HBM3 "), "NVIDIA-H100-80GB-HBM3");
        assert_eq!(sanitize("--__.."), "");
        assert_eq!(sanitize("Ünïcode™ CPU"), "n-code-CPU");
        assert_eq!(sanitize(&"x".repeat(100)).len(), 63);
        assert_eq!(sanitize(&format!("{}-{}", "a".repeat(62), "b")), "a".repeat(62));
    }

    #[test]
    fn hybrid_host_labels() {
        let cpu = Cpu {
            vendor: Some("GenuineIntel".into()),
            model: Some("13th Gen Intel(R) Core(TM) i7-1360P".into()),
            family: Some(6),
            packages: 1,
            cores: 12,
            logical_cpus: 16,
            kinds: vec![
                CoreKind { name: "performance".into(), cores: 4, ..Default::default() },
                CoreKind { name: "efficiency".into(), cores: 8, ..Default::default() },
            ],
            ..Default::default()
        };
        let storage = Storage {
            block_devices: vec![BlockDevice {
                name: "nvme0n1".into(),
                kind: DiskKind::Nvme,
                ..Default::default()
            }],
            ..Default::default()
        };
        let profile = HostProfile {
            cpu: Some(cpu),
            storage: Some(storage),
            gpus: vec![gpu("NVIDIA H100 80GB HBM3", Some(80 << 30), GpuKind::Discrete), {
                let mut g = gpu("NVIDIA H100 80GB HBM3", Some(81 << 30), GpuKind::Discrete);
                g.pci_address = "0000:02:00.0".into();
                g
            }],
            ..Default::default()
        };
        let labels = labels(&profile, &[("ebpf-btf".into(), "true".into())]);
        assert_eq!(get(&labels, "cpu-sockets"), Some("1"));
        assert_eq!(get(&labels, "cpu-cores"), Some("12"));
        assert_eq!(get(&labels, "cpu-model"), Some("13th-Gen-Intel-R-Core-TM-i7-1360P"));
        assert_eq!(get(&labels, "cpu-family"), Some("6"));
        assert_eq!(get(&labels, "cpu-hybrid"), Some("true"));
        assert_eq!(get(&labels, "cpu-performance-cores"), Some("4"));
        assert_eq!(get(&labels, "cpu-efficiency-cores"), Some("8"));
        assert_eq!(get(&labels, "gpu-count"), Some("2"));
        assert_eq!(get(&labels, "gpu-vendor"), Some("NVIDIA-Corporation"));
        assert_eq!(get(&labels, "gpu-model"), Some("NVIDIA-H100-80GB-HBM3"));
        assert_eq!(get(&labels, "gpu-memory-mib"), Some("81920"));
        assert_eq!(get(&labels, "storage-nvme"), Some("true"));
        assert_eq!(get(&labels, "ebpf-btf"), Some("true"));
        assert!(labels.iter().all(|l| is_valid(&l.name) && is_valid(&l.value)));
    }

    #[test]
    fn unknown_sections_give_no_labels_and_virtual_gpus_do_not_count() {
        let profile =
            HostProfile { gpus: vec![gpu("virtio-gpu", None, GpuKind::Virtual)], ..Default::default() };
        let labels = labels(&profile, &[]);
        assert_eq!(labels, vec![Label { name: "gpu-count".into(), value: "0".into() }]);
        let failed = HostProfile {
            errors: vec![hypermesh_os::SectionError {
                section: hypermesh_os::Section::Gpus,
                path: None,
                message: "no access".into(),
            }],
            ..Default::default()
        };
        assert!(super::labels(&failed, &[]).is_empty());
    }

    #[test]
    fn mixed_gpus_give_count_without_model() {
        let mut other = gpu("NVIDIA A100", None, GpuKind::Discrete);
        other.pci_address = "0000:02:00.0".into();
        let profile = HostProfile {
            gpus: vec![gpu("NVIDIA H100", Some(80 << 30), GpuKind::Discrete), other],
            ..Default::default()
        };
        let labels = labels(&profile, &[]);
        assert_eq!(get(&labels, "gpu-count"), Some("2"));
        assert_eq!(get(&labels, "gpu-vendor"), Some("NVIDIA-Corporation"));
        assert_eq!(get(&labels, "gpu-model"), None);
        assert_eq!(get(&labels, "gpu-memory-mib"), None, "one GPU's memory is unknown");
    }

    #[test]
    fn writes_file_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let labels = vec![Label { name: "cpu-sockets".into(), value: "2".into() }];
        let path = write(dir.path(), &labels).unwrap();
        assert_eq!(path, dir.path().join("hypermesh"));
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with("\nhypermesh.feature.node.kubernetes.io/cpu-sockets=2\n"), "{text}");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["hypermesh"], "no temporary file left");
    }

    proptest! {
        #[test]
        fn sanitized_text_is_a_valid_label_or_empty(text in any::<String>()) {
            let s = sanitize(&text);
            prop_assert!(s.is_empty() || is_valid(&s), "{s:?}");
            prop_assert_eq!(sanitize(&s), s.clone(), "idempotent");
        }

        #[test]
        fn valid_labels_are_kept_as_they_are(text in "[A-Za-z0-9]([A-Za-z0-9._]|-[A-Za-z0-9._]){0,30}[A-Za-z0-9]") {
            prop_assume!(text.len() <= MAX_LEN);
            prop_assert!(is_valid(&text));
            prop_assert_eq!(sanitize(&text), text);
        }

        #[test]
        fn printable_ascii_keeps_its_letters_and_digits(text in "[ -~]{0,40}") {
            let kept: String = text.chars().filter(char::is_ascii_alphanumeric).collect();
            let out: String = sanitize(&text).chars().filter(char::is_ascii_alphanumeric).collect();
            prop_assert_eq!(out, kept);
        }
    }
}

//! A host profile: every section detected independently, failures reported per section.

use crate::error::Error;
use crate::model::{Cpu, Gpu, Memory, Network, Numa, Platform, Storage};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One independently detected part of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// OS, kernel, virtualization, container.
    Platform,
    /// Processors, topology, caches, frequencies.
    Cpu,
    /// NUMA nodes.
    Numa,
    /// System memory.
    Memory,
    /// Block devices and filesystems.
    Storage,
    /// Network interfaces.
    Network,
    /// GPUs.
    Gpus,
}

impl Section {
    /// Every section, in report order.
    pub const ALL: [Section; 7] = [
        Section::Platform,
        Section::Cpu,
        Section::Numa,
        Section::Memory,
        Section::Storage,
        Section::Network,
        Section::Gpus,
    ];

    /// Lower-case name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Section::Platform => "platform",
            Section::Cpu => "cpu",
            Section::Numa => "numa",
            Section::Memory => "memory",
            Section::Storage => "storage",
            Section::Network => "network",
            Section::Gpus => "gpus",
        }
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Section {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = if s == "gpu" { "gpus".to_string() } else { s };
        Section::ALL.into_iter().find(|sec| sec.name() == s).ok_or_else(|| {
            let names: Vec<_> = Section::ALL.iter().map(|s| s.name()).collect();
            format!("unknown section {s:?}; expected one of {}", names.join(", "))
        })
    }
}

/// A problem met while detecting a section: the whole section failed, or a part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionError {
    /// Section the problem belongs to.
    pub section: Section,
    /// File or directory concerned, when there is one.
    pub path: Option<String>,
    /// What went wrong.
    pub message: String,
}

impl SectionError {
    /// Converts an [`Error`] met in `section`.
    pub fn new(section: Section, error: &Error) -> Self {
        SectionError {
            section,
            path: error.path().map(|p| p.display().to_string()),
            message: error.message(),
        }
    }
}

impl fmt::Display for SectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}: {}", self.section, p, self.message),
            None => write!(f, "{}: {}", self.section, self.message),
        }
    }
}

/// Everything known about a host. A section that failed, or was not asked for, is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostProfile {
    /// Backend that produced the profile (`linux`, `portable`).
    pub backend: String,
    /// OS and environment.
    pub platform: Option<Platform>,
    /// Processors.
    pub cpu: Option<Cpu>,
    /// NUMA topology.
    pub numa: Option<Numa>,
    /// System memory.
    pub memory: Option<Memory>,
    /// Block devices and filesystems.
    pub storage: Option<Storage>,
    /// Network interfaces.
    pub network: Option<Network>,
    /// GPUs (empty on a headless host).
    pub gpus: Vec<Gpu>,
    /// Problems met, per section.
    pub errors: Vec<SectionError>,
}

/// Non-fatal problems collected while a section is detected (one disk unreadable, one mount
/// timed out): the section still reports what it could.
pub type Problems = Vec<Error>;

/// A source of host facts: the Linux native backend or the portable one.
pub trait Backend: Send + Sync {
    /// Short name, reported in the profile.
    fn name(&self) -> &'static str;
    /// OS, kernel and environment.
    fn platform(&self, problems: &mut Problems) -> Result<Platform, Error>;
    /// Processors.
    fn cpu(&self, problems: &mut Problems) -> Result<Cpu, Error>;
    /// NUMA topology.
    fn numa(&self, problems: &mut Problems) -> Result<Numa, Error>;
    /// Memory.
    fn memory(&self, problems: &mut Problems) -> Result<Memory, Error>;
    /// Block devices and filesystems.
    fn storage(&self, problems: &mut Problems) -> Result<Storage, Error>;
    /// Network interfaces.
    fn network(&self, problems: &mut Problems) -> Result<Network, Error>;
    /// GPUs.
    fn gpus(&self, problems: &mut Problems) -> Result<Vec<Gpu>, Error>;
}

/// Detects the requested sections (all of them when `sections` is empty), each on its own:
/// a failing section leaves its field `None` and adds an entry to `errors`.
///
/// Storage and network run on a second thread beside the other sections: they wait most on
/// the kernel (statvfs under a deadline, a virtio disk's serial fetched from the device,
/// netlink), the others are plain file reads. Errors stay in section order.
pub fn detect(backend: &dyn Backend, sections: &[Section]) -> HostProfile {
    let wanted = |s: Section| sections.is_empty() || sections.contains(&s);
    let mut profile = HostProfile { backend: backend.name().to_string(), ..Default::default() };
    fn run<T>(
        section: Section,
        errors: &mut Vec<SectionError>,
        f: impl FnOnce(&mut Problems) -> Result<T, Error>,
    ) -> Option<T> {
        let mut problems = Problems::new();
        let result = f(&mut problems);
        errors.extend(problems.iter().map(|e| SectionError::new(section, e)));
        result.map_err(|e| errors.push(SectionError::new(section, &e))).ok()
    }
    let mut errors = Vec::new();
    let mut gpu_errors = Vec::new();
    let devices = std::thread::scope(|s| {
        let devices = (wanted(Section::Storage) || wanted(Section::Network)).then(|| {
            s.spawn(|| {
                let mut errors = Vec::new();
                let storage = wanted(Section::Storage)
                    .then(|| run(Section::Storage, &mut errors, |p| backend.storage(p)))
                    .flatten();
                let network = wanted(Section::Network)
                    .then(|| run(Section::Network, &mut errors, |p| backend.network(p)))
                    .flatten();
                (storage, network, errors)
            })
        });
        if wanted(Section::Platform) {
            profile.platform = run(Section::Platform, &mut errors, |p| backend.platform(p));
        }
        if wanted(Section::Cpu) {
            profile.cpu = run(Section::Cpu, &mut errors, |p| backend.cpu(p));
        }
        if wanted(Section::Numa) {
            profile.numa = run(Section::Numa, &mut errors, |p| backend.numa(p));
        }
        if wanted(Section::Memory) {
            profile.memory = run(Section::Memory, &mut errors, |p| backend.memory(p));
        }
        if wanted(Section::Gpus) {
            profile.gpus = run(Section::Gpus, &mut gpu_errors, |p| backend.gpus(p)).unwrap_or_default();
        }
        devices.map(|h| h.join())
    });
    match devices {
        Some(Ok((storage, network, mut device_errors))) => {
            (profile.storage, profile.network) = (storage, network);
            errors.append(&mut device_errors);
        }
        Some(Err(_)) => {
            let e = Error::Unavailable("detection stopped unexpectedly (thread panicked)".into());
            for section in [Section::Storage, Section::Network].into_iter().filter(|s| wanted(*s)) {
                errors.push(SectionError::new(section, &e));
            }
        }
        None => {}
    }
    errors.append(&mut gpu_errors);
    profile.errors = errors;
    profile
}

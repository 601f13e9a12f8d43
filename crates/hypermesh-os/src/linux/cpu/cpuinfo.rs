//! `/proc/cpuinfo` for x86, ARM (incl. legacy 32-bit layouts), POWER, s390x, RISC-V, MIPS and
//! LoongArch: the processor identity and the per-CPU lines that sysfs does not have.

use crate::model::Cpu;

/// What `/proc/cpuinfo` says about the processors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CpuInfo {
    /// The processor identity, in the model's own fields: `vendor` (`vendor_id`, or the decoded
    /// ARM implementer, `IBM` for POWER), `model` (`model name`, decoded ARM part, POWER `cpu`,
    /// RISC-V `uarch`...), x86 `family`, `model_id` and `stepping`, `microcode`, and the ISA
    /// `flags` sorted and de-duplicated; the other fields stay at their defaults.
    pub cpu: Cpu,
    /// Per-processor lines.
    pub processors: Vec<ProcessorLines>,
}

/// Lines of one processor block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessorLines {
    /// Logical CPU number.
    pub id: u32,
    /// `cpu MHz` (or POWER `clock`, s390x `cpu MHz dynamic`).
    pub mhz: Option<f64>,
    /// `physical id` (x86, s390x) or `package` (LoongArch).
    pub package: Option<u32>,
    /// `core id` or `core`.
    pub core: Option<u32>,
    /// ARM `CPU implementer` as a number.
    pub arm_implementer: Option<u32>,
    /// ARM `CPU part` as a number.
    pub arm_part: Option<u32>,
}

impl CpuInfo {
    /// Parses the text; unknown lines are ignored, so a truncated or foreign file yields what
    /// could be read (possibly nothing).
    pub fn parse(text: &str) -> Self {
        let mut info = CpuInfo::default();
        let mut first = Fields::default();
        let mut current: Option<ProcessorLines> = None;
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else { continue };
            let (key, value) = (key.trim(), value.trim());
            let starts_block = match key {
                "processor" => value.parse::<u32>().ok(),
                "cpu number" => value.parse::<u32>().ok(),
                _ => None,
            };
            if let Some(id) = starts_block {
                info.processors.extend(current.take());
                current = Some(ProcessorLines { id, ..Default::default() });
                continue;
            }
            first.take(key, value);
            if let Some(p) = current.as_mut() {
                p.take(key, value);
            }
        }
        info.processors.extend(current);
        first.finish(&mut info.cpu);
        info
    }

    /// Lines of one CPU.
    pub fn processor(&self, id: u32) -> Option<&ProcessorLines> {
        self.processors.iter().find(|p| p.id == id)
    }

    /// True when `flag` is among the ISA flags.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.cpu.flags.binary_search_by(|f| f.as_str().cmp(flag)).is_ok()
    }

    /// Architecture implied by the cpuinfo layout (for an alternate root, where uname would
    /// describe this machine instead of the captured one).
    pub fn arch_hint(&self, text_has: impl Fn(&str) -> bool) -> Option<&'static str> {
        let vendor = self.cpu.vendor.as_deref();
        if self.has_flag("lm") && vendor.is_some() {
            Some("x86_64")
        } else if vendor.is_some_and(|v| v.starts_with("Genuine") || v.starts_with("Authentic")) {
            Some("i686")
        } else if text_has("CPU implementer") {
            if self.has_flag("asimd") || self.has_flag("fp") { Some("aarch64") } else { Some("arm") }
        } else if vendor == Some("IBM/S390") {
            Some("s390x")
        } else if text_has("isa\t\t: rv64") || text_has("isa\t: rv64") {
            Some("riscv64")
        } else if text_has("timebase") {
            Some("ppc64")
        } else if text_has("loongarch64") {
            Some("loongarch64")
        } else {
            None
        }
    }
}

impl ProcessorLines {
    fn take(&mut self, key: &str, value: &str) {
        match key {
            "cpu MHz" | "CPU MHz" | "cpu MHz dynamic" => self.mhz = value.parse().ok(),
            "clock" => self.mhz = value.trim_end_matches("MHz").parse().ok(),
            "physical id" | "package" => self.package = value.parse().ok(),
            "core id" | "core" => self.core = value.parse().ok(),
            "CPU implementer" => self.arm_implementer = parse_hex(value),
            "CPU part" => self.arm_part = parse_hex(value),
            _ => {}
        }
    }
}

/// First value seen of each identity key, over the whole file.
#[derive(Default)]
struct Fields {
    vendor: Option<String>,
    model_name: Option<String>,
    legacy_processor: Option<String>,
    cpu_model: Option<String>,
    power_cpu: Option<String>,
    uarch: Option<String>,
    s390_machine: Option<String>,
    family: Option<u32>,
    model_id: Option<u32>,
    stepping: Option<u32>,
    microcode: Option<String>,
    flags: Option<String>,
    riscv_isa: Option<String>,
    implementer: Option<u32>,
    part: Option<u32>,
}

impl Fields {
    fn take(&mut self, key: &str, value: &str) {
        fn set(slot: &mut Option<String>, value: &str) {
            if slot.is_none() && !value.is_empty() {
                *slot = Some(value.to_string());
            }
        }
        match key {
            "vendor_id" | "vendor" => set(&mut self.vendor, value),
            "model name" | "Model Name" => set(&mut self.model_name, value),
            "Processor" => set(&mut self.legacy_processor, value),
            "cpu model" => set(&mut self.cpu_model, value),
            "cpu" => set(&mut self.power_cpu, value),
            "uarch" => set(&mut self.uarch, value),
            "cpu family" if self.family.is_none() => self.family = value.parse().ok(),
            "model" if self.model_id.is_none() => self.model_id = value.parse().ok(),
            "stepping" if self.stepping.is_none() => self.stepping = value.parse().ok(),
            "microcode" => set(&mut self.microcode, value),
            "flags" | "Features" | "features" => set(&mut self.flags, value),
            "isa" => set(&mut self.riscv_isa, value),
            "CPU implementer" if self.implementer.is_none() => self.implementer = parse_hex(value),
            "CPU part" if self.part.is_none() => self.part = parse_hex(value),
            _ if key.starts_with("processor ") && self.s390_machine.is_none() => {
                self.s390_machine = value.rsplit_once("machine =").map(|(_, m)| m.trim().to_string());
            }
            _ => {}
        }
    }

    fn finish(self, cpu: &mut Cpu) {
        let arm_vendor =
            self.implementer.map(|i| arm_implementer_name(i).map_or(format!("0x{i:02x}"), str::to_string));
        let arm_model = match (self.implementer, self.part) {
            (Some(i), Some(p)) => arm_part_name(i, p).map(str::to_string),
            _ => None,
        };
        let is_power = self.power_cpu.as_deref().is_some_and(|c| c.starts_with("POWER"));
        cpu.vendor = self.vendor.or(arm_vendor).or_else(|| is_power.then(|| "IBM".to_string()));
        cpu.model = arm_model
            .or(self.model_name)
            .or(self.legacy_processor)
            .or(self.cpu_model)
            .or(self.power_cpu)
            .or(self.uarch)
            .or(self.s390_machine.map(|m| format!("IBM machine type {m}")));
        cpu.family = self.family;
        cpu.model_id = self.model_id;
        cpu.stepping = self.stepping;
        cpu.microcode = self.microcode;
        let mut flags: Vec<String> = match (self.flags, self.riscv_isa) {
            (Some(f), _) => f.split_whitespace().map(str::to_string).collect(),
            (None, Some(isa)) => {
                isa.split(['_', ' ']).filter(|s| !s.is_empty()).map(str::to_string).collect()
            }
            (None, None) => Vec::new(),
        };
        flags.sort_unstable();
        flags.dedup();
        cpu.flags = flags;
    }
}

fn parse_hex(value: &str) -> Option<u32> {
    u32::from_str_radix(value.trim_start_matches("0x").trim_start_matches("0X"), 16).ok()
}

/// Name of an ARM implementer code (MIDR bits 31:24).
pub fn arm_implementer_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0x41 => "ARM",
        0x42 => "Broadcom",
        0x43 => "Cavium",
        0x46 => "Fujitsu",
        0x48 => "HiSilicon",
        0x4e => "NVIDIA",
        0x50 => "APM",
        0x51 => "Qualcomm",
        0x53 => "Samsung",
        0x56 => "Marvell",
        0x61 => "Apple",
        0x69 => "Intel",
        0x6d => "Microsoft",
        0xc0 => "Ampere",
        _ => return None,
    })
}

/// Name of a common ARM core from implementer and part number (MIDR bits 15:4).
pub fn arm_part_name(implementer: u32, part: u32) -> Option<&'static str> {
    Some(match (implementer, part) {
        (0x41, 0xb36) => "ARM1136",
        (0x41, 0xb76) => "ARM1176",
        (0x41, 0xc07) => "Cortex-A7",
        (0x41, 0xc08) => "Cortex-A8",
        (0x41, 0xc09) => "Cortex-A9",
        (0x41, 0xc0f) => "Cortex-A15",
        (0x41, 0xd01) => "Cortex-A32",
        (0x41, 0xd03) => "Cortex-A53",
        (0x41, 0xd04) => "Cortex-A35",
        (0x41, 0xd05) => "Cortex-A55",
        (0x41, 0xd07) => "Cortex-A57",
        (0x41, 0xd08) => "Cortex-A72",
        (0x41, 0xd09) => "Cortex-A73",
        (0x41, 0xd0a) => "Cortex-A75",
        (0x41, 0xd0b) => "Cortex-A76",
        (0x41, 0xd0c) => "Neoverse-N1",
        (0x41, 0xd0d) => "Cortex-A77",
        (0x41, 0xd40) => "Neoverse-V1",
        (0x41, 0xd41) => "Cortex-A78",
        (0x41, 0xd44) => "Cortex-X1",
        (0x41, 0xd46) => "Cortex-A510",
        (0x41, 0xd47) => "Cortex-A710",
        (0x41, 0xd48) => "Cortex-X2",
        (0x41, 0xd49) => "Neoverse-N2",
        (0x41, 0xd4a) => "Neoverse-E1",
        (0x41, 0xd4d) => "Cortex-A715",
        (0x41, 0xd4e) => "Cortex-X3",
        (0x41, 0xd4f) => "Neoverse-V2",
        (0x41, 0xd80) => "Cortex-A520",
        (0x41, 0xd81) => "Cortex-A720",
        (0x41, 0xd82) => "Cortex-X4",
        (0x41, 0xd84) => "Neoverse-V3",
        (0x41, 0xd8e) => "Neoverse-N3",
        (0x48, 0xd01) => "TaiShan v110",
        (0x4e, 0x004) => "Carmel",
        (0x51, 0x800) => "Kryo 2xx Gold",
        (0x51, 0x801) => "Kryo 2xx Silver",
        (0x51, 0x802) => "Kryo 3xx Gold",
        (0x51, 0x803) => "Kryo 3xx Silver",
        (0x51, 0x804) => "Kryo 4xx Gold",
        (0x51, 0x805) => "Kryo 4xx Silver",
        (0x61, 0x022) => "Apple M1 Icestorm",
        (0x61, 0x023) => "Apple M1 Firestorm",
        (0xc0, 0xac3) => "Ampere-1",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const X86: &str = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 85\n\
        model name\t: Intel(R) Xeon(R)\nstepping\t: 7\nmicrocode\t: 0x1\ncpu MHz\t\t: 2499.998\n\
        physical id\t: 0\ncore id\t\t: 0\nflags\t\t: fpu lm hypervisor avx\n\n\
        processor\t: 1\nvendor_id\t: GenuineIntel\ncpu MHz\t\t: 2400.5\nphysical id\t: 0\ncore id\t\t: 1\n";

    #[test]
    fn x86_identity_and_per_cpu_lines() {
        let c = CpuInfo::parse(X86);
        assert_eq!(c.cpu.vendor.as_deref(), Some("GenuineIntel"));
        assert_eq!(c.cpu.model.as_deref(), Some("Intel(R) Xeon(R)"));
        assert_eq!((c.cpu.family, c.cpu.model_id, c.cpu.stepping), (Some(6), Some(85), Some(7)));
        assert_eq!(c.cpu.microcode.as_deref(), Some("0x1"));
        assert_eq!(c.cpu.flags, ["avx", "fpu", "hypervisor", "lm"]);
        assert!(c.has_flag("hypervisor") && !c.has_flag("hyper"));
        assert_eq!(c.processors.len(), 2);
        assert_eq!(c.processor(1).unwrap().mhz, Some(2400.5));
        assert_eq!(c.processor(1).unwrap().core, Some(1));
        assert_eq!(c.arch_hint(|s| X86.contains(s)), Some("x86_64"));
    }

    #[test]
    fn arm_part_decoding_and_legacy_layout() {
        let text = "Processor : ARMv7 Processor rev 5 (v7l)\nprocessor : 0\nBogoMIPS : 2400.00\n\n\
            processor : 1\n\nFeatures : swp half neon\nCPU implementer : 0x41\nCPU part : 0xc07\n";
        let c = CpuInfo::parse(text);
        assert_eq!(c.cpu.vendor.as_deref(), Some("ARM"));
        assert_eq!(c.cpu.model.as_deref(), Some("Cortex-A7"));
        assert_eq!(c.cpu.flags, ["half", "neon", "swp"]);
        assert_eq!(c.processors.iter().map(|p| p.id).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(c.arch_hint(|s| text.contains(s)), Some("arm"));
        let unknown =
            CpuInfo::parse("processor : 0\nCPU implementer : 0x99\nCPU part : 0x001\nmodel name : X\n");
        assert_eq!(unknown.cpu.vendor.as_deref(), Some("0x99"));
        assert_eq!(unknown.cpu.model.as_deref(), Some("X"));
    }

    #[test]
    fn power_s390x_riscv() {
        let p = CpuInfo::parse("processor\t: 0\ncpu\t\t: POWER7 (architected)\nclock\t\t: 3000.000000MHz\n");
        assert_eq!(p.cpu.vendor.as_deref(), Some("IBM"));
        assert_eq!(p.processors[0].mhz, Some(3000.0));
        let s = CpuInfo::parse(
            "vendor_id       : IBM/S390\nfeatures\t: esan3 zarch\nprocessor 0: version = FF,  machine = 2964\n\n\
             cpu number      : 0\nphysical id     : 2\ncore id         : 0\ncpu MHz dynamic : 5000\n",
        );
        assert_eq!(s.cpu.model.as_deref(), Some("IBM machine type 2964"));
        assert_eq!(s.processors[0].package, Some(2));
        assert_eq!(s.processors[0].mhz, Some(5000.0));
        let r = CpuInfo::parse("processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc_zicsr\n");
        assert_eq!(r.cpu.flags, ["rv64imafdc", "zicsr"]);
    }

    #[test]
    fn empty_truncated_and_garbage_give_nothing_not_a_panic() {
        assert_eq!(CpuInfo::parse(""), CpuInfo::default());
        let t = CpuInfo::parse("processor\t: 0\nvendor_id\t: Genu");
        assert_eq!(t.processors.len(), 1);
        let g = CpuInfo::parse("\u{0}\u{ff}:::\nprocessor: x\ncpu MHz: NaNx\nCPU part: zz\n");
        assert!(g.processors.is_empty());
    }
}

//! Generated /proc and /sys trees of machines this host is not: multi-socket SMT servers,
//! hybrid P/E-core laptops, ARM big.LITTLE boards, 4096-CPU systems. Used by tests, benches and
//! robustness checks; writes only the files the kernel would have, in the kernel's formats.

use hypermesh_os::cpulist::format_list;
use std::io;
use std::path::{Path, PathBuf};

/// A directory tree being built: files and links created with their parents.
#[derive(Debug)]
pub struct Tree {
    dir: PathBuf,
}

impl Tree {
    /// A tree rooted at `dir` (created when missing).
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Tree { dir })
    }

    /// The root directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes a file at a kernel path (`/proc/meminfo`), creating its directories.
    pub fn file(&self, path: &str, content: impl AsRef<[u8]>) -> io::Result<&Self> {
        let full = self.dir.join(path.trim_start_matches('/'));
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(full, content)?;
        Ok(self)
    }

    /// Creates a directory at a kernel path.
    pub fn dir(&self, path: &str) -> io::Result<&Self> {
        std::fs::create_dir_all(self.dir.join(path.trim_start_matches('/')))?;
        Ok(self)
    }

    /// Creates a symbolic link at a kernel path pointing to `target` (kept as given).
    pub fn link(&self, path: &str, target: &str) -> io::Result<&Self> {
        let full = self.dir.join(path.trim_start_matches('/'));
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::os::unix::fs::symlink(target, full)?;
        Ok(self)
    }

    /// `count` 1 GiB virtio disks `vd0`, `vd1`, ... with one partition each, linked from
    /// `/sys/block` as the kernel does.
    pub fn virtio_disks(&self, count: usize) -> io::Result<&Self> {
        for i in 0..count {
            let name = format!("vd{i}");
            let dev = format!("/sys/devices/pci0000:00/0000:00:{:02x}.0/virtio{i}/block/{name}", i % 32);
            self.file(&format!("{dev}/size"), "2097152\n")?;
            self.file(&format!("{dev}/queue/rotational"), "0\n")?;
            self.file(&format!("{dev}/queue/logical_block_size"), "512\n")?;
            self.file(&format!("{dev}/removable"), "0\n")?;
            self.file(&format!("{dev}/{name}p1/start"), "2048\n")?;
            self.file(&format!("{dev}/{name}p1/size"), "2093056\n")?;
            self.link(&format!("/sys/block/{name}"), &format!("..{}", dev.trim_start_matches("/sys")))?;
        }
        Ok(self)
    }

    /// `count` 25 Gbit/s Ethernet interfaces `eth0`, `eth1`, ... on PCI functions, linked from
    /// `/sys/class/net`.
    pub fn ethernet_interfaces(&self, count: usize) -> io::Result<&Self> {
        for i in 0..count {
            let name = format!("eth{i}");
            let dev = format!("/sys/devices/pci0000:00/0000:01:00.{i}/net/{name}");
            self.file(&format!("{dev}/uevent"), format!("INTERFACE={name}\nIFINDEX={}\n", i + 2))?;
            self.file(&format!("{dev}/type"), "1\n")?;
            self.file(&format!("{dev}/address"), format!("02:00:00:00:{:02x}:{:02x}\n", i >> 8, i & 0xff))?;
            self.file(&format!("{dev}/mtu"), "1500\n")?;
            self.file(&format!("{dev}/operstate"), "up\n")?;
            self.file(&format!("{dev}/speed"), "25000\n")?;
            self.link(
                &format!("/sys/class/net/{name}"),
                &format!("../..{}", dev.trim_start_matches("/sys")),
            )?;
        }
        Ok(self)
    }
}

/// One logical CPU of a generated machine.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuSpec {
    /// CPU number.
    pub id: u32,
    /// `physical_package_id` (-1 allowed).
    pub package: i64,
    /// `core_id`.
    pub core: u32,
    /// `cluster_id`.
    pub cluster: u32,
    /// Online or not (offline CPUs have no topology, cpufreq or cpuinfo entry).
    pub online: bool,
    /// `cpuinfo_max_freq` in kHz; `None`: no cpufreq.
    pub max_khz: Option<u64>,
    /// ARM `CPU part`; `None` on x86.
    pub arm_part: Option<u32>,
    /// ARM `cpu_capacity`.
    pub capacity: Option<u32>,
    /// NUMA node.
    pub node: u32,
}

/// A generated machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// Logical CPUs.
    pub cpus: Vec<CpuSpec>,
    /// NUMA nodes with memory in kB (nodes without CPUs are memory-only).
    pub nodes: Vec<(u32, u64)>,
    /// Intel hybrid PMU CPU lists (`cpu_core`, `cpu_atom`).
    pub hybrid: Option<(Vec<u32>, Vec<u32>)>,
    /// System memory in kB.
    pub mem_kb: u64,
}

impl Machine {
    /// An x86 server: `packages` × `cores` × `threads`, numbered as Linux does (all first
    /// threads, then all second threads), one NUMA node per package, 3 GHz.
    pub fn x86(packages: u32, cores: u32, threads: u32) -> Self {
        let total = packages * cores;
        let mut cpus = Vec::with_capacity((total * threads) as usize);
        for t in 0..threads {
            for p in 0..packages {
                for c in 0..cores {
                    cpus.push(CpuSpec {
                        id: t * total + p * cores + c,
                        package: p as i64,
                        core: c,
                        cluster: c,
                        online: true,
                        max_khz: Some(3_000_000),
                        arm_part: None,
                        capacity: None,
                        node: p,
                    });
                }
            }
        }
        cpus.sort_by_key(|c| c.id);
        Machine {
            cpus,
            nodes: (0..packages).map(|p| (p, 16 << 20)).collect(),
            hybrid: None,
            mem_kb: 16 << 20,
        }
    }

    /// Sets a CPU offline.
    pub fn offline(mut self, id: u32) -> Self {
        if let Some(c) = self.cpus.iter_mut().find(|c| c.id == id) {
            c.online = false;
        }
        self
    }

    fn ids(&self, f: impl Fn(&CpuSpec) -> bool) -> String {
        format_list(&self.cpus.iter().filter(|c| f(c)).map(|c| c.id).collect::<Vec<_>>())
    }

    /// Writes the machine's /proc and /sys into `tree`.
    pub fn write(&self, tree: &Tree) -> io::Result<()> {
        let sys = "/sys/devices/system/cpu";
        let all = self.ids(|_| true);
        tree.file(&format!("{sys}/online"), format!("{}\n", self.ids(|c| c.online)))?;
        tree.file(&format!("{sys}/present"), format!("{all}\n"))?;
        tree.file(&format!("{sys}/possible"), format!("{all}\n"))?;
        tree.file(&format!("{sys}/offline"), format!("{}\n", self.ids(|c| !c.online)))?;
        tree.file(&format!("{sys}/isolated"), "\n")?;
        tree.dir(&format!("{sys}/cpufreq"))?;
        let mut cpuinfo = String::new();
        for c in self.cpus.iter().filter(|c| c.online) {
            let dir = format!("{sys}/cpu{}", c.id);
            let core = self.ids(|o| o.online && o.package == c.package && o.core == c.core);
            let package = self.ids(|o| o.online && o.package == c.package);
            let cluster = self.ids(|o| o.online && o.package == c.package && o.cluster == c.cluster);
            let t = format!("{dir}/topology");
            tree.file(&format!("{t}/core_cpus_list"), format!("{core}\n"))?;
            tree.file(&format!("{t}/thread_siblings_list"), format!("{core}\n"))?;
            tree.file(&format!("{t}/core_id"), format!("{}\n", c.core))?;
            tree.file(&format!("{t}/physical_package_id"), format!("{}\n", c.package))?;
            tree.file(&format!("{t}/package_cpus_list"), format!("{package}\n"))?;
            tree.file(&format!("{t}/core_siblings_list"), format!("{package}\n"))?;
            tree.file(&format!("{t}/cluster_id"), format!("{}\n", c.cluster))?;
            tree.file(&format!("{t}/cluster_cpus_list"), format!("{cluster}\n"))?;
            for (i, (level, kind, size, shared)) in [
                (1, "Data", "48K", &core),
                (1, "Instruction", "32K", &core),
                (2, "Unified", "2048K", &core),
                (3, "Unified", "32768K", &package),
            ]
            .into_iter()
            .enumerate()
            {
                let d = format!("{dir}/cache/index{i}");
                tree.file(&format!("{d}/level"), format!("{level}\n"))?;
                tree.file(&format!("{d}/type"), format!("{kind}\n"))?;
                tree.file(&format!("{d}/size"), format!("{size}\n"))?;
                tree.file(&format!("{d}/ways_of_associativity"), "12\n")?;
                tree.file(&format!("{d}/coherency_line_size"), "64\n")?;
                tree.file(&format!("{d}/shared_cpu_list"), format!("{shared}\n"))?;
            }
            if let Some(max) = c.max_khz {
                let p = format!("{sys}/cpufreq/policy{}", c.id);
                tree.file(&format!("{p}/related_cpus"), format!("{}\n", c.id))?;
                tree.file(&format!("{p}/cpuinfo_min_freq"), "400000\n")?;
                tree.file(&format!("{p}/cpuinfo_max_freq"), format!("{max}\n"))?;
                tree.file(&format!("{p}/scaling_cur_freq"), format!("{}\n", max / 2))?;
            }
            if let Some(cap) = c.capacity {
                tree.file(&format!("{dir}/cpu_capacity"), format!("{cap}\n"))?;
            }
            cpuinfo.push_str(&self.cpuinfo_block(c));
        }
        tree.file("/proc/cpuinfo", cpuinfo)?;
        if let Some((p, e)) = &self.hybrid {
            tree.file("/sys/devices/cpu_core/cpus", format!("{}\n", format_list(p)))?;
            tree.file("/sys/devices/cpu_atom/cpus", format!("{}\n", format_list(e)))?;
        }
        self.write_memory(tree)
    }

    fn cpuinfo_block(&self, c: &CpuSpec) -> String {
        let mhz = c.max_khz.map_or(1000.0, |k| k as f64 / 2000.0);
        match c.arm_part {
            Some(part) => format!(
                "processor\t: {}\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd evtstrm aes crc32 atomics\n\
                 CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0x{part:03x}\n\
                 CPU revision\t: 0\n\n",
                c.id
            ),
            None => {
                let hybrid = if self.hybrid.is_some() { " hybrid_cpu" } else { "" };
                let siblings = self.cpus.iter().filter(|o| o.online && o.package == c.package).count();
                format!(
                    "processor\t: {}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n\
                     model name\t: Synthetic Xeon\nstepping\t: 8\nmicrocode\t: 0x2b000590\ncpu MHz\t\t: {mhz:.3}\n\
                     physical id\t: {}\nsiblings\t: {siblings}\ncore id\t\t: {}\n\
                     flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep lm avx avx2 avx512f ht{hybrid}\n\n",
                    c.id, c.package, c.core
                )
            }
        }
    }

    fn write_memory(&self, tree: &Tree) -> io::Result<()> {
        tree.file(
            "/proc/meminfo",
            format!(
                "MemTotal:       {} kB\nMemFree:        {} kB\nMemAvailable:   {} kB\nBuffers:        1024 kB\n\
                 Cached:         4096 kB\nSwapTotal:      0 kB\nSwapFree:       0 kB\nHugePages_Total:       0\n\
                 HugePages_Free:        0\nHugepagesize:       2048 kB\n",
                self.mem_kb,
                self.mem_kb / 2,
                self.mem_kb * 3 / 4
            ),
        )?;
        let node_dir = "/sys/devices/system/node";
        let ids: Vec<u32> = self.nodes.iter().map(|n| n.0).collect();
        tree.file(&format!("{node_dir}/online"), format!("{}\n", format_list(&ids)))?;
        for &(id, kb) in &self.nodes {
            let d = format!("{node_dir}/node{id}");
            let cpus = self.ids(|c| c.online && c.node == id);
            tree.file(&format!("{d}/cpulist"), format!("{cpus}\n"))?;
            tree.file(
                &format!("{d}/meminfo"),
                format!("Node {id} MemTotal:       {kb} kB\nNode {id} MemFree:        {} kB\n", kb / 2),
            )?;
            let dist: Vec<String> =
                ids.iter().map(|&o| if o == id { "10" } else { "21" }.to_string()).collect();
            tree.file(&format!("{d}/distance"), format!("{}\n", dist.join(" ")))?;
            tree.file(&format!("{d}/hugepages/hugepages-2048kB/nr_hugepages"), "0\n")?;
            tree.file(&format!("{d}/hugepages/hugepages-2048kB/free_hugepages"), "0\n")?;
        }
        Ok(())
    }
}

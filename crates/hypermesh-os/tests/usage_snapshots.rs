//! Two hand-made snapshots of the counter files → exact rates, including resets and wraps, a
//! CPU going offline, a new disk, a new CPU, missing PSI, and cgroup v1/v2 limits.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::usage::cgroup::CgroupVersion;
use hypermesh_os::usage::diskstats::DiskKind;
use hypermesh_os::usage::{Rates, Sample, Sampler};
use std::path::Path;
use std::time::Duration;

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const NET_HEADER: &str = "Inter-|   Receive                                                |  Transmit\n \
face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n";

fn first(dir: &Path) {
    write(
        dir,
        "proc/stat",
        "cpu  100 0 100 800 0 0 0 0 0 0\ncpu0 50 0 50 400 0 0 0 0 0 0\ncpu1 50 0 50 400 0 0 0 0 0 0\nintr 500 1 2\nctxt 1000\nprocs_running 2\nprocs_blocked 1\n",
    );
    write(dir, "proc/loadavg", "1.50 0.75 0.25 3/100 42\n");
    write(dir, "proc/pressure/cpu", "some avg10=1.00 avg60=2.00 avg300=3.00 total=1000000\n");
    write(
        dir,
        "proc/pressure/io",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=10\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5\n",
    );
    write(
        dir,
        "proc/meminfo",
        "MemTotal: 1000000 kB\nMemFree: 100000 kB\nMemAvailable: 600000 kB\nCached: 200000 kB\nSwapTotal: 1000 kB\nSwapFree: 1000 kB\n",
    );
    write(dir, "proc/vmstat", "pgpgin 10\npgpgout 0\npswpin 5\npswpout 0\npgfault 100\npgmajfault 1\n");
    write(
        dir,
        "proc/diskstats",
        "   8 0 sda 100 0 1000 50 10 0 80 20 0 0 0\n   8 1 sda1 100 0 1000 50 10 0 80 20 0 0 0\n 252 0 dm-0 500 0 4000 10 0 0 0 0 0 0 0\n",
    );
    write(
        dir,
        "proc/net/dev",
        &format!(
            "{NET_HEADER}    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0\n  eth0: 4294967000 100 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
        ),
    );
    write(dir, "proc/self/cgroup", "0::/a/b\n");
    write(dir, "proc/self/mountinfo", "30 20 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n");
    write(dir, "sys/fs/cgroup/a/cpu.max", "200000 100000\n");
    write(dir, "sys/fs/cgroup/a/b/cpu.max", "max 100000\n");
    write(dir, "sys/fs/cgroup/a/memory.max", "max\n");
    write(dir, "sys/fs/cgroup/a/b/memory.max", "268435456\n");
    write(dir, "sys/fs/cgroup/a/b/memory.current", "1000\n");
    write(dir, "sys/fs/cgroup/a/b/cpuset.cpus.effective", "0\n");
    write(
        dir,
        "sys/fs/cgroup/a/b/memory.pressure",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    );
}

/// Two seconds later: cpu1 offline and cpu2 new, intr reset, a new disk sdb, dm-0's counter
/// wrapped, eth0's 32-bit rx counter wrapped, pswpin reset.
fn second(dir: &Path) {
    write(
        dir,
        "proc/stat",
        "cpu  300 0 200 1100 0 0 0 0 0 0\ncpu0 150 0 100 450 0 0 0 0 0 0\ncpu2 10 0 10 80 0 0 0 0 0 0\nintr 400 1 2\nctxt 3000\nprocs_running 5\nprocs_blocked 0\n",
    );
    write(dir, "proc/pressure/cpu", "some avg10=4.00 avg60=2.00 avg300=3.00 total=1500000\n");
    write(
        dir,
        "proc/meminfo",
        "MemTotal: 1000000 kB\nMemFree: 100000 kB\nMemAvailable: 500000 kB\nCached: 200000 kB\nSwapTotal: 1000 kB\nSwapFree: 400 kB\n",
    );
    write(dir, "proc/vmstat", "pgpgin 30\npgpgout 0\npswpin 1\npswpout 0\npgfault 300\npgmajfault 1\n");
    write(
        dir,
        "proc/diskstats",
        "   8 0 sda 300 0 5000 450 10 0 80 20 2 1000 3000\n   8 1 sda1 300 0 5000 450 10 0 80 20 2 1000 3000\n 252 0 dm-0 5 0 4100 10 0 0 0 0 0 0 0\n   8 16 sdb 7 0 70 1 0 0 0 0 0 0 0\n",
    );
    write(
        dir,
        "proc/net/dev",
        &format!(
            "{NET_HEADER}    lo: 3000 30 0 0 0 0 0 0 3000 30 0 0 0 0 0 0\n  eth0: 100 101 0 2 0 0 0 0 2000 4 0 0 0 0 0 0\n"
        ),
    );
    write(dir, "sys/fs/cgroup/a/b/memory.current", "4096\n");
    write(
        dir,
        "sys/fs/cgroup/a/b/memory.pressure",
        "some avg10=0.00 avg60=0.00 avg300=0.00 total=200000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n",
    );
}

fn two_samples(dir: &Path) -> (Sample, Sample) {
    let mut sampler = Sampler::new(FsRoot::new(dir).unwrap());
    let a = sampler.sample();
    second(dir);
    let mut b = sampler.sample();
    b.time = a.time + Duration::from_secs(2);
    (a, b)
}

#[test]
fn exact_rates_between_two_snapshots() {
    let tmp = tempfile::tempdir().unwrap();
    first(tmp.path());
    let (a, b) = two_samples(tmp.path());
    let r = Rates::between(&a, &b);
    assert_eq!(r.interval_seconds, 2.0);

    let cpu = r.cpu.as_ref().unwrap();
    assert_eq!(cpu.total_percent, Some(50.0));
    let modes = cpu.modes.unwrap();
    assert_eq!((modes.user, modes.system, modes.idle), (200.0 / 6.0, 100.0 / 6.0, 50.0));
    assert_eq!(cpu.per_cpu.len(), 2, "cpu1 went offline: not listed");
    assert_eq!((cpu.per_cpu[0].cpu, cpu.per_cpu[0].total_percent), (0, Some(75.0)));
    assert_eq!((cpu.per_cpu[1].cpu, cpu.per_cpu[1].total_percent), (2, None), "cpu2 is new: no rate yet");
    assert_eq!(cpu.online_cpus, 2);
    assert_eq!(cpu.context_switches_per_sec, Some(1000.0));
    assert_eq!(cpu.interrupts_per_sec, None, "intr went down: reset, no rate");
    assert_eq!((cpu.procs_running, cpu.procs_blocked), (Some(5), Some(0)));

    let load = r.load.unwrap();
    assert_eq!((load.one, load.five, load.fifteen), (1.5, 0.75, 0.25));

    let psi_cpu = r.pressure["cpu"].some.unwrap();
    assert_eq!((psi_cpu.avg10, psi_cpu.stall_percent, psi_cpu.total_us), (4.0, Some(25.0), 1_500_000));
    assert_eq!(r.pressure["io"].full.unwrap().stall_percent, Some(0.0));
    assert!(r.pressure["memory"].unavailable.as_deref().unwrap().contains("not provided"));
    assert!(r.pressure["irq"].unavailable.is_some());

    let mem = r.memory.as_ref().unwrap();
    let now = mem.now.unwrap();
    assert_eq!((now.used_bytes, now.available_bytes), (500_000 * 1024, 500_000 * 1024));
    assert_eq!((now.cached_bytes, now.swap_used_bytes), (200_000 * 1024, 600 * 1024));
    assert_eq!(mem.page_faults_per_sec, Some(100.0));
    assert_eq!(mem.page_in_bytes_per_sec, Some(10.0 * 1024.0));
    assert_eq!(mem.swap_in_pages_per_sec, None, "pswpin went down: no rate");
    assert_eq!(mem.swap_out_pages_per_sec, Some(0.0));

    let disk = |name: &str| r.disks.iter().find(|d| d.name == name).unwrap();
    let sda = disk("sda");
    assert_eq!(sda.kind, DiskKind::Disk);
    assert_eq!((sda.reads_per_sec, sda.writes_per_sec), (Some(100.0), Some(0.0)));
    assert_eq!(sda.read_bytes_per_sec, Some(4000.0 * 512.0 / 2.0));
    assert_eq!((sda.read_latency_ms, sda.write_latency_ms, sda.avg_latency_ms), (Some(2.0), None, Some(2.0)));
    assert_eq!((sda.utilization_percent, sda.queue_depth, sda.in_flight), (Some(50.0), Some(1.5), 2));
    assert_eq!(disk("sda1").kind, DiskKind::Partition);
    let dm = disk("dm-0");
    assert_eq!(
        (dm.kind, dm.reads_per_sec, dm.read_bytes_per_sec),
        (DiskKind::Virtual, None, Some(100.0 * 512.0 / 2.0))
    );
    let sdb = disk("sdb");
    assert_eq!(
        (sdb.kind, sdb.reads_per_sec, sdb.read_bytes_per_sec),
        (DiskKind::Disk, None, None),
        "new disk"
    );
    assert_eq!(r.disk_totals.read_bytes_per_sec, 4000.0 * 512.0 / 2.0, "only whole disks with rates count");
    assert_eq!(r.disk_totals.reads_per_sec, 100.0);

    let net = |name: &str| r.network.iter().find(|n| n.name == name).unwrap();
    assert_eq!((net("lo").rx_bytes_per_sec, net("lo").tx_packets_per_sec), (Some(1000.0), Some(10.0)));
    let eth = net("eth0");
    assert_eq!(eth.rx_bytes_per_sec, None, "32-bit wrap: no rate, never 2^32");
    assert_eq!(
        (eth.rx_packets_per_sec, eth.rx_drops_per_sec, eth.tx_bytes_per_sec),
        (Some(0.5), Some(1.0), Some(1000.0))
    );

    let cg = &r.cgroup;
    assert_eq!(cg.version, Some(CgroupVersion::V2));
    assert_eq!(cg.path.as_deref(), Some("/a/b"));
    assert_eq!(
        (cg.cpu_limit_cpus, cg.cpu_quota_us, cg.cpu_period_us),
        (Some(2.0), Some(200_000), Some(100_000))
    );
    assert_eq!((cg.memory_limit_bytes, cg.memory_current_bytes), (Some(268_435_456), Some(4096)));
    assert_eq!(cg.cpuset.as_deref(), Some("0"));
    assert_eq!(cg.effective_cpus, Some(1.0), "min(2 online, cpuset of 1, quota of 2)");
    assert_eq!(cg.effective_memory_bytes, Some(268_435_456));
    assert_eq!(cg.memory_pressure.as_ref().unwrap().some.unwrap().stall_percent, Some(10.0));
    assert!(cg.io_pressure.is_none());
    assert!(r.errors.is_empty(), "{:?}", r.errors);

    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["cgroup"]["memory_limit_bytes"], 268_435_456);
    assert_eq!(json["cpu"]["per_cpu"][1]["total_percent"], serde_json::Value::Null);
}

#[test]
fn cgroup_v1_with_unlimited_sentinel_and_hybrid_detection() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    write(d, "proc/self/cgroup", "4:memory:/x\n3:cpu,cpuacct:/x\n2:cpuset:/\n0::/\n");
    write(
        d,
        "proc/self/mountinfo",
        "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n\
         32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n\
         34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset\n\
         35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n\
         41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
    );
    write(d, "sys/fs/cgroup/memory/x/memory.limit_in_bytes", "9223372036854771712\n");
    write(d, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    write(d, "sys/fs/cgroup/memory/x/memory.usage_in_bytes", "123456\n");
    write(d, "sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us", "50000\n");
    write(d, "sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
    write(d, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
    write(d, "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
    write(d, "sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-3\n");
    write(d, "proc/meminfo", "MemTotal: 2048 kB\nMemAvailable: 1024 kB\n");
    let mut s = Sampler::new(FsRoot::new(d).unwrap());
    let a = s.sample();
    let r = Rates::between(&a, &s.sample());
    let cg = &r.cgroup;
    assert_eq!(cg.version, Some(CgroupVersion::Hybrid));
    assert_eq!(cg.path.as_deref(), Some("/x"), "the memory hierarchy's path");
    assert_eq!(cg.cpu_limit_cpus, Some(0.5));
    assert_eq!(cg.memory_limit_bytes, None, "the v1 sentinel means no limit, not 9 EiB");
    assert_eq!(cg.memory_current_bytes, Some(123_456));
    assert_eq!(cg.cpuset.as_deref(), Some("0-3"));
    assert_eq!(cg.effective_memory_bytes, Some(2048 * 1024));
    assert_eq!(cg.effective_cpus, Some(0.5));
    assert_eq!(serde_json::to_value(cg).unwrap()["version"], "hybrid");
}

#[test]
fn empty_or_garbage_trees_give_errors_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let mut s = Sampler::new(FsRoot::new(d).unwrap());
    let a = s.sample();
    let r = Rates::between(&a, &s.sample());
    assert!(r.cpu.is_none() && r.memory.is_none() && r.disks.is_empty() && r.network.is_empty());
    assert!(r.cgroup.unavailable.is_some());
    assert!(r.errors.iter().any(|e| e.source == "cpu"), "{:?}", r.errors);

    for f in
        ["proc/stat", "proc/loadavg", "proc/diskstats", "proc/net/dev", "proc/meminfo", "proc/pressure/cpu"]
    {
        write(d, f, "garbage \u{0} 1 2 x:y\n\n-5 cpu9 a b c d e f g h i j k l m n o p\n");
    }
    write(d, "proc/self/cgroup", "nonsense\n");
    write(d, "proc/self/mountinfo", "also nonsense\n");
    let mut s = Sampler::new(FsRoot::new(d).unwrap());
    let a = s.sample();
    let r = Rates::between(&a, &s.sample());
    assert!(r.cpu.is_none() && r.load.is_none() && r.disks.is_empty() && r.network.is_empty());
    assert!(r.pressure["cpu"].unavailable.is_some());
    assert!(r.errors.len() >= 5, "{:?}", r.errors);
}

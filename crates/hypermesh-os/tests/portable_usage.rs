//! The portable sampler (sysinfo) over a busy second, against the kernel's counters read over
//! the same second: one CPU burned by a pinned thread, loopback traffic sent, memory in use.
//!
//! The reference is `/proc/stat`, `/proc/meminfo` and `/sys/class/net/lo/statistics`, the
//! counters the native sampler reads; once the native usage sampler and the portable one share
//! their output types, this test takes the native sampler as a third reading of the same second.

// Both halves of each comparison are needed: the native backend only exists under this cfg.
#![cfg(native_linux)]

use hypermesh_os::linux::meminfo::Meminfo;
use hypermesh_os::portable::PortableSampler;
use hypermesh_os::{FsRoot, cpulist};
use hypermesh_testkit as testing;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Busy and total jiffies of one `/proc/stat` CPU line. Busy is everything but idle and iowait
/// (guest time is already inside user and nice).
#[derive(Debug, Clone, Copy)]
struct Times {
    busy: u64,
    total: u64,
}

/// The `cpu` line and the `cpuN` lines of /proc/stat, by CPU number (`None` for the total).
fn proc_stat(root: &FsRoot) -> Vec<(Option<u32>, Times)> {
    let text = root.read_string("/proc/stat").unwrap();
    text.lines()
        .filter(|l| l.starts_with("cpu"))
        .map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next().unwrap();
            let v: Vec<u64> = words.take(8).map(|w| w.parse().unwrap()).collect();
            let total: u64 = v.iter().sum();
            let idle = v[3] + v[4];
            (name[3..].parse().ok(), Times { busy: total - idle, total })
        })
        .collect()
}

fn percent(before: Times, after: Times) -> f64 {
    let total = after.total - before.total;
    100.0 * (after.busy - before.busy) as f64 / total.max(1) as f64
}

fn lo_rx_bytes(root: &FsRoot) -> u64 {
    root.read_parsed("/sys/class/net/lo/statistics/rx_bytes").unwrap()
}

/// Spins on `cpu` until `stop` is set.
fn burn(cpu: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut set = rustix::thread::CpuSet::new();
        set.set(cpu as usize);
        rustix::thread::sched_setaffinity(None, &set).unwrap();
        let mut x = 0u64;
        while !stop.load(Ordering::Relaxed) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    })
}

/// Sends `bytes` through a loopback TCP connection and waits until they are received.
fn send_over_loopback(bytes: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let reader = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0;
        while got < bytes {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "connection closed early");
            got += n;
        }
    });
    let mut conn = TcpStream::connect(addr).unwrap();
    let chunk = vec![0x5au8; 1 << 16];
    let mut sent = 0;
    while sent < bytes {
        let n = chunk.len().min(bytes - sent);
        conn.write_all(&chunk[..n]).unwrap();
        sent += n;
    }
    reader.join().unwrap();
}

#[test]
fn busy_second_agrees_with_the_kernel() {
    let root = FsRoot::host();
    let online = cpulist::parse_list(&root.read_trimmed("/sys/devices/system/cpu/online").unwrap()).unwrap();
    let n = online.len() as u32;
    if online != (0..n).collect::<Vec<_>>() {
        testing::skip("some CPUs are offline: sysinfo's per-CPU order is then not the CPU number");
        return;
    }
    let target = n - 1;
    let stop = Arc::new(AtomicBool::new(false));
    let burner = burn(target, stop.clone());
    std::thread::sleep(Duration::from_millis(200));

    let start = Instant::now();
    let mut sampler = PortableSampler::new().unwrap();
    let stat_before = proc_stat(&root);
    let lo_before = lo_rx_bytes(&root);
    const TRAFFIC: usize = 16 << 20;
    send_over_loopback(TRAFFIC);
    std::thread::sleep(Duration::from_secs(1).saturating_sub(start.elapsed()));
    let usage = sampler.sample().unwrap();
    let stat_after = proc_stat(&root);
    let lo_after = lo_rx_bytes(&root);
    let meminfo = Meminfo::parse(&root.read_string("/proc/meminfo").unwrap());
    stop.store(true, Ordering::Relaxed);
    burner.join().unwrap();

    // CPU: total and the burned CPU, portable vs kernel over the same second.
    let kernel_total = percent(stat_before[0].1, stat_after[0].1);
    assert!(
        (usage.cpu.total_percent - kernel_total).abs() <= 5.0,
        "total CPU: portable {:.1}% vs /proc/stat {kernel_total:.1}%",
        usage.cpu.total_percent
    );
    assert!(kernel_total >= 100.0 / n as f64 - 10.0, "one of {n} CPUs burned, total only {kernel_total:.1}%");
    assert_eq!(usage.cpu.per_cpu.len(), n as usize);
    let line = stat_before.iter().position(|(id, _)| *id == Some(target)).unwrap();
    let kernel_burned = percent(stat_before[line].1, stat_after[line].1);
    let portable_burned = usage.cpu.per_cpu[target as usize].total_percent;
    assert!(kernel_burned >= 90.0, "burned CPU {target}: /proc/stat says {kernel_burned:.1}%");
    assert!(
        (portable_burned - kernel_burned).abs() <= 5.0,
        "burned CPU {target}: portable {portable_burned:.1}% vs /proc/stat {kernel_burned:.1}%"
    );

    // Network: the loopback traffic, as a rate over the interval, in both.
    let lo = usage.network.iter().find(|i| i.name == "lo").expect("lo in the portable sample");
    let portable_lo = lo.rx_bytes_per_sec.expect("lo rx rate") * usage.interval_seconds;
    let kernel_lo = (lo_after - lo_before) as f64;
    assert!(portable_lo >= TRAFFIC as f64, "lo rx over the second: portable {portable_lo} < {TRAFFIC}");
    assert!(
        (portable_lo - kernel_lo).abs() <= 0.05 * TRAFFIC as f64,
        "lo rx bytes: portable {portable_lo} vs sysfs {kernel_lo}"
    );

    // Memory: used = MemTotal - MemAvailable, read a moment apart.
    let kernel_used = meminfo.get("MemTotal").unwrap() - meminfo.get("MemAvailable").unwrap();
    assert!(
        usage.memory.used_bytes.abs_diff(kernel_used) <= 64 << 20,
        "used memory: portable {} vs /proc/meminfo {kernel_used}",
        usage.memory.used_bytes
    );
}

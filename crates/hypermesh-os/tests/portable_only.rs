//! The build without the native Linux code (Windows, macOS, FreeBSD, or Linux with
//! `--cfg hypermesh_portable_only`, as `.ci/run` builds it): the portable backend is the default
//! and only backend, and a whole profile and a usage reading come back through it end to end.
//! The values are checked against what std reports independently of sysinfo.

#![cfg(not(native_linux))]

use hypermesh_os::portable::PortableSampler;
use hypermesh_os::select;
use hypermesh_os::{Section, detect};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[test]
fn a_whole_profile_comes_back_through_the_default_backend() {
    let backend = select::open(None, None).unwrap();
    assert_eq!(backend.name(), "portable");
    let profile = detect(backend.as_ref(), &[]);
    assert_eq!(profile.backend, "portable");

    let platform = profile.platform.expect("platform section");
    assert!(platform.kernel.is_some() && platform.arch.is_some(), "{platform:?}");
    assert!(platform.uptime_seconds.is_some_and(|s| s > 0.0), "{platform:?}");

    let cpu = profile.cpu.expect("cpu section");
    // std counts the CPUs this process may run on, which can only be fewer than the host's.
    let usable = std::thread::available_parallelism().unwrap().get() as u32;
    assert!(cpu.logical_cpus >= usable, "sysinfo {} CPUs, std {usable}", cpu.logical_cpus);
    assert_eq!(cpu.logical.len() as u32, cpu.logical_cpus);

    let memory = profile.memory.expect("memory section");
    assert!(memory.total_bytes > 0);
    let available = memory.available_bytes.expect("available memory");
    assert!(available <= memory.total_bytes, "{memory:?}");

    let storage = profile.storage.expect("storage section");
    assert!(!storage.filesystems.is_empty(), "no filesystem at all");
    for fs in &storage.filesystems {
        if let (Some(total), Some(avail)) = (fs.total_bytes, fs.available_bytes) {
            assert!(avail <= total, "{fs:?}");
        }
    }
    // The temporary directory lies on one of the filesystems listed.
    let tmp = std::env::temp_dir();
    assert!(storage.filesystems.iter().any(|fs| tmp.starts_with(&fs.mount_point)), "{tmp:?}");

    let network = profile.network.expect("network section");
    assert!(network.interfaces.iter().any(|i| i.name.starts_with("lo")), "no loopback interface");

    // sysinfo has no NUMA topology: the section is absent with a reason, never guessed.
    assert!(profile.numa.is_none());
    let numa = profile.errors.iter().find(|e| e.section == Section::Numa).expect("numa reason");
    assert!(numa.message.starts_with("unsupported:"), "{numa}");
}

#[test]
fn usage_sees_a_busy_thread_and_loopback_traffic() {
    let mut sampler = PortableSampler::new().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let spin = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::hint::spin_loop();
            }
        })
    };
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let payload = [0u8; 1200];
    let until = Instant::now() + Duration::from_millis(600);
    let mut sent = 0u64;
    while Instant::now() < until {
        sent += socket.send_to(&payload, socket.local_addr().unwrap()).unwrap() as u64;
        std::thread::sleep(Duration::from_millis(2));
    }
    let usage = sampler.sample().unwrap();
    stop.store(true, Ordering::Relaxed);
    spin.join().unwrap();

    // One of N CPUs spinning is at least 100/N % of all of them, minus scheduling slack.
    let cpus = usage.cpu.per_cpu.len() as f64;
    let floor = 100.0 / cpus * 0.6;
    assert!(usage.cpu.total_percent >= floor, "{} % < {floor} %", usage.cpu.total_percent);
    assert!(usage.cpu.total_percent <= 100.0);
    assert!(usage.memory.used_bytes > 0 && usage.memory.available_bytes > 0);
    let lo = usage.network.iter().find(|i| i.name.starts_with("lo")).expect("loopback");
    // Each datagram crosses loopback once, so at least what was sent was received.
    let received = lo.rx_bytes_per_sec.expect("loopback rate") * usage.interval_seconds;
    assert!(received >= sent as f64, "loopback {received} B < {sent} B sent");
}

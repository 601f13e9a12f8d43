//! On the live host: one core burnt for a second shows as that core at ~100 % and the machine
//! at ~1/N. Alone in its test binary so no other test's work is counted.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::usage::{Rates, Sampler};
use hypermesh_testkit as testing;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

#[test]
fn burning_one_pinned_core() {
    let mut sampler = Sampler::new(FsRoot::host());
    let idle_a = sampler.sample();
    std::thread::sleep(Duration::from_millis(500));
    let idle = Rates::between(&idle_a, &sampler.sample());
    let cpu = idle.cpu.expect("/proc/stat readable");
    let busy = cpu.total_percent.unwrap_or(100.0);
    if busy > 15.0 {
        testing::skip(&format!("host already {busy:.0}% busy: a burn test would measure other work"));
        return;
    }
    let n = cpu.per_cpu.len() as f64;
    let target = cpu.per_cpu.last().expect("an online CPU").cpu;

    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let burner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut set = rustix::thread::CpuSet::new();
            set.set(target as usize);
            rustix::thread::sched_setaffinity(None, &set).expect("pin the burner");
            ready_tx.send(()).unwrap();
            let mut x = 0u64;
            while !stop.load(Ordering::Relaxed) {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            x
        })
    };
    ready_rx.recv().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let a = sampler.sample();
    std::thread::sleep(Duration::from_secs(1));
    let b = sampler.sample();
    stop.store(true, Ordering::Relaxed);
    burner.join().unwrap();

    let r = Rates::between(&a, &b);
    let cpu = r.cpu.unwrap();
    let total = cpu.total_percent.unwrap();
    let expected = 100.0 / n;
    assert!(
        (total - expected).abs() <= 10.0,
        "total {total:.1}% with one of {n} CPUs burnt, expected {expected:.0}±10"
    );
    let pinned = cpu.per_cpu.iter().find(|c| c.cpu == target).unwrap().total_percent.unwrap();
    assert!(pinned >= 90.0, "cpu{target} {pinned:.1}% while burnt");
    assert!((r.interval_seconds - 1.0).abs() < 0.2, "interval {}", r.interval_seconds);
}

//! On the live host: a 64 MiB fsync'd write shows on the disk backing the file, and 10 MiB over
//! loopback TCP shows on `lo`.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::usage::{Rates, Sampler};
use hypermesh_testkit as testing;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

const MIB: f64 = 1024.0 * 1024.0;

/// The whole disk (diskstats name) holding the filesystem of `path`, via /sys/dev/block.
fn backing_disk(path: &Path) -> Option<String> {
    let dev = std::fs::metadata(path).ok()?.dev();
    let (major, minor) = (rustix::fs::major(dev), rustix::fs::minor(dev));
    if major == 0 {
        return None; // tmpfs, overlay, btrfs subvolume...: no single block device
    }
    let root = FsRoot::host();
    let sys = format!("/sys/dev/block/{major}:{minor}");
    let real = root.resolve(&sys).ok()?;
    let mut parts = real.rsplit('/');
    let name = parts.next()?.to_string();
    if root.exists(&format!("{sys}/partition")) { parts.next().map(str::to_string) } else { Some(name) }
}

#[test]
fn fsynced_write_shows_on_the_backing_disk() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let Some(disk) = backing_disk(dir.path()) else {
        testing::skip("the test directory is not on a block device");
        return;
    };
    let mut sampler = Sampler::new(FsRoot::host());
    let a = sampler.sample();
    let mut f = std::fs::File::create(dir.path().join("blob")).unwrap();
    let chunk = vec![0x5au8; 1 << 20];
    for _ in 0..64 {
        f.write_all(&chunk).unwrap();
    }
    f.sync_all().unwrap();
    let b = sampler.sample();
    let r = Rates::between(&a, &b);
    let d = r.disks.iter().find(|d| d.name == disk).unwrap_or_else(|| panic!("{disk} not in diskstats"));
    let written = d.write_bytes_per_sec.unwrap() * r.interval_seconds;
    assert!(written >= 64.0 * MIB - 1.0, "{disk}: {:.1} MiB written over the interval", written / MIB);
    assert!(r.disk_totals.write_bytes_per_sec >= d.write_bytes_per_sec.unwrap() - 1e-6);
}

#[test]
fn loopback_traffic_shows_on_lo() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut sampler = Sampler::new(FsRoot::host());
    let a = sampler.sample();
    let reader = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut n = 0usize;
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match s.read(&mut buf).unwrap() {
                0 => return n,
                k => n += k,
            }
        }
    });
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let chunk = vec![1u8; 1 << 20];
    for _ in 0..10 {
        s.write_all(&chunk).unwrap();
    }
    s.shutdown(std::net::Shutdown::Write).unwrap();
    assert_eq!(reader.join().unwrap(), 10 << 20);
    let b = sampler.sample();
    let r = Rates::between(&a, &b);
    let lo = r.network.iter().find(|n| n.name == "lo").expect("lo in /proc/net/dev");
    let rx = lo.rx_bytes_per_sec.unwrap() * r.interval_seconds;
    assert!(rx >= 10.0 * MIB - 1.0, "lo rx {:.2} MiB", rx / MIB);
}

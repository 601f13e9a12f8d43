//! Storage on this machine, against lsblk and df.

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::storage;
use hypermesh_os::linux::storage::filesystems::PSEUDO_FS_TYPES;
use hypermesh_testkit::skip;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Block devices equal `lsblk -dn`'s list, with sizes and rotational flags. lsblk's default
/// view hides unattached loop devices (as we do) and RAM disks (major 1; we list them as
/// `ram`, so they are left out of the comparison).
#[test]
fn block_devices_match_lsblk() {
    let Some(text) = run("lsblk", &["-dnb", "-o", "NAME,SIZE,ROTA"]) else {
        skip("lsblk not installed (apt-get install util-linux)");
        return;
    };
    let lsblk: BTreeMap<String, (u64, bool)> = text
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?.to_string(), (w.next()?.parse().ok()?, w.next()? == "1")))
        })
        .collect();
    let s = storage::detect(&FsRoot::host(), &mut Vec::new()).unwrap();
    let ours: BTreeMap<String, (u64, bool)> = s
        .block_devices
        .iter()
        .filter(|d| d.class.as_deref() != Some("ram"))
        .map(|d| (d.name.clone(), (d.size_bytes.unwrap(), d.rotational.unwrap())))
        .collect();
    assert_eq!(ours, lsblk);
    assert!(!ours.is_empty());
}

/// Real filesystems and their sizes equal `df`'s for every mount point both list; df's list,
/// less the pseudo types we leave out, is ours.
#[test]
fn filesystems_match_df() {
    let Some(text) = run("df", &["-B1", "--output=target,fstype,size,avail,itotal"]) else {
        skip("df not installed (coreutils)");
        return;
    };
    let df: BTreeMap<String, (String, u64, u64, u64)> = text
        .lines()
        .skip(1)
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let [target, fstype, size, avail, itotal] = w[..] else { return None };
            Some((
                target.to_string(),
                (fstype.to_string(), size.parse().ok()?, avail.parse().ok()?, itotal.parse().ok()?),
            ))
        })
        .collect();
    let mut problems = Vec::new();
    let s = storage::detect(&FsRoot::host(), &mut problems).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let ours: BTreeSet<&str> = s.filesystems.iter().map(|f| f.mount_point.as_str()).collect();
    let theirs: BTreeSet<&str> = df
        .iter()
        .filter(|(_, v)| !PSEUDO_FS_TYPES.contains(&v.0.as_str()))
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(ours, theirs);
    for f in &s.filesystems {
        let (fstype, size, avail, itotal) = &df[&f.mount_point];
        assert_eq!(&f.fs_type, fstype, "{}", f.mount_point);
        assert_eq!(f.total_bytes, Some(*size), "{}", f.mount_point);
        assert_eq!(f.inodes_total, Some(*itotal), "{}", f.mount_point);
        // Other processes write meanwhile: available may move a little between the two reads.
        let ours = f.available_bytes.unwrap();
        assert!(ours.abs_diff(*avail) <= (size / 100).max(1 << 20), "{}: {ours} vs {avail}", f.mount_point);
    }
}

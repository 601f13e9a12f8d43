//! DIMMs of this host (SMBIOS type 17) against `dmidecode -t 17`, slot by slot; and hand-made
//! type 17 structures decoded by us and by `dmidecode --from-dump` (runs on any host).
//!
//! Hosts without SMBIOS (many VMs, this CI's Firecracker VM among them) have nothing to compare:
//! the test says so and passes, even under HYPERMESH_REQUIRE_ALL. Where the entries exist, a
//! missing dmidecode or a user that is not root is a skip (a failure under HYPERMESH_REQUIRE_ALL).

#![cfg(native_linux)]

use hypermesh_os::FsRoot;
use hypermesh_os::linux::smbios::{self, blob::memory_device};
use hypermesh_os::model::Dimm;
use hypermesh_testkit::{is_root, skip};
use std::collections::HashMap;
use std::process::Command;

/// One `Memory Device` block of dmidecode's output: its handle and `Key: Value` lines.
fn parse_dmidecode(text: &str) -> HashMap<u16, HashMap<String, String>> {
    let mut out = HashMap::new();
    let mut current: Option<(u16, HashMap<String, String>)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Handle 0x") {
            if let Some((h, fields)) = current.take() {
                out.insert(h, fields);
            }
            let hex = rest.split(',').next().unwrap_or_default();
            current = u16::from_str_radix(hex, 16).ok().map(|h| (h, HashMap::new()));
        } else if let (Some((_, fields)), Some((k, v))) =
            (current.as_mut(), line.strip_prefix('\t').and_then(|kv| kv.split_once(": ")))
        {
            fields.insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    if let Some((h, fields)) = current {
        out.insert(h, fields);
    }
    out
}

/// A dmidecode size (`16 GB`, `512 MB`) in bytes.
fn size_bytes(text: &str) -> Option<u64> {
    let (n, unit) = text.split_once(' ')?;
    let shift = match unit {
        "bytes" => 0,
        "kB" | "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        _ => return None,
    };
    Some(n.parse::<u64>().ok()? << shift)
}

/// Our string as dmidecode prints it (`Not Specified` for none).
fn string_of(v: &Option<String>) -> String {
    v.clone().unwrap_or_else(|| "Not Specified".into())
}

fn compare(d: &Dimm, f: &HashMap<String, String>) {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    let text = |k: &str| match get(k) {
        "<BAD INDEX>" | "" => "Not Specified".to_string(),
        v => v.to_string(),
    };
    let what = format!("handle {:#06x} {f:?}", d.handle);
    assert_eq!(string_of(&d.locator), text("Locator"), "{what}");
    assert_eq!(string_of(&d.bank_locator), text("Bank Locator"), "{what}");
    assert_eq!(string_of(&d.manufacturer), text("Manufacturer"), "{what}");
    assert_eq!(string_of(&d.part_number), text("Part Number"), "{what}");
    assert_eq!(string_of(&d.serial), text("Serial Number"), "{what}");
    match get("Size") {
        "No Module Installed" => assert!(!d.populated && d.size_bytes == Some(0), "{what}"),
        "Unknown" => assert_eq!(d.size_bytes, None, "{what}"),
        s => assert_eq!(d.size_bytes, size_bytes(s), "{what}"),
    }
    if let Some(t) = &d.memory_type {
        assert_eq!(t, get("Type"), "{what}");
    }
    if let Some(t) = &d.form_factor {
        assert_eq!(t, get("Form Factor"), "{what}");
    }
    if f.contains_key("Type Detail") {
        let detail = if d.type_detail.is_empty() { "None".to_string() } else { d.type_detail.join(" ") };
        assert_eq!(detail, get("Type Detail"), "{what}");
    }
    let speed = |k: &str| get(k).split(' ').next().and_then(|n| n.parse::<u32>().ok());
    assert_eq!(d.speed_mts, speed("Speed"), "{what}");
    let configured = if f.contains_key("Configured Memory Speed") {
        speed("Configured Memory Speed")
    } else {
        speed("Configured Clock Speed")
    };
    assert_eq!(d.configured_speed_mts, configured, "{what}");
    assert_eq!(d.rank.map(u32::from), get("Rank").parse::<u32>().ok(), "{what}");
}

#[test]
fn dimms_match_dmidecode() {
    let entries = std::fs::read_dir("/sys/firmware/dmi/entries")
        .map(|d| {
            d.filter_map(|e| e.ok()).filter(|e| e.file_name().to_string_lossy().starts_with("17-")).count()
        })
        .unwrap_or(0);
    if entries == 0 {
        // Nothing to compare on this host: not a skip of something that could run.
        eprintln!(
            "no SMBIOS type 17 entries under /sys/firmware/dmi/entries on this host: nothing to compare"
        );
        return;
    }
    if !is_root() {
        skip("the SMBIOS entries are readable by root only");
        return;
    }
    let out = match Command::new("dmidecode").args(["-t", "17"]).output() {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            skip(&format!("dmidecode -t 17 failed: {}", String::from_utf8_lossy(&o.stderr)));
            return;
        }
        Err(e) => {
            skip(&format!("dmidecode not available ({e}); apt install dmidecode"));
            return;
        }
    };
    let theirs = parse_dmidecode(&String::from_utf8_lossy(&out.stdout));
    let mut problems = Vec::new();
    let ours = smbios::detect(&FsRoot::host(), &mut problems).expect("entries exist");
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(ours.len(), entries);
    assert_eq!(ours.len(), theirs.len(), "slots: ours {ours:?}, dmidecode {theirs:?}");
    for d in &ours {
        let f = theirs.get(&d.handle).unwrap_or_else(|| panic!("handle {:#06x} not in dmidecode", d.handle));
        compare(d, f);
    }
}

/// A binary dump as `dmidecode --dump-bin` writes it: an SMBIOS 3 entry point, then at 0x20
/// the structure table (these structures and the end-of-table marker).
fn dump(structures: &[Vec<u8>]) -> Vec<u8> {
    let mut table: Vec<u8> = structures.concat();
    table.extend_from_slice(&[127, 4, 0xFF, 0xFE, 0, 0]);
    let mut ep = vec![0u8; 0x18];
    ep[..5].copy_from_slice(b"_SM3_");
    (ep[6], ep[7], ep[8], ep[10]) = (0x18, 3, 3, 1);
    ep[12..16].copy_from_slice(&(table.len() as u32).to_le_bytes());
    ep[16..24].copy_from_slice(&0x20u64.to_le_bytes());
    ep[5] = 0u8.wrapping_sub(ep.iter().fold(0u8, |a, b| a.wrapping_add(*b)));
    ep.resize(0x20, 0);
    ep.extend_from_slice(&table);
    ep
}

#[test]
fn hand_made_tables_decode_as_dmidecode_does() {
    let w = |v: u16| v.to_le_bytes().to_vec();
    let d = |v: u32| v.to_le_bytes().to_vec();
    let blobs: Vec<Vec<u8>> = vec![
        memory_device(
            0x54,
            0x11,
            &[
                (0x0C, &w(16384)),
                (0x0E, &[0x09]),
                (0x10, &[1, 2]),
                (0x12, &[0x1A]),
                (0x13, &w(0x2080)),
                (0x15, &w(3200)),
                (0x17, &[3, 4, 0, 5, 0x02]),
                (0x20, &w(2933)),
            ],
            &["DIMM_A1", "P0 CHANNEL A", "Samsung", "0x1234ABCD", "M393A2K43DB3-CWE    "],
        ),
        memory_device(
            0x28,
            0x12,
            &[(0x0E, &[0x02]), (0x10, &[1, 2]), (0x12, &[0x02])],
            &["DIMM_B1", "P0 CHANNEL B"],
        ),
        memory_device(
            0x5C,
            0x13,
            &[
                (0x0C, &w(0x7FFF)),
                (0x0E, &[0x0D]),
                (0x10, &[1]),
                (0x12, &[0x23]),
                (0x13, &w(0x4080)),
                (0x15, &w(0xFFFF)),
                (0x1B, &[0x04]),
                (0x1C, &d(256 << 10)),
                (0x20, &w(0xFFFF)),
                (0x54, &d(70000)),
                (0x58, &d(68000)),
            ],
            &["CPU0 LP5"],
        ),
        memory_device(0x1B, 0x14, &[(0x0C, &w(0xFFFF)), (0x12, &[0x18])], &[]),
        memory_device(0x22, 0x15, &[(0x0C, &w(0x8000 | 512)), (0x0E, &[0x05]), (0x12, &[0x07])], &[]),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("dmi.bin");
    std::fs::write(&file, dump(&blobs)).unwrap();
    let out = match Command::new("dmidecode").arg("--from-dump").arg(&file).args(["-t", "17"]).output() {
        Ok(o) => o,
        Err(e) => {
            skip(&format!("dmidecode not available ({e}); apt install dmidecode"));
            return;
        }
    };
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let theirs = parse_dmidecode(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(theirs.len(), blobs.len(), "{}", String::from_utf8_lossy(&out.stdout));
    for blob in &blobs {
        let ours = smbios::parse_memory_device(blob).unwrap();
        compare(&ours, &theirs[&ours.handle]);
    }
}

#[test]
fn the_dmidecode_reader_itself() {
    let text = "# dmidecode 3.4\nHandle 0x1100, DMI type 17, 84 bytes\nMemory Device\n\tSize: 16 GB\n\t\
                Locator: DIMM_A1\n\tSpeed: 3200 MT/s\n\tRank: 2\n\nHandle 0x1101, DMI type 17, 84 bytes\n\
                Memory Device\n\tSize: No Module Installed\n\tLocator: DIMM_B1\n\tSpeed: Unknown\n";
    let d = parse_dmidecode(text);
    assert_eq!(d.len(), 2);
    assert_eq!(d[&0x1100]["Size"], "16 GB");
    assert_eq!(size_bytes("16 GB"), Some(16 << 30));
    assert_eq!(size_bytes("1536 MB"), Some(1536 << 20));
    assert_eq!(d[&0x1101]["Locator"], "DIMM_B1");
    let empty =
        Dimm { handle: 0x1101, locator: Some("DIMM_B1".into()), size_bytes: Some(0), ..Default::default() };
    let mut fields = d[&0x1101].clone();
    for k in ["Bank Locator", "Manufacturer", "Part Number", "Serial Number"] {
        fields.insert(k.into(), "Not Specified".into());
    }
    fields.insert("Rank".into(), "Unknown".into());
    compare(&empty, &fields);
}

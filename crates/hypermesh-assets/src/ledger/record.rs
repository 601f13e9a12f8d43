//! How one ledger record is stored and checked: `HMR1`, the CRC-32 of the JSON that follows
//! (little-endian), then the JSON. A record is trusted only when its checksum matches and its
//! content makes sense (ids consistent, amounts positive, asset ids of the record's kind).
//! Records written before checksums existed (bare JSON) are read with the content checks only.

use crate::allocation::{Allocation, MAX_DEADLINE_MS};
use crate::kind::AssetKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

const MAGIC: &[u8; 4] = b"HMR1";

/// An asset as the ledger remembers it: what hardware its id stands for, so that the same
/// hardware keeps its id under another backend or after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedAsset {
    /// Asset id.
    pub id: String,
    /// Its kind.
    pub kind: AssetKind,
    /// The hardware units it is made of (see [`crate::Asset::hardware`]).
    pub hardware: Vec<String>,
}

/// The stored bytes of `value`.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    let json = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(json.len() + 8);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&crc32fast::hash(&json).to_le_bytes());
    bytes.extend_from_slice(&json);
    Ok(bytes)
}

/// The value stored in `bytes`, once its checksum (when it has one) matched.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let json = match bytes.strip_prefix(MAGIC) {
        Some(rest) if rest.len() >= 4 => {
            let (sum, json) = rest.split_at(4);
            let stored = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
            let actual = crc32fast::hash(json);
            if stored != actual {
                return Err(format!("checksum mismatch (stored {stored:08x}, computed {actual:08x})"));
            }
            json
        }
        Some(_) => return Err("truncated record".into()),
        None if bytes.first() == Some(&b'{') => bytes,
        None => return Err("not a ledger record".into()),
    };
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

/// Why `a`, stored under `key`, cannot be a record this program wrote.
pub(crate) fn check_allocation(a: &Allocation, key: u64) -> Result<(), String> {
    if a.id != key {
        return Err(format!("holds allocation {}", a.id));
    }
    if a.holder.trim().is_empty() {
        return Err("no holder".into());
    }
    if a.parts.is_empty() {
        return Err("holds no asset".into());
    }
    let prefix = format!("{}:", a.kind);
    for p in &a.parts {
        if !p.asset.starts_with(&prefix) || p.asset.len() == prefix.len() {
            return Err(format!("part on {:?} in a {} allocation", p.asset, a.kind));
        }
        if p.amount == 0 || (a.kind.whole_devices() && p.amount != 1) {
            return Err(format!("amount {} of {:?}", p.amount, p.asset));
        }
    }
    if a.expires_ms <= a.created_ms {
        return Err(format!("expires ({}) before it was made ({})", a.expires_ms, a.created_ms));
    }
    Ok(())
}

/// Why `r`, stored under `key`, cannot be an asset record.
pub(crate) fn check_asset(r: &RecordedAsset, key: &str) -> Result<(), String> {
    if r.id != key {
        return Err(format!("holds asset {:?}", r.id));
    }
    if !r.id.starts_with(&format!("{}:", r.kind)) {
        return Err(format!("asset {:?} recorded as {}", r.id, r.kind));
    }
    Ok(())
}

/// A note for a record that is sound but holds a deadline no date can show (written before
/// deadlines were bounded).
pub(crate) fn deadline_note(a: &Allocation) -> Option<String> {
    (a.expires_ms > MAX_DEADLINE_MS).then(|| {
        format!(
            "allocation {}: its stored deadline ({} ms after 1970) is past 9999-12-31; it is kept and \
             counted until released",
            a.id, a.expires_ms
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_any_flipped_byte_is_caught() {
        let r = RecordedAsset { id: "cpu:numa0".into(), kind: AssetKind::Cpu, hardware: vec!["cpu0".into()] };
        let bytes = encode(&r).unwrap();
        assert_eq!(decode::<RecordedAsset>(&bytes).unwrap(), r);
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut bad = bytes.clone();
                bad[i] ^= 1 << bit;
                assert!(decode::<RecordedAsset>(&bad).is_err(), "byte {i} bit {bit}");
            }
        }
    }

    #[test]
    fn bare_json_of_older_versions_is_read() {
        let json = br#"{"id":"gpu:x","kind":"gpu","hardware":[]}"#;
        assert_eq!(decode::<RecordedAsset>(json).unwrap().id, "gpu:x");
        assert!(decode::<RecordedAsset>(b"\x00garbage").is_err());
    }
}

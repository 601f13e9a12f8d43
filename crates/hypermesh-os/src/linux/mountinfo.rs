//! `/proc/self/mountinfo`: one line per mount.

/// One mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Mount id.
    pub id: u32,
    /// Parent mount id.
    pub parent_id: u32,
    /// `major:minor` of the device.
    pub major_minor: String,
    /// Path within the filesystem that is mounted (not `/` for bind mounts of a subtree).
    pub root: String,
    /// Where it is mounted.
    pub mount_point: String,
    /// Per-mount options (`rw,relatime`).
    pub options: String,
    /// Filesystem type (`ext4`, `cgroup2`, ...).
    pub fs_type: String,
    /// Source (`/dev/vda`, `tmpfs`, `server:/export`).
    pub source: String,
    /// Per-superblock options.
    pub super_options: String,
}

/// Parses mountinfo text; malformed lines are returned as errors with their line number and
/// skipped, so one odd line does not hide the rest.
pub fn parse(text: &str) -> (Vec<Mount>, Vec<String>) {
    let mut mounts = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match parse_line(line) {
            Some(m) => mounts.push(m),
            None => bad.push(format!(
                "line {}: malformed mount entry {:?}",
                n + 1,
                line.chars().take(80).collect::<String>()
            )),
        }
    }
    (mounts, bad)
}

fn parse_line(line: &str) -> Option<Mount> {
    let (left, right) = line.split_once(" - ")?;
    let mut l = left.split(' ');
    let id = l.next()?.parse().ok()?;
    let parent_id = l.next()?.parse().ok()?;
    let major_minor = l.next()?.to_string();
    let root = unescape(l.next()?);
    let mount_point = unescape(l.next()?);
    let options = l.next()?.to_string();
    let mut r = right.split(' ');
    let fs_type = r.next()?.to_string();
    let source = unescape(r.next()?);
    let super_options = r.next().unwrap_or("").to_string();
    Some(Mount { id, parent_id, major_minor, root, mount_point, options, fs_type, source, super_options })
}

/// Undoes the kernel's octal escapes (`\040` for space, `\011`, `\012`, `\134`).
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b))
        {
            let v = (bytes[i + 1] - b'0') as u32 * 64
                + (bytes[i + 2] - b'0') as u32 * 8
                + (bytes[i + 3] - b'0') as u32;
            if let Ok(b) = u8::try_from(v) {
                out.push(b);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_escapes() {
        let text = "22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
                    30 22 0:26 /sub /mnt/my\\040dir rw master:2 - nfs4 srv:/x rw,vers=4.2\n\
                    junk\n";
        let (m, bad) = parse(text);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].fs_type, "ext4");
        assert_eq!(m[0].source, "/dev/vda");
        assert_eq!(m[1].mount_point, "/mnt/my dir");
        assert_eq!(m[1].root, "/sub");
        assert_eq!(bad.len(), 1);
        assert_eq!(unescape("a\\134b"), "a\\b");
        assert_eq!(unescape("end\\04"), "end\\04");
    }
}

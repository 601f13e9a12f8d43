//! Tracepoint record layouts from tracefs (`events/CATEGORY/EVENT/format`): classic tracepoint
//! records change between kernels (block_rq_* gained `ioprio` and a longer `rwbs` in 6.8), so a
//! program that reads them gets the offsets the running kernel uses.

use crate::error::{Error, Result};
use crate::probe::mounts::Mounts;
use hypermesh_os::FsRoot;

/// One field of a tracepoint record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Field name (`rwbs`, `dev`; `cmd` for `__data_loc char[] cmd`).
    pub name: String,
    /// Byte offset in the record.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// The fields of a `format` file, in order; lines that are not well-formed fields are skipped.
pub fn parse_format(text: &str) -> Vec<Field> {
    text.lines().filter_map(parse_field).collect()
}

/// `\tfield:char rwbs[10];\toffset:34;\tsize:10;\tsigned:0;`
fn parse_field(line: &str) -> Option<Field> {
    let mut parts = line.trim().split(';').map(str::trim);
    let decl = parts.next()?.strip_prefix("field:")?;
    let name = decl.split_whitespace().last()?;
    let name = name.split('[').next()?.to_string();
    let mut number = |key: &str| parts.next()?.strip_prefix(key)?.parse::<u32>().ok();
    let offset = number("offset:")?;
    let size = number("size:")?;
    (!name.is_empty()).then_some(Field { name, offset, size })
}

/// The field called `name`.
pub fn field<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().find(|f| f.name == name)
}

/// Reads and parses `events/CATEGORY/EVENT/format` under the tracefs mount (else
/// `/sys/kernel/tracing`).
pub fn read_format(root: &FsRoot, category: &str, event: &str) -> Result<Vec<Field>> {
    let mounts = Mounts::read(root)?;
    let base = mounts.first("tracefs").unwrap_or("/sys/kernel/tracing");
    let path = format!("{base}/events/{category}/{event}/format");
    let fields = parse_format(&root.read_string(&path)?);
    if fields.is_empty() {
        return Err(Error::Invalid(format!("{path}: no fields in the tracepoint format")));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_arrays_and_data_loc() {
        let f = parse_format(
            "format:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
             \tfield:char rwbs[10];\toffset:34;\tsize:10;\tsigned:0;\n\
             \tfield:__data_loc char[] cmd;\toffset:60;\tsize:4;\tsigned:0;\n\
             print fmt: \"%d\", REC->dev\n",
        );
        let names: Vec<&str> = f.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["common_type", "rwbs", "cmd"]);
        assert_eq!(field(&f, "rwbs"), Some(&Field { name: "rwbs".into(), offset: 34, size: 10 }));
        assert!(parse_format("field:int x;\toffset:zz;\tsize:4;").is_empty());
    }
}

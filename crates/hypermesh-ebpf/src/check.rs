//! Bytecode check before the kernel sees a program: ELF sanity (machine BPF, program sections,
//! relocations resolvable) and instruction-level checks (valid opcodes, registers ≤ 10, jumps in
//! range, ends in exit, 64-bit immediates paired, size within this kernel's limit). Every problem
//! is returned with its instruction index. It complements the verifier, which remains the judge.
//!
//! Bounded on hostile input: [`check_reader`] reads at most what a program within the limit can
//! take (a larger input is refused with one problem), only the first `limit` instructions are
//! checked, and at most [`MAX_PER_KIND`] problems of each kind are listed, the rest counted.

use crate::error::{Error, Result};
use crate::probe::caps::{Cap, Capabilities};
use crate::sys::Insn;
use object::elf;
use object::read::elf::{ElfFile64, FileHeader};
use object::{Object as _, ObjectSection, ObjectSymbol, RelocationTarget, SectionFlags};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// Instructions a program may have when the loader has CAP_BPF (`BPF_COMPLEXITY_LIMIT_INSNS`).
pub const PRIVILEGED_LIMIT: usize = 1_000_000;
/// Instructions a program may have without CAP_BPF (`BPF_MAXINSNS`).
pub const UNPRIVILEGED_LIMIT: usize = 4096;
/// Largest ELF object [`check_reader`] reads: room for several programs at the privileged limit
/// with their relocations and BTF.
pub const MAX_OBJECT_BYTES: u64 = 64 << 20;
/// Problems of one kind listed per program; the rest are summed up in one "... and N more".
pub const MAX_PER_KIND: usize = 20;

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// ELF section of the program, for objects.
    pub section: Option<String>,
    /// Instruction index within the program, when the problem is one instruction's.
    pub index: Option<usize>,
    /// The kind (`size`, `opcode`, `register`, `ld_imm64`, `jump`, `exit`, `elf`, `relocation`),
    /// by which repeated problems are capped.
    pub kind: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Outcome of checking an object or a raw program.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// Program sections checked and their instruction counts.
    pub programs: Vec<(String, usize)>,
    /// Everything wrong, in order.
    pub problems: Vec<Problem>,
}

impl Report {
    /// No problem found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The instruction limit for this process: privileged when CAP_BPF or CAP_SYS_ADMIN is effective.
pub fn insn_limit(caps: &Capabilities) -> usize {
    if caps.has(Cap::Bpf) || caps.has(Cap::SysAdmin) { PRIVILEGED_LIMIT } else { UNPRIVILEGED_LIMIT }
}

fn valid_opcode(code: u8) -> bool {
    let (class, op, src) = (code & 0x07, code & 0xf0, code & 0x08);
    match class {
        // LD: lddw; legacy packet loads LD_ABS/LD_IND of W/H/B.
        0x00 => matches!(code, 0x18 | 0x20 | 0x28 | 0x30 | 0x40 | 0x48 | 0x50),
        // LDX: MEM and MEMSX loads.
        0x01 => matches!(code, 0x61 | 0x69 | 0x71 | 0x79 | 0x81 | 0x89 | 0x91),
        // ST: MEM stores of an immediate.
        0x02 => matches!(code, 0x62 | 0x6a | 0x72 | 0x7a),
        // STX: MEM stores, atomics (W, DW).
        0x03 => matches!(code, 0x63 | 0x6b | 0x73 | 0x7b | 0xc3 | 0xdb),
        // ALU / ALU64: ADD..END; ALU64 END (bswap) only with K.
        0x04 => op <= 0xd0,
        0x07 => op <= 0xd0 && !(op == 0xd0 && src != 0),
        // JMP: JA..JSLE, may_goto (0xe0); JA/CALL/EXIT only with K.
        0x05 => op <= 0xe0 && !(matches!(op, 0x00 | 0x80 | 0x90 | 0xe0) && src != 0),
        // JMP32: conditional jumps and gotol (JA), no CALL/EXIT.
        0x06 => op <= 0xd0 && !matches!(op, 0x80 | 0x90) && !(op == 0x00 && src != 0),
        _ => false,
    }
}

fn is_ld_imm64(i: &Insn) -> bool {
    i.code == 0x18
}

fn is_jump(i: &Insn) -> bool {
    matches!(i.code & 0x07, 0x05 | 0x06) && !matches!(i.code & 0xf0, 0x80 | 0x90)
}

fn is_exit_or_ja(i: &Insn) -> bool {
    i.code == 0x95 || i.code == 0x05 || i.code == 0x06
}

/// Problems of one program, at most [`MAX_PER_KIND`] of each kind kept, the rest counted.
struct Problems {
    section: Option<String>,
    list: Vec<Problem>,
    seen: BTreeMap<&'static str, usize>,
}

impl Problems {
    fn new(section: Option<String>) -> Self {
        Problems { section, list: Vec::new(), seen: BTreeMap::new() }
    }

    fn push(&mut self, kind: &'static str, index: Option<usize>, message: String) {
        let seen = self.seen.entry(kind).or_default();
        *seen += 1;
        if *seen <= MAX_PER_KIND {
            self.list.push(Problem { section: self.section.clone(), index, kind, message });
        }
    }

    /// The problems kept, then one "... and N more" line per kind that went over the cap.
    fn finish(mut self) -> Vec<Problem> {
        for (kind, n) in self.seen.into_iter().filter(|(_, n)| *n > MAX_PER_KIND) {
            let message = format!("... and {} more {kind} problems", n - MAX_PER_KIND);
            self.list.push(Problem { section: self.section.clone(), index: None, kind, message });
        }
        self.list
    }
}

/// Checks raw instructions; `limit` is the kernel's instruction limit for this loader. A program
/// over the limit gets one problem saying so, and only its first `limit` instructions are checked.
pub fn check_insns(insns: &[Insn], limit: usize) -> Vec<Problem> {
    check_section(insns, limit, None)
}

fn check_section(all: &[Insn], limit: usize, section: Option<String>) -> Vec<Problem> {
    let mut out = Problems::new(section);
    if all.is_empty() {
        out.push("size", None, "empty program".into());
        return out.finish();
    }
    let over = all.len() > limit;
    if over {
        out.push(
            "size",
            None,
            format!(
                "{} instructions, over this kernel's limit of {limit} for this loader (only the first {limit} checked)",
                all.len()
            ),
        );
    }
    let insns = &all[..all.len().min(limit)];
    // Second halves of lddw: not instructions of their own, and no jump may land there.
    let mut second_half = vec![false; insns.len()];
    let mut i = 0;
    while i < insns.len() {
        let insn = &insns[i];
        if !valid_opcode(insn.code) {
            out.push("opcode", Some(i), format!("invalid opcode {:#04x}", insn.code));
        }
        if insn.dst() > 10 {
            out.push("register", Some(i), format!("invalid destination register r{}", insn.dst()));
        }
        if is_ld_imm64(insn) {
            if insn.src() > 6 {
                out.push("ld_imm64", Some(i), format!("invalid ld_imm64 source (pseudo) {}", insn.src()));
            }
            match all.get(i + 1) {
                None => out.push("ld_imm64", Some(i), "truncated ld_imm64: second half missing".into()),
                Some(n) if n.code != 0 || n.regs != 0 || n.off != 0 => out.push(
                    "ld_imm64",
                    Some(i + 1),
                    "ld_imm64 second half must have opcode, registers and offset 0".into(),
                ),
                Some(_) => {
                    if let Some(s) = second_half.get_mut(i + 1) {
                        *s = true;
                    }
                }
            }
            i += 2;
            continue;
        }
        if insn.src() > 10 {
            out.push("register", Some(i), format!("invalid source register r{}", insn.src()));
        }
        if insn.dst() == 10 && matches!(insn.code & 0x07, 0x00 | 0x01 | 0x04 | 0x07) {
            out.push("register", Some(i), "r10 (frame pointer) is read-only".into());
        }
        i += 1;
    }
    for (i, insn) in insns.iter().enumerate().filter(|(i, _)| !second_half[*i]) {
        let pseudo_call = insn.code == 0x85 && insn.src() == 1;
        if !(is_jump(insn) || pseudo_call) {
            continue;
        }
        let delta = if pseudo_call || insn.code == 0x06 { insn.imm as i64 } else { insn.off as i64 };
        let target = i as i64 + delta + 1;
        if target < 0 || target >= all.len() as i64 {
            out.push("jump", Some(i), format!("jump to {target} is out of range (0..{})", all.len()));
        } else if second_half.get(target as usize).copied().unwrap_or(false) {
            out.push("jump", Some(i), format!("jump to {target} lands inside an ld_imm64"));
        }
    }
    let last = insns.len() - 1;
    if over {
        // The end lies beyond what was checked.
    } else if second_half[last] {
        out.push("exit", Some(last), "program ends inside an ld_imm64, not in exit".into());
    } else if !is_exit_or_ja(&insns[last]) {
        out.push("exit", Some(last), "program does not end in exit (or a jump)".into());
    }
    out.finish()
}

/// Reads `reader` and checks it, reading no more than a program within `limit` can take: raw
/// instructions up to `limit` × 8 bytes, an ELF object up to [`MAX_OBJECT_BYTES`]. A larger input
/// is refused with one `size` problem, read only one byte past the bound (so `/dev/zero` is fine).
pub fn check_reader(mut reader: impl Read, limit: usize) -> std::io::Result<Report> {
    let mut bytes = Vec::new();
    reader.by_ref().take(4).read_to_end(&mut bytes)?;
    let elf = bytes.starts_with(b"\x7fELF");
    let bound = if elf { MAX_OBJECT_BYTES } else { (limit as u64).saturating_mul(8) };
    reader.take((bound + 1).saturating_sub(bytes.len() as u64)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > bound {
        let what = if elf {
            format!("an ELF object over {bound} bytes, the most this check reads")
        } else {
            format!(
                "over {bound} bytes: more than this kernel's limit of {limit} instructions for this loader"
            )
        };
        let problem =
            Problem { section: None, index: None, kind: "size", message: format!("input is {what}") };
        return Ok(Report { programs: Vec::new(), problems: vec![problem] });
    }
    Ok(check_bytes(&bytes, limit))
}

/// Opens `path` and checks it with [`check_reader`].
pub fn check_file(path: &Path, limit: usize) -> Result<Report> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    check_reader(file, limit).map_err(|e| Error::io(path, e))
}

/// Decodes little-endian instructions; a length that is not a multiple of 8 is a problem.
pub fn decode(bytes: &[u8]) -> (Vec<Insn>, Option<Problem>) {
    let insns = bytes.chunks_exact(8).map(|c| Insn::from_bytes(c.try_into().unwrap_or([0; 8]))).collect();
    let problem = (!bytes.len().is_multiple_of(8)).then(|| Problem {
        section: None,
        index: Some(bytes.len() / 8),
        kind: "size",
        message: format!("{} trailing bytes: not a whole instruction", bytes.len() % 8),
    });
    (insns, problem)
}

/// Checks an ELF object (`ELF\x7f` magic) or, otherwise, a raw instruction stream.
pub fn check_bytes(bytes: &[u8], limit: usize) -> Report {
    if bytes.starts_with(b"\x7fELF") {
        return check_object(bytes, limit);
    }
    let (insns, partial) = decode(bytes);
    let mut problems: Vec<Problem> = partial.into_iter().collect();
    problems.extend(check_insns(&insns, limit));
    Report { programs: vec![("(raw)".into(), insns.len())], problems }
}

/// Checks an eBPF ELF object.
pub fn check_object(bytes: &[u8], limit: usize) -> Report {
    let mut report = Report::default();
    let mut object = Problems::new(None);
    let file = match ElfFile64::<object::Endianness>::parse(bytes) {
        Ok(f) => f,
        Err(e) => {
            object.push("elf", None, format!("not a 64-bit ELF object: {e}"));
            report.problems = object.finish();
            return report;
        }
    };
    let machine = file.elf_header().e_machine(file.endian());
    if machine != elf::EM_BPF {
        object.push("elf", None, format!("ELF machine is {machine}, not BPF ({})", elf::EM_BPF));
    }
    for section in file.sections() {
        let name = section.name().unwrap_or("?").to_string();
        let exec = matches!(section.flags(), SectionFlags::Elf { sh_flags } if sh_flags & u64::from(elf::SHF_EXECINSTR) != 0);
        if !exec || section.size() == 0 {
            continue;
        }
        let data = match section.data() {
            Ok(d) => d,
            Err(e) => {
                let mut p = Problems::new(Some(name));
                p.push("elf", None, format!("section data unreadable: {e}"));
                report.problems.extend(p.finish());
                continue;
            }
        };
        let (insns, partial) = decode(data);
        report.problems.extend(partial.map(|p| Problem { section: Some(name.clone()), ..p }));
        report.problems.extend(check_section(&insns, limit, Some(name.clone())));
        let mut relocs = Problems::new(Some(name.clone()));
        for (offset, reloc) in section.relocations() {
            let index = (offset / 8) as usize;
            if !offset.is_multiple_of(8) || index >= insns.len() {
                relocs.push(
                    "relocation",
                    Some(index),
                    format!("relocation at byte {offset} is not on an instruction"),
                );
                continue;
            }
            match reloc.target() {
                RelocationTarget::Symbol(sym) => match file.symbol_by_index(sym) {
                    Ok(s) if s.is_undefined() && !s.is_weak() => relocs.push(
                        "relocation",
                        Some(index),
                        format!("relocation against undefined symbol {:?}", s.name().unwrap_or("?")),
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        relocs.push("relocation", Some(index), format!("relocation symbol {}: {e}", sym.0))
                    }
                },
                other => {
                    relocs.push("relocation", Some(index), format!("unsupported relocation target {other:?}"))
                }
            }
        }
        report.problems.extend(relocs.finish());
        report.programs.push((name, insns.len()));
    }
    if report.programs.is_empty() {
        object.push("elf", None, "no program sections (executable sections) in the object".into());
    }
    report.problems.splice(0..0, object.finish());
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_program_passes() {
        let p = Insn::return_imm(0);
        assert!(check_insns(&p, 4096).is_empty());
    }

    #[test]
    fn repeated_problems_are_capped_per_kind() {
        let bad = vec![Insn::new(0xff, 0, 0, 0, 0); 1000];
        let problems = check_insns(&bad, PRIVILEGED_LIMIT);
        let opcodes: Vec<_> = problems.iter().filter(|p| p.kind == "opcode").collect();
        assert_eq!(opcodes.len(), MAX_PER_KIND + 1, "{problems:?}");
        assert_eq!(
            opcodes[MAX_PER_KIND].message,
            format!("... and {} more opcode problems", 1000 - MAX_PER_KIND)
        );
        assert!(problems.iter().any(|p| p.kind == "exit"), "other kinds still listed: {problems:?}");
    }

    #[test]
    fn opcode_table() {
        for ok in [0xb7u8, 0xbf, 0x07, 0x85, 0x95, 0x05, 0x15, 0x16, 0x61, 0x7b, 0x18, 0xdb, 0xd4, 0xd7] {
            assert!(valid_opcode(ok), "{ok:#x}");
        }
        for bad in [0xffu8, 0x00, 0xf7, 0x8d, 0x96, 0xdf, 0x19] {
            assert!(!valid_opcode(bad), "{bad:#x}");
        }
    }
}

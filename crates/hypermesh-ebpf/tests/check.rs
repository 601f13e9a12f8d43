//! Bytecode check: each malformed program rejected with the right reason and instruction
//! index; a valid one accepted, then accepted by the kernel too.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::check::{self, PRIVILEGED_LIMIT, UNPRIVILEGED_LIMIT, check_bytes, check_insns};
use hypermesh_ebpf::probe::types::{prog_type_number, trivial_load};
use hypermesh_ebpf::sys::{self, Insn};

fn mov0() -> Insn {
    Insn::new(0xb7, 0, 0, 0, 0)
}
fn exit() -> Insn {
    Insn::new(0x95, 0, 0, 0, 0)
}

/// (what, program, instruction limit, expected index, expected reason).
type Case = (&'static str, Vec<Insn>, usize, Option<usize>, &'static str);

#[test]
fn malformed_programs_are_rejected_with_reason_and_index() {
    let lddw = Insn::new(0x18, 1, 0, 0, 7);
    let oversized: Vec<Insn> = std::iter::repeat_n(mov0(), UNPRIVILEGED_LIMIT).chain([exit()]).collect();
    let cases: Vec<Case> = vec![
        (
            "bad opcode",
            vec![mov0(), Insn::new(0xff, 0, 0, 0, 0), exit()],
            UNPRIVILEGED_LIMIT,
            Some(1),
            "invalid opcode",
        ),
        (
            "bad dst register",
            vec![Insn::new(0xb7, 11, 0, 0, 0), exit()],
            UNPRIVILEGED_LIMIT,
            Some(0),
            "destination register r11",
        ),
        (
            "bad src register",
            vec![mov0(), Insn::new(0xbf, 1, 12, 0, 0), exit()],
            UNPRIVILEGED_LIMIT,
            Some(1),
            "source register r12",
        ),
        (
            "jump out of range",
            vec![mov0(), Insn::new(0x05, 0, 0, 5, 0), exit()],
            UNPRIVILEGED_LIMIT,
            Some(1),
            "out of range",
        ),
        (
            "jump backwards out",
            vec![Insn::new(0x05, 0, 0, -3, 0), mov0(), exit()],
            UNPRIVILEGED_LIMIT,
            Some(0),
            "out of range",
        ),
        (
            "jump into lddw",
            vec![Insn::new(0x05, 0, 0, 1, 0), lddw, Insn::default(), mov0(), exit()],
            UNPRIVILEGED_LIMIT,
            Some(0),
            "inside an ld_imm64",
        ),
        ("missing exit", vec![mov0(), mov0()], UNPRIVILEGED_LIMIT, Some(1), "does not end in exit"),
        ("truncated ld_imm64", vec![mov0(), exit(), lddw], UNPRIVILEGED_LIMIT, Some(2), "truncated ld_imm64"),
        (
            "bad ld_imm64 pair",
            vec![lddw, Insn::new(0xb7, 0, 0, 0, 0), mov0(), exit()],
            UNPRIVILEGED_LIMIT,
            Some(1),
            "second half",
        ),
        (
            "write to r10",
            vec![Insn::new(0xb7, 10, 0, 0, 0), mov0(), exit()],
            UNPRIVILEGED_LIMIT,
            Some(0),
            "read-only",
        ),
        ("oversized", oversized, UNPRIVILEGED_LIMIT, None, "over this kernel's limit of 4096"),
        ("empty", vec![], PRIVILEGED_LIMIT, None, "empty program"),
    ];
    for (what, insns, limit, index, reason) in cases {
        let problems = check_insns(&insns, limit);
        assert!(
            problems.iter().any(|p| p.index == index && p.message.contains(reason)),
            "{what}: expected {reason:?} at {index:?}, got {problems:?}"
        );
    }
}

#[test]
fn raw_bytes_with_partial_instruction() {
    let mut bytes: Vec<u8> =
        Insn::return_imm(0).iter().flat_map(|i| [i.code, i.regs, 0, 0, 0, 0, 0, 0]).collect();
    bytes.extend_from_slice(&[1, 2, 3]);
    let r = check_bytes(&bytes, UNPRIVILEGED_LIMIT);
    assert!(r.problems.iter().any(|p| p.message.contains("trailing bytes") && p.index == Some(2)), "{r:?}");
}

#[test]
fn embedded_objects_pass_and_a_foreign_machine_fails() {
    for name in ["runqlat.bpf.o", "nanosleep.bpf.o"] {
        let bytes = std::fs::read(format!("{}/bpf/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let r = check_bytes(&bytes, PRIVILEGED_LIMIT);
        assert!(r.ok(), "{name}: {:?}", r.problems);
        assert!(r.programs.len() >= 3, "{name}: {:?}", r.programs);
        let mut foreign = bytes.clone();
        foreign[18] = 62; // e_machine = x86-64
        let r = check_bytes(&foreign, PRIVILEGED_LIMIT);
        assert!(r.problems.iter().any(|p| p.message.contains("not BPF")), "{r:?}");
        let r = check_bytes(&bytes[..100], PRIVILEGED_LIMIT);
        assert!(!r.ok(), "a truncated ELF is rejected");
    }
}

#[test]
fn valid_program_is_accepted_by_the_checker_and_the_kernel() {
    // r0 = 0x1_0000_0002 (ld_imm64); if r0 == 2 goto +1; r0 = 0; exit
    let insns = [
        Insn::new(0x18, 0, 0, 0, 2),
        Insn::new(0, 0, 0, 0, 1),
        Insn::new(0x15, 0, 0, 1, 2),
        Insn::new(0xb7, 0, 0, 0, 0),
        Insn::new(0x95, 0, 0, 0, 0),
    ];
    assert_eq!(check_insns(&insns, UNPRIVILEGED_LIMIT), vec![]);
    if !common::root_or_skip("loading the checked program") {
        return;
    }
    let p = trivial_load(prog_type_number("socket_filter").unwrap(), &insns);
    let mut log = vec![0u8; 4096];
    if let Err(e) = sys::prog_load(&p, Some(&mut log)) {
        panic!("kernel rejected a program the check accepted: {}\n{}", e.error, e.log);
    }
    // And the kernel agrees with a rejection: a jump out of range fails verification.
    let bad = [Insn::new(0x05, 0, 0, 5, 0), Insn::new(0x95, 0, 0, 0, 0)];
    assert!(!check_insns(&bad, check::UNPRIVILEGED_LIMIT).is_empty());
    let e = sys::prog_load(&trivial_load(1, &bad), Some(&mut log)).expect_err("kernel rejects too");
    assert!(!e.log.is_empty(), "the verifier log is returned verbatim");
}

/// `/dev/zero` never ends: the check reads one byte past what a program within the limit can
/// take and refuses it with one problem (before the bound it grew without limit).
#[test]
fn endless_input_is_refused_after_a_bounded_read() {
    let r = check::check_file(std::path::Path::new("/dev/zero"), PRIVILEGED_LIMIT).expect("read /dev/zero");
    assert_eq!(r.problems.len(), 1, "{r:?}");
    assert!(r.problems[0].message.contains("over 8000000 bytes"), "{r:?}");
    assert!(r.problems[0].message.contains("limit of 1000000 instructions"), "{r:?}");
}

/// A 100 MB file of zeros (sparse: no disk used) is refused with one problem, not one per
/// instruction; so is an "ELF object" over the object bound.
#[test]
fn huge_files_are_refused_with_one_problem() {
    let dir = tempfile::tempdir().unwrap();
    let zeros = dir.path().join("zeros");
    std::fs::File::create(&zeros).unwrap().set_len(100_000_000).unwrap();
    let r = check::check_file(&zeros, PRIVILEGED_LIMIT).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", &r.problems[..r.problems.len().min(5)]);
    assert_eq!(r.problems[0].kind, "size");
    let elf = dir.path().join("huge.o");
    let f = std::fs::File::create(&elf).unwrap();
    std::io::Write::write_all(&mut &f, b"\x7fELF").unwrap();
    f.set_len(check::MAX_OBJECT_BYTES + 1).unwrap();
    let r = check::check_file(&elf, PRIVILEGED_LIMIT).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", &r.problems[..r.problems.len().min(5)]);
    assert!(r.problems[0].message.contains("ELF object over"), "{r:?}");
}

/// A program just over the limit (all invalid opcodes) gets one "over the limit" problem and at
/// most MAX_PER_KIND problems of each kind plus one count: no checking past the limit.
#[test]
fn over_the_limit_program_gives_capped_problems() {
    let bytes = vec![0u8; (UNPRIVILEGED_LIMIT + 10) * 8];
    let r = check::check_reader(&bytes[..], UNPRIVILEGED_LIMIT + 100).unwrap();
    let over = r.problems.iter().filter(|p| p.message.contains("over this kernel's limit")).count();
    assert_eq!(over, 0, "{:?}", r.problems.first());
    let r = check_bytes(&bytes, UNPRIVILEGED_LIMIT);
    let over: Vec<_> = r.problems.iter().filter(|p| p.message.contains("over this kernel's limit")).collect();
    assert_eq!(over.len(), 1, "{over:?}");
    let opcodes: Vec<_> = r.problems.iter().filter(|p| p.kind == "opcode").collect();
    assert_eq!(opcodes.len(), check::MAX_PER_KIND + 1);
    assert!(opcodes.iter().all(|p| p.index.is_none_or(|i| i < UNPRIVILEGED_LIMIT)));
    let rest = UNPRIVILEGED_LIMIT - check::MAX_PER_KIND;
    assert_eq!(opcodes.last().unwrap().message, format!("... and {rest} more opcode problems"));
    assert!(r.problems.len() < 30, "{} problems", r.problems.len());
}

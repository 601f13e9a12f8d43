//! The few raw `bpf(2)` and `perf_event_open(2)` calls the probe needs with full control over
//! the attributes and the errno (aya folds EPERM into generic errors and only knows the types
//! of its own release). Each attribute struct is the prefix of the kernel's `union bpf_attr`
//! for its command; the kernel accepts a shorter attribute and zero-fills the rest.

use std::ffi::CStr;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};

/// `BPF_MAP_CREATE`.
const BPF_MAP_CREATE: u32 = 0;
/// `BPF_PROG_LOAD`.
const BPF_PROG_LOAD: u32 = 5;
/// `BPF_RAW_TRACEPOINT_OPEN`.
const BPF_RAW_TRACEPOINT_OPEN: u32 = 17;
/// `BPF_BTF_LOAD`.
const BPF_BTF_LOAD: u32 = 18;
/// `BPF_LINK_CREATE`.
const BPF_LINK_CREATE: u32 = 28;

/// The kernel's `BPF_OBJ_NAME_LEN`.
pub const OBJ_NAME_LEN: usize = 16;

/// One eBPF instruction as the kernel reads it (`struct bpf_insn`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register (low nibble) and source register (high nibble).
    pub regs: u8,
    /// Signed offset.
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

impl Insn {
    /// Builds an instruction.
    pub const fn new(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Self {
        Insn { code, regs: (src << 4) | (dst & 0x0f), off, imm }
    }

    /// Destination register.
    pub fn dst(&self) -> u8 {
        self.regs & 0x0f
    }

    /// Source register.
    pub fn src(&self) -> u8 {
        self.regs >> 4
    }

    /// Decodes one little-endian 8-byte instruction.
    pub fn from_bytes(b: [u8; 8]) -> Self {
        Insn {
            code: b[0],
            regs: b[1],
            off: i16::from_le_bytes([b[2], b[3]]),
            imm: i32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        }
    }

    /// `r0 = imm; exit`: the smallest valid program, returning `imm`.
    pub fn return_imm(imm: i32) -> [Insn; 2] {
        [Insn::new(0xb7, 0, 0, 0, imm), Insn::new(0x95, 0, 0, 0, 0)]
    }
}

/// What to load with `BPF_PROG_LOAD` (the fields the probe and check use).
#[derive(Debug, Clone, Default)]
pub struct ProgLoad<'a> {
    /// `bpf_prog_type` number.
    pub prog_type: u32,
    /// Instructions.
    pub insns: &'a [Insn],
    /// `expected_attach_type`.
    pub expected_attach_type: u32,
    /// `attach_btf_id` (tracing, LSM, struct_ops).
    pub attach_btf_id: u32,
    /// `prog_flags` (e.g. `BPF_F_SLEEPABLE`).
    pub prog_flags: u32,
    /// Program name (truncated to 15 bytes).
    pub name: &'a str,
    /// Ask the verifier for its error messages only, without the per-instruction trace of log
    /// level 1 (formatting that trace is a good part of the cost of a probe load).
    pub errors_only_log: bool,
}

/// `BPF_LOG_STATS`: the verifier logs its errors and a closing statistics line, no trace.
const LOG_STATS: u32 = 4;

/// Whether this kernel accepts [`LOG_STATS`] on its own: Linux 5.2 and later.
fn stats_log_level_known() -> bool {
    static KNOWN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *KNOWN.get_or_init(|| kernel_version() >= (5, 2))
}

/// `(major, minor)` of the running kernel, from `uname`.
pub fn kernel_version() -> (u32, u32) {
    version_of(&rustix::system::uname().release().to_string_lossy())
}

/// `(major, minor)` of a kernel release such as `6.18.0-1-amd64`; `(0, 0)` without numbers.
pub fn version_of(release: &str) -> (u32, u32) {
    let mut nums = release.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse::<u32>().ok());
    (nums.next().unwrap_or(0), nums.next().unwrap_or(0))
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; OBJ_NAME_LEN],
    prog_ifindex: u32,
    expected_attach_type: u32,
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    line_info_rec_size: u32,
    line_info: u64,
    line_info_cnt: u32,
    attach_btf_id: u32,
    attach_prog_fd: u32,
    core_relo_cnt: u32,
}

/// A failed load: the errno and the verifier log (empty when the kernel wrote none).
#[derive(Debug)]
pub struct LoadError {
    /// The error `bpf()` returned.
    pub error: io::Error,
    /// The verifier log, verbatim.
    pub log: String,
}

fn name_bytes(name: &str) -> [u8; OBJ_NAME_LEN] {
    let mut out = [0u8; OBJ_NAME_LEN];
    for (o, b) in out.iter_mut().zip(name.bytes().take(OBJ_NAME_LEN - 1)) {
        *o = b;
    }
    out
}

fn sys_bpf<T>(cmd: u32, attr: &mut T) -> io::Result<i64> {
    // SAFETY: `attr` is a valid, initialised prefix of `union bpf_attr` for `cmd`, and the size
    // passed is its exact size; the kernel only reads/writes within it and the buffers it points to.
    let ret = unsafe {
        libc::syscall(libc::SYS_bpf, cmd as libc::c_long, attr as *mut T as *mut libc::c_void, size_of::<T>())
    };
    if ret < 0 { Err(io::Error::last_os_error()) } else { Ok(ret) }
}

fn sys_bpf_fd<T>(cmd: u32, attr: &mut T) -> io::Result<OwnedFd> {
    let fd = sys_bpf(cmd, attr)?;
    // SAFETY: the commands used here return a new file descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

/// `BPF_PROG_LOAD` with a GPL licence. With `log` the verifier log (level 1, or errors only as
/// [`ProgLoad::errors_only_log`] asks) is captured into it and returned on failure.
pub fn prog_load(p: &ProgLoad<'_>, log: Option<&mut [u8]>) -> Result<OwnedFd, LoadError> {
    let license = c"GPL";
    let mut attr = ProgLoadAttr {
        prog_type: p.prog_type,
        insn_cnt: p.insns.len() as u32,
        insns: p.insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        prog_flags: p.prog_flags,
        prog_name: name_bytes(p.name),
        expected_attach_type: p.expected_attach_type,
        attach_btf_id: p.attach_btf_id,
        ..Default::default()
    };
    let mut log = log;
    if let Some(buf) = log.as_deref_mut() {
        buf.fill(0);
        attr.log_level = if p.errors_only_log && stats_log_level_known() { LOG_STATS } else { 1 };
        attr.log_size = buf.len() as u32;
        attr.log_buf = buf.as_mut_ptr() as u64;
    }
    sys_bpf_fd(BPF_PROG_LOAD, &mut attr).map_err(|error| {
        let log = log
            .map(|buf| {
                CStr::from_bytes_until_nul(buf).map(|c| c.to_string_lossy().into_owned()).unwrap_or_default()
            })
            .unwrap_or_default();
        LoadError { error, log }
    })
}

/// What to create with `BPF_MAP_CREATE`.
#[derive(Debug, Clone, Default)]
pub struct MapCreate {
    /// `bpf_map_type` number.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum entries.
    pub max_entries: u32,
    /// `map_flags`.
    pub map_flags: u32,
    /// Inner map fd (map-in-map types).
    pub inner_map_fd: u32,
    /// BTF object fd (0 for none).
    pub btf_fd: u32,
    /// BTF type id of the key.
    pub btf_key_type_id: u32,
    /// BTF type id of the value.
    pub btf_value_type_id: u32,
    /// Kernel BTF type id of a struct_ops value.
    pub btf_vmlinux_value_type_id: u32,
}

#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; OBJ_NAME_LEN],
    map_ifindex: u32,
    btf_fd: u32,
    btf_key_type_id: u32,
    btf_value_type_id: u32,
    btf_vmlinux_value_type_id: u32,
    map_extra: u64,
}

/// `BPF_MAP_CREATE`.
pub fn map_create(m: &MapCreate) -> io::Result<OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type: m.map_type,
        key_size: m.key_size,
        value_size: m.value_size,
        max_entries: m.max_entries,
        map_flags: m.map_flags,
        inner_map_fd: m.inner_map_fd,
        btf_fd: m.btf_fd,
        btf_key_type_id: m.btf_key_type_id,
        btf_value_type_id: m.btf_value_type_id,
        btf_vmlinux_value_type_id: m.btf_vmlinux_value_type_id,
        ..Default::default()
    };
    sys_bpf_fd(BPF_MAP_CREATE, &mut attr)
}

#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    pad: u32,
}

/// `BPF_BTF_LOAD` of a raw BTF blob.
pub fn btf_load(blob: &[u8]) -> io::Result<OwnedFd> {
    let mut attr =
        BtfLoadAttr { btf: blob.as_ptr() as u64, btf_size: blob.len() as u32, ..Default::default() };
    sys_bpf_fd(BPF_BTF_LOAD, &mut attr)
}

#[repr(C)]
#[derive(Default)]
struct RawTracepointOpenAttr {
    name: u64,
    prog_fd: u32,
    pad: u32,
}

/// `BPF_RAW_TRACEPOINT_OPEN`: attaches a raw tracepoint program to `name`, or a BTF-typed
/// (tp_btf, fentry) program to its load-time target when `name` is `None`. Returns the link.
pub fn raw_tracepoint_open(prog: &OwnedFd, name: Option<&CStr>) -> io::Result<OwnedFd> {
    use std::os::fd::AsRawFd;
    let mut attr = RawTracepointOpenAttr {
        name: name.map_or(0, |n| n.as_ptr() as u64),
        prog_fd: prog.as_raw_fd() as u32,
        pad: 0,
    };
    sys_bpf_fd(BPF_RAW_TRACEPOINT_OPEN, &mut attr)
}

#[repr(C)]
#[derive(Default)]
struct LinkCreateAttr {
    prog_fd: u32,
    target: u32,
    attach_type: u32,
    flags: u32,
    extra: [u64; 2],
}

/// `BPF_LINK_CREATE` of `prog` on `target` (an fd or an ifindex, by attach type).
pub fn link_create(prog: &OwnedFd, target: u32, attach_type: u32, flags: u32) -> io::Result<OwnedFd> {
    use std::os::fd::AsRawFd;
    let mut attr =
        LinkCreateAttr { prog_fd: prog.as_raw_fd() as u32, target, attach_type, flags, ..Default::default() };
    sys_bpf_fd(BPF_LINK_CREATE, &mut attr)
}

/// `PERF_FLAG_FD_CLOEXEC`.
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;

/// The leading part of `struct perf_event_attr` (`PERF_ATTR_SIZE_VER7`, 128 bytes).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    type_: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
    config2: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved2: u16,
    aux_sample_size: u32,
    reserved3: u32,
    sig_data: u64,
}

/// `perf_event_open` of PMU `pmu_type` with `config`/`config1` on CPU 0, all processes.
pub fn perf_event_open(pmu_type: u32, config: u64, config1: u64) -> io::Result<OwnedFd> {
    let mut attr = PerfEventAttr {
        type_: pmu_type,
        size: size_of::<PerfEventAttr>() as u32,
        config,
        config1,
        sample_period: 1,
        wakeup_events: 1,
        ..Default::default()
    };
    // SAFETY: attr is a valid perf_event_attr of the size it declares; pid -1 / cpu 0 / no group.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &mut attr as *mut PerfEventAttr,
            -1 as libc::c_int,
            0 as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if ret < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: perf_event_open returned a new fd that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(ret as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_layouts_match_the_kernel() {
        assert_eq!(size_of::<Insn>(), 8);
        assert_eq!(std::mem::offset_of!(ProgLoadAttr, attach_btf_id), 108);
        assert_eq!(std::mem::offset_of!(MapCreateAttr, map_extra), 64);
        assert_eq!(size_of::<PerfEventAttr>(), 128);
    }

    #[test]
    fn insn_roundtrip() {
        let i = Insn::new(0xbf, 3, 10, -2, 7);
        assert_eq!((i.dst(), i.src()), (3, 10));
        let b: [u8; 8] = [i.code, i.regs, 0xfe, 0xff, 7, 0, 0, 0];
        assert_eq!(Insn::from_bytes(b), i);
    }

    #[test]
    fn versions_of_releases() {
        for (release, version) in [
            ("6.18.0-1-amd64", (6, 18)),
            ("5.2.0", (5, 2)),
            ("5.10.209", (5, 10)),
            ("5.1.21", (5, 1)),
            ("5.11.0-rc1", (5, 11)),
            ("4.19.0-26", (4, 19)),
            ("", (0, 0)),
            ("garbage", (0, 0)),
        ] {
            assert_eq!(version_of(release), version, "{release}");
        }
        // The stats log level starts at 5.2, not at 5.10 read as "5.1".
        assert!(version_of("5.10.0") >= (5, 2) && version_of("5.1.21") < (5, 2));
    }

    #[test]
    fn names_are_truncated() {
        assert_eq!(&name_bytes("hm_a_very_long_program_name")[..], b"hm_a_very_long_\0");
    }
}

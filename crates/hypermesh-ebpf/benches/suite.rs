//! Overhead of the suite (run as root: `cargo bench -p hypermesh-ebpf --bench suite`): for each
//! program, a micro-benchmark of the activity it traces, timed with nothing attached, with
//! trivial programs on the same hooks (`WORKLOAD/empty`: the floor no program there can go
//! below), with our program, and with the libbpf-tools equivalent where Debian ships one
//! (`/usr/sbin/...`), plus the BPF run time per operation and per program from the kernel's BPF
//! statistics: ours alone, then ours and the tool's attached side by side over the same
//! operations in both attach orders (printed as `WORKLOAD: ... N ns of BPF per operation ...;
//! self-cost: ...` lines, and their mean). The slow-downs come from windows timed in alternation
//! (nothing, empty programs, ours; `WORKLOAD: alternating ...` lines), since this host's speed
//! drifts by more than the differences between criterion's one-after-the-other runs.
//! `-- footprint` instead prints peak RSS and CPU of whole 1 s runs of `hypermesh ebpf run`
//! (release build) against the libbpf-tools peers (see [`native::footprint`]).
//!
//! | ours       | workload                        | libbpf-tools          |
//! |------------|---------------------------------|-----------------------|
//! | syscalls   | getppid()                       | syscount, syscount -P |
//! | runqlat    | pipe ping-pong between threads  | runqlat               |
//! | exec       | fork+exec /bin/true             | execsnoop             |
//! | tcp        | loopback TCP connect + close    | tcpstates             |
//! | biolatency | 4 KiB O_DIRECT write            | biolatency            |
//! | xdp        | UDP over lo (private netns)     | -                     |

// Everything measured here is Linux-only (see build-support/native_linux.rs).
#[cfg(native_linux)]
mod native {
    use criterion::{BenchmarkGroup, Criterion, criterion_group, measurement::WallTime};
    use hypermesh_ebpf::btf_index::BtfIndex;
    use hypermesh_ebpf::lifecycle::{Loaded, Spec};
    use hypermesh_ebpf::probe::attach::{AttachEnv, Held, Target, hold};
    use hypermesh_ebpf::probe::mounts::Mounts;
    use hypermesh_ebpf::programs::{biolatency, exec, runqlat, syscalls, tcp, xdp_counter};
    use hypermesh_ebpf::stats::{Measurement, ProgramCost, summary};
    use hypermesh_os::FsRoot;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream, UdpSocket};
    use std::os::unix::fs::{FileExt, OpenOptionsExt};
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    /// A libbpf-tools program running in the background, its programs attached (`ids`); stopped
    /// on drop.
    struct Tool {
        child: Child,
        ids: Vec<u32>,
    }

    impl Tool {
        /// Starts `/usr/sbin/NAME args` and waits until the kernel lists new programs (attached).
        fn start(name: &str, args: &[&str]) -> Option<Tool> {
            let path = format!("/usr/sbin/{name}");
            let before = programs_after(0).into_iter().max().unwrap_or(0);
            let child =
                Command::new(&path).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?;
            let mut tool = Tool { child, ids: Vec::new() };
            let deadline = Instant::now() + Duration::from_secs(15);
            while programs_after(before).is_empty() {
                if Instant::now() > deadline {
                    eprintln!("{name}: no program appeared in 15 s; left out");
                    return None;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            // Its programs load one by one (and feature probes come and go); give the attach a
            // moment to finish.
            std::thread::sleep(Duration::from_millis(500));
            tool.ids = programs_after(before);
            Some(tool)
        }
    }

    impl Drop for Tool {
        fn drop(&mut self) {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
            let _ = self.child.wait();
        }
    }

    /// Ids of the programs loaded now that came after program `id` (ids only grow).
    fn programs_after(id: u32) -> Vec<u32> {
        aya::programs::loaded_programs().flatten().map(|p| p.id()).filter(|i| *i > id).collect()
    }

    /// Times `work` bare, under the trivial programs `empty` holds on the same hooks, under our
    /// programs (`ours` loads them and returns their ids) and under the libbpf-tools tool alone,
    /// prints the slow-downs timed in alternation, and prints the BPF run time per operation of
    /// `work`: ours alone, then ours and the tool's side by side (both attached, over the same
    /// operations, so host noise hits both alike), in both attach orders: on a shared hook the
    /// program that runs second finds the caches warm, which favours it.
    fn compare<T>(
        g: &mut BenchmarkGroup<'_, WallTime>,
        what: &str,
        mut work: impl FnMut(),
        empty: impl Fn() -> Vec<Held>,
        ours: impl Fn() -> (T, Vec<u32>),
        tool: Option<(&str, &[&str])>,
    ) {
        g.bench_function(format!("{what}/none"), |b| b.iter(&mut work));
        let held = empty();
        // The floor: what the hooks cost before any program does work (no program on them can
        // slow the workload down less).
        g.bench_function(format!("{what}/empty"), |b| b.iter(&mut work));
        drop(held);
        slowdown(what, &mut work, &empty, &ours);
        let (held, ids) = ours();
        g.bench_function(format!("{what}/hypermesh"), |b| b.iter(&mut work));
        let (calls, costs) = bpf_cost(&ids, &mut work);
        eprintln!("{what}: hypermesh alone {}", per_operation(calls, &costs).1);
        let Some((name, args)) = tool else { return };
        let Some(t) = Tool::start(name, args) else { return };
        let ours_first = side_by_side(what, name, &ids, &t.ids, &mut work);
        drop(held);
        g.bench_function(format!("{what}/{name}"), |b| b.iter(&mut work));
        let (_held, ids) = ours();
        let tool_first = side_by_side(what, name, &ids, &t.ids, &mut work);
        eprintln!(
            "{what}: mean of both orders: hypermesh {:.0}, {name} {:.0} ns of BPF per operation",
            (ours_first.0 + tool_first.0) / 2.0,
            (ours_first.1 + tool_first.1) / 2.0
        );
    }

    /// Slow-down of `work` under the empty programs and under ours, timed in alternation: the
    /// host's speed drifts by more than these differences between criterion's one-after-the-other
    /// runs. Each round times a window with nothing attached, one with the empty programs and
    /// one with ours; printed are the medians over the rounds and the slow-downs against none.
    fn slowdown<T>(
        what: &str,
        work: &mut impl FnMut(),
        empty: &impl Fn() -> Vec<Held>,
        ours: &impl Fn() -> (T, Vec<u32>),
    ) {
        const ROUNDS: usize = 7;
        let mut ns: [Vec<f64>; 3] = Default::default();
        for _ in 0..ROUNDS {
            ns[0].push(ns_per_operation(work));
            let held = empty();
            ns[1].push(ns_per_operation(work));
            drop(held);
            let held = ours();
            ns[2].push(ns_per_operation(work));
            drop(held);
        }
        let [none, empty, ours] = ns.map(hypermesh_testkit::median);
        let pct = |x: f64| (x / none - 1.0) * 100.0;
        eprintln!(
            "{what}: alternating, medians of {ROUNDS} rounds: none {none:.1} ns, empty programs \
             {empty:.1} ns ({:+.1} %), hypermesh {ours:.1} ns ({:+.1} %) per operation",
            pct(empty),
            pct(ours)
        );
    }

    /// Wall nanoseconds per run of `work` over a 100 ms window.
    fn ns_per_operation(work: &mut impl FnMut()) -> f64 {
        let (t, mut runs) = (Instant::now(), 0u32);
        while t.elapsed() < Duration::from_millis(100) {
            work();
            runs += 1;
        }
        t.elapsed().as_nanos() as f64 / f64::from(runs)
    }

    /// Ours (`ids`) and the tool's programs attached together: the BPF run time per operation
    /// of each, printed and returned.
    fn side_by_side(
        what: &str,
        name: &str,
        ids: &[u32],
        tool: &[u32],
        work: &mut impl FnMut(),
    ) -> (f64, f64) {
        let first = if ids.iter().max() < tool.iter().max() { "hypermesh" } else { name };
        let both: Vec<u32> = ids.iter().chain(tool).copied().collect();
        let (calls, costs) = bpf_cost(&both, work);
        let (mine, theirs): (Vec<_>, Vec<_>) = costs.into_iter().partition(|c| ids.contains(&c.prog_id));
        let (mine, theirs) = (per_operation(calls, &mine), per_operation(calls, &theirs));
        eprintln!("{what}: side by side, {first} attached first: hypermesh {}", mine.1);
        eprintln!("{what}: side by side, {first} attached first: {name} {}", theirs.1);
        (mine.0, theirs.0)
    }

    /// Runs `work` for 500 ms with BPF statistics on for programs `ids`: the number of calls
    /// and each program's cost. Apart from the timings: statistics add two clock reads per
    /// program run, which would inflate them.
    fn bpf_cost(ids: &[u32], work: &mut impl FnMut()) -> (u64, Vec<ProgramCost>) {
        let m = Measurement::start(ids).expect("BPF statistics");
        let (t, mut calls) = (Instant::now(), 0u64);
        while t.elapsed() < Duration::from_millis(500) {
            work();
            calls += 1;
        }
        (calls, m.finish().expect("statistics"))
    }

    /// BPF nanoseconds per operation, and `N ns of BPF per operation (C operations); self-cost: ...`.
    fn per_operation(calls: u64, costs: &[ProgramCost]) -> (f64, String) {
        let ns = costs.iter().map(|c| c.run_time_ns).sum::<u64>() as f64 / calls as f64;
        (ns, format!("{ns:.0} ns of BPF per operation ({calls} operations); {}", summary(costs)))
    }

    /// Trivial programs on the hooks `spec` attaches to, each on the first variant of its chain
    /// that this kernel takes, as the lifecycle picks them.
    fn empty_on(env: &AttachEnv<'_>, spec: &Spec) -> Vec<Held> {
        let held: Vec<Held> = spec
            .hooks
            .iter()
            .filter_map(|h| h.chain.iter().find_map(|v| hold(env, Target::from(v)).ok()))
            .collect();
        assert_eq!(held.len(), spec.hooks.len(), "{}: an empty program on every hook", spec.name);
        held
    }

    fn loaded(l: Loaded) -> (Loaded, Vec<u32>) {
        let ids = l.prog_ids();
        (l, ids)
    }

    fn benches(c: &mut Criterion) {
        if !hypermesh_testkit::is_root() {
            eprintln!("SKIP: the suite benches load programs and need root");
            return;
        }
        let mut g = c.benchmark_group("suite");
        g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
        // What the empty programs are attached with: tracefs, cgroup2 and the kernel BTF, read
        // once for every workload's rounds.
        let root = FsRoot::host();
        let mut mounts = Mounts::read(&root).expect("mounts");
        let btf = BtfIndex::vmlinux(&root).ok();
        let env = AttachEnv::new(&root, &mut mounts, true, btf.as_ref());

        // SAFETY: no arguments, cannot fail.
        let getppid = || unsafe {
            libc::getppid();
        };
        let load_syscalls = || loaded(Loaded::load(&syscalls::spec()).unwrap());
        let empty_syscalls = || empty_on(&env, &syscalls::spec());
        compare(&mut g, "getppid", getppid, empty_syscalls, load_syscalls, Some(("syscount", &[])));
        // Ours also counts per command name; syscount does that only in its per-process mode,
        // which fetches the comm on every call as ours does.
        compare(
            &mut g,
            "getppid_by_process",
            getppid,
            empty_syscalls,
            load_syscalls,
            Some(("syscount", &["-P"])),
        );

        let (mut a, echo) = ping_pong_pair();
        compare(
            &mut g,
            "pipe_ping_pong",
            || {
                a.write_all(&[1]).unwrap();
                a.read_exact(&mut [0]).unwrap();
            },
            || empty_on(&env, &runqlat::spec_from(0)),
            || loaded(Loaded::load(&runqlat::spec_from(0)).unwrap()),
            Some(("runqlat", &[])),
        );
        drop(a);
        echo.join().unwrap();

        compare(
            &mut g,
            "exec_true",
            || assert!(Command::new("/bin/true").status().unwrap().success()),
            || empty_on(&env, &exec::spec_from(0)),
            || loaded(Loaded::load(&exec::spec_from(0)).unwrap()),
            Some(("execsnoop", &[])),
        );

        // The acceptor closes each connection at once, so the backlog never overflows (which
        // would add SYN retransmits to the timing), and the client resets its end so no TIME_WAIT
        // piles up (the ephemeral port search would slow down).
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let acceptor = std::thread::spawn(move || {
            for s in listener.incoming() {
                drop(s);
                if stopping.load(Ordering::Relaxed) {
                    break;
                }
            }
        });
        compare(
            &mut g,
            "tcp_connect_close",
            || reset_close(TcpStream::connect(addr).unwrap()),
            || empty_on(&env, &tcp::spec()),
            || loaded(Loaded::load(&tcp::spec()).unwrap()),
            Some(("tcpstates", &[])),
        );
        stop.store(true, Ordering::Relaxed);
        drop(TcpStream::connect(addr));
        acceptor.join().unwrap();

        let dir = tempfile::tempdir_in("/var/tmp").unwrap();
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(dir.path().join("bench.bin"))
            .unwrap();
        let block = vec![0x5au8; 8192];
        let at = block.as_ptr().align_offset(4096);
        let mut offset = 0u64;
        compare(
            &mut g,
            "direct_write_4k",
            || {
                f.write_all_at(&block[at..at + 4096], offset).unwrap();
                offset = (offset + 4096) % (64 << 20);
            },
            || empty_on(&env, &biolatency::spec()),
            || loaded(Loaded::load(&biolatency::spec()).unwrap()),
            Some(("biolatency", &[])),
        );

        // XDP last: this thread moves to a private network namespace and counts UDP over its lo
        // (generic mode: lo has no native XDP).
        // SAFETY: only this thread's network namespace changes.
        unsafe { rustix::thread::unshare_unsafe(rustix::thread::UnshareFlags::NEWNET) }.unwrap();
        assert!(Command::new("ip").args(["link", "set", "lo", "up"]).status().unwrap().success());
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.connect(rx.local_addr().unwrap()).unwrap();
        let mut buf = [0u8; 64];
        // SAFETY: a valid NUL-terminated interface name.
        let lo = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        compare(
            &mut g,
            "udp_lo",
            || {
                tx.send(&[7; 64]).unwrap();
                rx.recv(&mut buf).unwrap();
            },
            || vec![hold(&env, Target::XdpGeneric(lo)).unwrap_or_else(|f| panic!("empty XDP: {}", f.detail))],
            || {
                let x = xdp_counter::XdpCounter::start("lo").unwrap();
                let id = x.attached().prog_id;
                (x, vec![id])
            },
            None,
        );
        g.finish();
    }

    /// Closes with SO_LINGER 0: a reset instead of FIN and TIME_WAIT.
    fn reset_close(s: TcpStream) {
        use std::os::fd::AsRawFd;
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: a valid socket and a correctly sized option value.
        let rc = unsafe {
            libc::setsockopt(
                s.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "SO_LINGER");
    }

    /// Our end of a pipe ping-pong (reads one pipe, writes the other) and the thread echoing back
    /// each byte written, which ends when our end is dropped.
    fn ping_pong_pair() -> (Duplex, std::thread::JoinHandle<()>) {
        let (mut echo_in, to_echo) = std::io::pipe().unwrap();
        let (from_echo, mut echo_out) = std::io::pipe().unwrap();
        let t = std::thread::spawn(move || {
            let mut byte = [0u8];
            while echo_in.read_exact(&mut byte).is_ok() {
                if echo_out.write_all(&byte).is_err() {
                    break;
                }
            }
        });
        (Duplex { r: from_echo, w: to_echo }, t)
    }

    /// Read one pipe, write the other.
    struct Duplex {
        r: std::io::PipeReader,
        w: std::io::PipeWriter,
    }

    impl Read for Duplex {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.r.read(buf)
        }
    }

    impl Write for Duplex {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.w.write(buf)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    criterion_group!(suite, benches);

    /// Ours (`hypermesh ebpf run PROGRAM`) and its libbpf-tools peer, each stopping by itself
    /// after a second, or sent SIGINT after one where the peer has no duration.
    const PEERS: [(&str, &[&str], bool); 5] = [
        ("runqlat", &["runqlat", "1", "1"], false),
        ("biolatency", &["biolatency", "1", "1"], false),
        ("syscalls", &["syscount", "-d", "1"], false),
        ("tcp", &["tcpstates"], true),
        ("exec", &["execsnoop"], true),
    ];

    /// Peak RSS (MiB, `ru_maxrss`) and CPU (ms, user + system) of one whole run of `program`,
    /// from `wait4`'s rusage; `None` when it could not start or failed.
    fn run_once(program: &str, args: &[&str], interrupt: bool) -> Option<(f64, f64)> {
        let child =
            Command::new(program).args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().ok()?;
        let pid = child.id() as i32;
        if interrupt {
            std::thread::sleep(Duration::from_secs(1));
            hypermesh_testkit::send_signal(child.id(), libc::SIGINT);
        }
        let mut status = 0;
        // SAFETY: an all-zero rusage is valid; wait4 fills it for our own child.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: pointers to our locals, for the child we spawned (reaped here, not by Child).
        if unsafe { libc::wait4(pid, &mut status, 0, &mut usage) } != pid {
            return None;
        }
        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0
            || interrupt && (libc::WIFSIGNALED(status) || libc::WIFEXITED(status));
        let ms = |t: libc::timeval| t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3;
        ok.then(|| (usage.ru_maxrss as f64 / 1024.0, ms(usage.ru_utime) + ms(usage.ru_stime)))
    }

    fn median(mut v: Vec<f64>) -> f64 {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    }

    /// The footprint table (`cargo bench -p hypermesh-ebpf --bench suite -- footprint`, root,
    /// after `cargo build --release -p hypermesh`): for each program, ours and its libbpf-tools
    /// peer started in alternation for `ROUNDS` rounds, each run lasting one second; median
    /// peak RSS and median CPU of the whole run (user + system: almost all of it start-up,
    /// since both sleep once attached). Ours is `$HYPERMESH_BIN` or target/release/hypermesh.
    pub fn footprint() {
        const ROUNDS: usize = 5;
        if !hypermesh_testkit::is_root() {
            eprintln!("SKIP: the footprint runs load programs and need root");
            return;
        }
        let ours = std::env::var("HYPERMESH_BIN").unwrap_or_else(|_| {
            concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/release/hypermesh").into()
        });
        if !std::path::Path::new(&ours).exists() {
            eprintln!("SKIP: {ours} is missing; build it with cargo build --release -p hypermesh");
            return;
        }
        println!(
            "footprint: median of {ROUNDS} alternated 1 s runs; peak RSS = ru_maxrss, CPU = user+sys of the whole run"
        );
        println!(
            "| program | peak RSS hypermesh | peak RSS libbpf-tools | CPU hypermesh | CPU libbpf-tools |"
        );
        println!("|---|---|---|---|---|");
        for (name, peer, interrupt) in PEERS {
            let tool = format!("/usr/sbin/{}", peer[0]);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                a.extend(run_once(&ours, &["ebpf", "run", name, "--duration", "1s"], false));
                b.extend(run_once(&tool, &peer[1..], interrupt));
            }
            let cell = |v: &[(f64, f64)], f: fn(&(f64, f64)) -> f64, unit: &str| {
                if v.is_empty() {
                    "failed".to_string()
                } else {
                    format!("{:.1} {unit}", median(v.iter().map(f).collect()))
                }
            };
            println!(
                "| {name} (peer {}) | {} | {} | {} | {} |",
                peer[0],
                cell(&a, |m| m.0, "MiB"),
                cell(&b, |m| m.0, "MiB"),
                cell(&a, |m| m.1, "ms"),
                cell(&b, |m| m.1, "ms"),
            );
        }
    }
}

/// `-- footprint` prints the footprint table only; anything else runs the criterion suite.
#[cfg(native_linux)]
fn main() {
    if std::env::args().skip(1).any(|a| a == "footprint") {
        native::footprint();
        return;
    }
    native::suite();
    criterion::Criterion::default().configure_from_args().final_summary();
}

/// Nothing to measure: this build has no native Linux backend.
#[cfg(not(native_linux))]
fn main() {}

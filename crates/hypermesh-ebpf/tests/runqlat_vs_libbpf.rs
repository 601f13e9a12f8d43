//! runqlat side by side with libbpf-tools' `/usr/sbin/runqlat` on the same workload: the same
//! order of magnitude in each busy bucket, and our per-event cost (bpf_stats run_time_ns /
//! run_cnt) no higher than theirs.

#![cfg(native_linux)]

mod common;

use hypermesh_ebpf::lifecycle::{self, ListedProgram};
use hypermesh_ebpf::programs::runqlat::Runqlat;
use std::io::{BufRead, BufReader, Lines};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The two comparisons run one at a time: each looks for their runqlat's programs by name.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const THEIRS: &str = "/usr/sbin/runqlat";

fn ready() -> bool {
    common::root_or_skip("runqlat comparison") && common::tool_or_skip(THEIRS, "libbpf-tools")
}

/// Their program names (tp_btf variant, and raw_tp variant on kernels without tp_btf).
const THEIR_NAMES: [&str; 6] = [
    "sched_wakeup",
    "sched_wakeup_new",
    "sched_switch",
    "handle_sched_wakeup",
    "handle_sched_wakeup_new",
    "handle_sched_switch",
];

fn their_programs(all: &[ListedProgram]) -> Vec<&ListedProgram> {
    // The kernel keeps 15 bytes of a name (`sched_wakeup_ne`).
    let known = |name: &str| THEIR_NAMES.iter().any(|n| &n[..n.len().min(15)] == name);
    all.iter().filter(|p| !p.ours && known(&p.name)).collect()
}

/// Starts their runqlat for one `secs`-second interval; returns once its three programs are
/// loaded (its stdout is a pipe, so its "Tracing..." line only arrives at exit).
fn start_theirs(secs: u32) -> (Child, Lines<BufReader<ChildStdout>>) {
    let before: Vec<u32> =
        their_programs(&lifecycle::list_programs().unwrap()).iter().map(|p| p.id).collect();
    let mut child = Command::new(THEIRS)
        .args([secs.to_string(), "1".to_string()])
        .stdout(Stdio::piped())
        .spawn()
        .expect("start runqlat");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let all = lifecycle::list_programs().unwrap();
        if their_programs(&all).iter().filter(|p| !before.contains(&p.id)).count() == 3 {
            let lines = BufReader::new(child.stdout.take().unwrap()).lines();
            return (child, lines);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("their runqlat did not load its programs within 10 s");
}

/// Parses `   low -> high   : count   |***|` lines into slots (slot k = [2^k, 2^(k+1))).
fn parse_hist(lines: impl Iterator<Item = String>) -> Vec<u64> {
    let mut slots = Vec::new();
    for l in lines {
        let Some((range, rest)) = l.split_once(':') else { continue };
        let Some((low, _)) = range.split_once("->") else { continue };
        let (Ok(low), Some(Ok(count))) =
            (low.trim().parse::<u64>(), rest.split_whitespace().next().map(str::parse::<u64>))
        else {
            continue;
        };
        let k = if low == 0 { 0 } else { low.ilog2() as usize };
        slots.resize(slots.len().max(k + 1), 0);
        slots[k] = count;
    }
    slots
}

#[test]
fn same_order_of_magnitude_per_busy_bucket() {
    if !ready() {
        return;
    }
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let ours = Runqlat::start().expect("start ours");
    let load = std::thread::spawn(|| common::scheduler_load(Duration::from_secs(5)));
    let (mut child, lines) = start_theirs(3);
    let before = ours.histogram().unwrap();
    let theirs = parse_hist(lines.map_while(Result::ok)); // until their process exits
    let after = ours.histogram().unwrap();
    child.wait().unwrap();
    load.join().unwrap();
    let mine: Vec<u64> = after.slots.iter().zip(&before.slots).map(|(a, b)| a - b).collect();
    let total: u64 = theirs.iter().sum();
    assert!(total > 100, "their runqlat saw too little: {theirs:?}");
    let mut busy = 0;
    for (k, &t) in theirs.iter().enumerate() {
        if t < 20 || t * 20 < total {
            continue; // not a busy bucket (under 5 % of events)
        }
        busy += 1;
        let m = mine.get(k).copied().unwrap_or(0);
        let ratio = m as f64 / t as f64;
        assert!(
            (0.1..=10.0).contains(&ratio),
            "bucket {k}: ours {m} vs theirs {t}\nours {mine:?}\ntheirs {theirs:?}"
        );
    }
    assert!(busy > 0, "no busy bucket to compare: {theirs:?}");
}

fn cost(progs: &[&ListedProgram]) -> (f64, u64) {
    let (ns, runs) = progs.iter().fold((0u64, 0u64), |(t, c), p| (t + p.run_time_ns, c + p.run_count));
    (ns as f64 / runs.max(1) as f64, runs)
}

/// Mean ns per run of `progs` (from `bpf_stats`) while `scheduler_load` runs for 2 s.
fn measure(pick: impl Fn(&[ListedProgram]) -> Vec<&ListedProgram>) -> (f64, u64) {
    // Stats are collected only while this fd is open; run time counts only from here on.
    let _stats = aya::sys::enable_stats(aya::sys::Stats::RunTime).expect("BPF_ENABLE_STATS");
    let start = lifecycle::list_programs().unwrap();
    common::scheduler_load(Duration::from_secs(2));
    let end = lifecycle::list_programs().unwrap();
    let (a, b) = (cost(&pick(&start)), cost(&pick(&end)));
    ((b.0 * b.1 as f64 - a.0 * a.1 as f64) / (b.1 - a.1).max(1) as f64, b.1 - a.1)
}

/// Each tool is measured alone (programs on the same tracepoint run one after the other, and
/// the second finds the task structs in cache, which would favour whichever attached later),
/// alternating twice on the same workload; the best round of each is compared.
#[test]
fn our_per_event_cost_is_not_higher() {
    if !ready() {
        return;
    }
    let _serial = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (mut ours_best, mut theirs_best) = ((f64::MAX, 0), (f64::MAX, 0));
    for _ in 0..2 {
        let rq = Runqlat::start().expect("start ours");
        let ids = rq.loaded().prog_ids();
        let o = measure(|all| all.iter().filter(|p| ids.contains(&p.id)).collect());
        drop(rq);
        let (mut child, _lines) = start_theirs(30);
        let t = measure(their_programs);
        child.kill().unwrap();
        child.wait().unwrap();
        eprintln!(
            "round: ours {:.1} ns/event ({} runs), theirs {:.1} ns/event ({} runs)",
            o.0, o.1, t.0, t.1
        );
        assert!(o.1 > 1000 && t.1 > 1000, "too few events to compare");
        ours_best = if o.0 < ours_best.0 { o } else { ours_best };
        theirs_best = if t.0 < theirs_best.0 { t } else { theirs_best };
    }
    assert!(
        ours_best.0 <= theirs_best.0,
        "ours {:.1} ns/event > theirs {:.1} ns/event",
        ours_best.0,
        theirs_best.0
    );
}

#[test]
fn parses_their_output() {
    let text = [
        "     usecs               : count    distribution",
        "         0 -> 1          : 17       |*   |",
        "         4 -> 7          : 83       |**  |",
    ];
    assert_eq!(parse_hist(text.iter().map(|s| s.to_string())), vec![17, 0, 83]);
}

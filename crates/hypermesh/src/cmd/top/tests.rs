//! Rendering tests: fixed states drawn on ratatui's `TestBackend`, checking visible text,
//! layout and colours.

use super::input::{Action, action};
use super::render::draw;
use super::state::{AssetTotals, CpuGroup, INTERVALS, Pane, State};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use hypermesh_assets::AssetKind;
use hypermesh_ebpf::maps::Log2Histogram;
use hypermesh_os::model::Gpu;
use hypermesh_os::usage::filesystems::{Filesystems, FsUsage};
use hypermesh_os::usage::loadavg::LoadAvg;
use hypermesh_os::usage::memory::MemoryNow;
use hypermesh_os::usage::rates::{
    CgroupReport, CpuModes, CpuRates, DiskTotals, MemoryRates, PerCpu, PsiRates, PsiReport, Rates,
};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use std::collections::BTreeMap;
use std::time::Duration;

const GIB: u64 = 1 << 30;

/// Usage with `n` CPUs, CPU `i` at `(i * 37) % 101` percent, 24 GiB of memory.
fn rates(n: u32) -> Rates {
    let per_cpu = (0..n)
        .map(|cpu| PerCpu { cpu, total_percent: Some(f64::from((cpu * 37) % 101)), modes: None })
        .collect();
    let psi = |v| PsiReport {
        some: Some(PsiRates { avg10: v, avg60: 0.0, avg300: 0.0, stall_percent: Some(v), total_us: 0 }),
        full: None,
        unavailable: None,
    };
    Rates {
        interval_seconds: 1.0,
        cpu: Some(CpuRates {
            total_percent: Some(42.0),
            modes: Some(CpuModes {
                user: 28.0,
                nice: 2.0,
                system: 9.0,
                softirq: 1.0,
                iowait: 2.0,
                ..CpuModes::default()
            }),
            per_cpu,
            online_cpus: n as usize,
            context_switches_per_sec: None,
            interrupts_per_sec: None,
            procs_running: None,
            procs_blocked: None,
        }),
        load: Some(LoadAvg { one: 1.5, five: 0.75, fifteen: 0.25 }),
        pressure: BTreeMap::from([
            ("cpu", psi(1.25)),
            ("memory", psi(0.0)),
            ("io", psi(12.5)),
            ("irq", psi(0.0)),
        ]),
        memory: Some(MemoryRates {
            now: Some(MemoryNow {
                total_bytes: 24 * GIB,
                used_bytes: 6 * GIB,
                available_bytes: 18 * GIB,
                cached_bytes: GIB,
                swap_total_bytes: 0,
                swap_used_bytes: 0,
            }),
            page_faults_per_sec: None,
            major_faults_per_sec: None,
            swap_in_pages_per_sec: None,
            swap_out_pages_per_sec: None,
            page_in_bytes_per_sec: None,
            page_out_bytes_per_sec: None,
        }),
        disks: Vec::new(),
        disk_totals: DiskTotals { read_bytes_per_sec: 3.0 * 1024.0 * 1024.0, ..DiskTotals::default() },
        network: Vec::new(),
        cgroup: CgroupReport {
            version: Some(hypermesh_os::usage::cgroup::CgroupVersion::V2),
            path: Some("/docker/abc".into()),
            cpu_limit_cpus: Some(1.5),
            memory_limit_bytes: Some(2 * GIB),
            memory_current_bytes: Some(GIB),
            ..CgroupReport::default()
        },
        errors: Vec::new(),
    }
}

fn state(n: u32) -> State {
    let mut s = State::new(Duration::from_secs(1), true);
    for _ in 0..3 {
        s.update(rates(n));
    }
    s.filesystems = Ok(Filesystems::default());
    s.gpus = Ok(Vec::new());
    s.assets = Ok(Vec::new());
    s.runqlat = Err("cannot load eBPF programs: it is not running as root".into());
    s.biolat = Err("no block I/O latency program".into());
    s
}

/// Draws `state` on a `w`x`h` test terminal: the rows as text, and the buffer.
fn screen(state: &State, w: u16, h: u16) -> (Vec<String>, Buffer) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    terminal.draw(|f| draw(f, state)).unwrap();
    let buf = terminal.backend().buffer().clone();
    let rows = (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol().to_string()).collect::<String>()).collect();
    (rows, buf)
}

fn find<'a>(rows: &'a [String], needle: &str) -> Option<(usize, &'a String)> {
    rows.iter().enumerate().find(|(_, r)| r.contains(needle))
}

fn has(rows: &[String], needle: &str) -> bool {
    find(rows, needle).is_some()
}

#[test]
fn two_cpus_in_80x24_show_bars_memory_pressure_and_throughput() {
    let (rows, _) = screen(&state(2), 80, 24);
    let all = rows.join("\n");
    assert!(
        rows[0].starts_with("top  2 CPUs  RAM 24.0 GiB  load 1.50 0.75 0.25  every 1s  [Overview]"),
        "{all}"
    );
    let (y, cpus) = find(&rows, "0 [").expect(&all);
    assert_eq!(y, 2, "{all}");
    assert!(cpus.contains(" 0%") && cpus.contains("1 [") && cpus.contains(" 37%"), "{all}");
    assert!(has(&rows, "CPU  42%  user 30%  system 10%  iowait 2%  steal 0%"), "{all}");
    let (mem_y, mem) = find(&rows, "Mem  [").expect(&all);
    assert!(mem.contains(" 25% 6.0 GiB / 24.0 GiB"), "{all}");
    assert_eq!(mem_y, 3, "right under the two CPUs' rows: {all}");
    assert!(has(&rows, "Swap none configured"), "{all}");
    assert!(has(&rows, "PSI avg10 some  cpu 1.25%  memory 0.00%  io 12.50%  irq 0.00%"), "{all}");
    assert!(has(&rows, "── throughput, last 3s"), "{all}");
    // The graphs share the 17 rows left: 4 each, the first row with the value, the second
    // with the peak, the bars full height.
    let (y, read) = find(&rows, "disk read").expect(&all);
    assert!(read.contains("3.0 MiB/s ███"), "{all}");
    assert!(rows[y + 1].contains("peak 3.0 MiB/s ███") && rows[y + 3].contains("███"), "{all}");
    let (y_write, write) = find(&rows, "disk write").expect(&all);
    assert_eq!(y_write, y + 4, "{all}");
    assert!(write.contains("0 B/s") && !write.contains('█') && !rows[y_write + 3].contains('█'), "{all}");
    let (y_tx, _) = find(&rows, "net tx").expect(&all);
    assert!(y_tx > y_write && y_tx < 24, "{all}");
}

#[test]
fn sixty_four_cpus_collapse_to_a_heat_strip_in_80x24_and_get_bars_when_large() {
    let (rows, _) = screen(&state(64), 80, 24);
    let all = rows.join("\n");
    assert!(rows[0].contains("64 CPUs"), "{all}");
    assert!(has(&rows, "(64 CPUs) avg"), "{all}");
    assert!(!has(&rows, "63 ["), "no bars in 80x24: {all}");
    assert!(has(&rows, "Mem  ["), "{all}");
    let (rows, _) = screen(&state(64), 200, 60);
    let all = rows.join("\n");
    assert!(has(&rows, "63 [") && has(&rows, "0  ["), "bars on a large terminal: {all}");
    assert!(!has(&rows, "(64 CPUs) avg"), "{all}");
}

#[test]
fn two_hundred_fifty_six_cpus_in_two_packages_fit_80x24() {
    let mut s = state(256);
    s.cpu_groups = vec![
        CpuGroup { name: "package 0".into(), cpus: (0..128).collect() },
        CpuGroup { name: "package 1".into(), cpus: (128..256).collect() },
    ];
    // Every CPU busy so that each one's cell is a visible block.
    let mut r = rates(256);
    if let Some(cpu) = &mut r.cpu {
        cpu.per_cpu.iter_mut().for_each(|p| p.total_percent = Some(60.0));
    }
    s.update(r);
    let (rows, _) = screen(&s, 80, 24);
    let all = rows.join("\n");
    let (y0, _) = find(&rows, "package 0 (128 CPUs) avg  60%").expect(&all);
    let (y1, _) = find(&rows, "package 1 (128 CPUs) avg  60%").expect(&all);
    assert_eq!(y1 - y0, 3, "128 cells in 80 columns take two rows: {all}");
    let cells: usize = rows.iter().map(|r| r.matches('▅').count()).sum();
    assert_eq!(cells, 256, "{all}");
    assert!(has(&rows, "Mem  [") && has(&rows, "net tx"), "{all}");
    let (rows, _) = screen(&s, 300, 80);
    assert!(has(&rows, "package 1 (128 CPUs)") && has(&rows, "255 ["), "bars when they fit");
}

#[test]
fn system_pane_without_gpus_says_so_and_highlights_nearly_full_filesystems() {
    let mut s = state(2);
    s.pane = Pane::System;
    let fs = |mount: &str, pct: f64| FsUsage {
        mount_point: mount.into(),
        fs_type: "ext4".into(),
        source: "/dev/vda".into(),
        total_bytes: 100 * GIB,
        used_bytes: (pct as u64) * GIB,
        free_bytes: (100 - pct as u64) * GIB,
        used_percent: Some(pct),
    };
    s.filesystems = Ok(Filesystems { mounts: vec![fs("/", 40.0), fs("/data", 95.0)], skipped: Vec::new() });
    s.assets = Ok(vec![AssetTotals { kind: AssetKind::Cpu, allocatable: 2000, allocated: 500, free: 1500 }]);
    let (rows, buf) = screen(&s, 80, 24);
    let all = rows.join("\n");
    assert!(rows[0].contains("[System]"), "{all}");
    let (y, full) = find(&rows, "/data").expect(&all);
    assert!(full.contains(" 95% 95.0 GiB / 100.0 GiB FULL"), "{all}");
    let (y_root, _) = find(&rows, "/     [").expect(&all);
    assert!(y < y_root, "nearly full first: {all}");
    let x = full.find("/data").unwrap() as u16;
    assert_eq!(buf[(x, y as u16)].fg, Color::Red, "{all}");
    assert!(has(&rows, "no GPUs detected"), "{all}");
    assert!(has(&rows, "v2 /docker/abc  cpu 1.50 CPUs  memory 1.0 GiB of 2.0 GiB"), "{all}");
    assert!(has(&rows, "cpu      allocatable          2  allocated        0.5  free        1.5"), "{all}");
}

#[test]
fn system_pane_with_a_gpu_shows_utilisation_memory_and_temperature() {
    let mut s = state(2);
    s.pane = Pane::System;
    s.gpus = Ok(vec![Gpu {
        pci_address: "0000:01:00.0".into(),
        model: Some("NVIDIA H100 80GB HBM3".into()),
        utilization_percent: Some(40.0),
        memory_used_bytes: Some(10 * GIB),
        memory_total_bytes: Some(80 * GIB),
        temperature_celsius: Some(62.0),
        ..Gpu::default()
    }]);
    let (rows, _) = screen(&s, 120, 30);
    let all = rows.join("\n");
    let (_, line) = find(&rows, "gpu0 [").expect(&all);
    assert!(line.contains(" 40% mem 10.0 GiB / 80.0 GiB 62°C NVIDIA H100 80GB HBM3"), "{all}");
    assert!(!has(&rows, "no GPUs detected"), "{all}");
}

#[test]
fn latency_pane_with_and_without_ebpf() {
    let mut s = state(2);
    s.pane = Pane::Latency;
    let (rows, _) = screen(&s, 80, 24);
    let all = rows.join("\n");
    assert!(has(&rows, "Run-queue latency (eBPF)"), "{all}");
    assert!(has(&rows, "unavailable: cannot load eBPF programs: it is not running as root"), "{all}");
    assert!(has(&rows, "unavailable: no block I/O latency program"), "{all}");
    s.runqlat = Ok(Log2Histogram { slots: vec![0, 10, 40, 5] });
    let (rows, _) = screen(&s, 80, 24);
    let all = rows.join("\n");
    assert!(has(&rows, "       2 -> 3        us       10 |"), "{all}");
    assert!(has(&rows, "       4 -> 7        us       40 |****"), "{all}");
    assert!(has(&rows, "       8 -> 15       us        5 |"), "{all}");
    assert!(!has(&rows, "0 -> 1 "), "empty leading slots skipped: {all}");
}

#[test]
fn no_color_draws_the_same_text_without_colours() {
    let mut s = state(64);
    let (coloured, buf) = screen(&s, 80, 24);
    assert!(buf.content.iter().any(|c| c.fg != Color::Reset));
    s.color = false;
    let (plain, buf) = screen(&s, 80, 24);
    assert_eq!(coloured, plain);
    assert!(buf.content.iter().all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
}

#[test]
fn help_box_and_waiting_frame() {
    let mut s = State::new(Duration::from_millis(500), false);
    let (rows, _) = screen(&s, 80, 24);
    assert!(rows[0].contains("every 500ms") && rows[1].starts_with("sampling..."), "{rows:?}");
    s.help = true;
    let (rows, _) = screen(&s, 80, 24);
    let all = rows.join("\n");
    assert!(
        has(&rows, "Keys") && has(&rows, "q, Ctrl-C  quit") && has(&rows, "Tab        next pane"),
        "{all}"
    );
    // A tiny terminal is drawn without panicking.
    screen(&state(256), 10, 3);
}

#[test]
fn keys_map_to_actions_and_intervals_step() {
    let key = |c, m| action(KeyEvent::new(c, m), false);
    assert_eq!(key(KeyCode::Char('q'), KeyModifiers::NONE), Some(Action::Quit));
    assert_eq!(key(KeyCode::Char('c'), KeyModifiers::CONTROL), Some(Action::Quit));
    assert_eq!(key(KeyCode::Char('c'), KeyModifiers::NONE), None);
    assert_eq!(key(KeyCode::Tab, KeyModifiers::NONE), Some(Action::NextPane));
    assert_eq!(key(KeyCode::Char('+'), KeyModifiers::SHIFT), Some(Action::Slower));
    assert_eq!(key(KeyCode::Char('-'), KeyModifiers::NONE), Some(Action::Faster));
    assert_eq!(key(KeyCode::Char('?'), KeyModifiers::SHIFT), Some(Action::ToggleHelp));
    assert_eq!(action(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE), true), Some(Action::ToggleHelp));
    let mut s = State::new(Duration::from_secs(1), false);
    s.step_interval(true);
    assert_eq!(s.interval, Duration::from_secs(2));
    (0..20).for_each(|_| s.step_interval(false));
    assert_eq!(s.interval, INTERVALS[0]);
    (0..20).for_each(|_| s.step_interval(true));
    assert_eq!(s.interval, INTERVALS[INTERVALS.len() - 1]);
    assert_eq!(Pane::Overview.next().next().next(), Pane::Overview);
}

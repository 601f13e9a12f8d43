//! What `top` shows, as plain data: rendering reads only this, so a frame is a pure function of
//! a [`State`] (and tests build states by hand).

use hypermesh_assets::AssetKind;
use hypermesh_ebpf::maps::Log2Histogram;
use hypermesh_os::model::Gpu;
use hypermesh_os::usage::Rates;
use hypermesh_os::usage::filesystems::Filesystems;
use std::collections::VecDeque;
use std::time::Duration;

/// Refresh intervals `+` and `-` step through.
pub const INTERVALS: [Duration; 7] = [
    Duration::from_millis(250),
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(30),
];

/// Points kept per throughput history (5 minutes at 1 s; wider terminals show more of it).
pub const HISTORY_POINTS: usize = 300;

/// The panes `Tab` cycles through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    /// CPUs, memory, pressure, disk and network throughput.
    Overview,
    /// Filesystems, GPUs, cgroup limits, assets.
    System,
    /// eBPF latency histograms.
    Latency,
}

impl Pane {
    /// All panes, in `Tab` order.
    pub const ALL: [Pane; 3] = [Pane::Overview, Pane::System, Pane::Latency];

    /// The pane after this one.
    pub fn next(self) -> Pane {
        let i = Pane::ALL.iter().position(|p| *p == self).unwrap_or(0);
        Pane::ALL[(i + 1) % Pane::ALL.len()]
    }

    /// Its name in the header.
    pub fn title(self) -> &'static str {
        match self {
            Pane::Overview => "Overview",
            Pane::System => "System",
            Pane::Latency => "Latency",
        }
    }
}

/// CPUs shown together: one package, or one core kind on a hybrid CPU.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuGroup {
    /// Label (`package 0`, `P-core`).
    pub name: String,
    /// Logical CPU numbers.
    pub cpus: Vec<u32>,
}

/// Recent throughput, oldest first, bytes per second.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// Bytes read from whole disks.
    pub disk_read: VecDeque<u64>,
    /// Bytes written to whole disks.
    pub disk_write: VecDeque<u64>,
    /// Bytes received on all interfaces but loopback.
    pub net_rx: VecDeque<u64>,
    /// Bytes sent on all interfaces but loopback.
    pub net_tx: VecDeque<u64>,
}

impl History {
    /// Appends one interval's throughput, dropping the oldest past [`HISTORY_POINTS`].
    pub fn push(&mut self, rates: &Rates) {
        let t = &rates.disk_totals;
        let net = |f: fn(&hypermesh_os::usage::rates::NetRates) -> Option<f64>| {
            rates.network.iter().filter(|n| n.name != "lo").filter_map(f).sum::<f64>()
        };
        let points = [
            (&mut self.disk_read, t.read_bytes_per_sec),
            (&mut self.disk_write, t.write_bytes_per_sec),
            (&mut self.net_rx, net(|n| n.rx_bytes_per_sec)),
            (&mut self.net_tx, net(|n| n.tx_bytes_per_sec)),
        ];
        for (series, value) in points {
            if series.len() == HISTORY_POINTS {
                series.pop_front();
            }
            series.push_back(value.max(0.0) as u64);
        }
    }
}

/// Allocatable, allocated and free amount of one asset kind, summed over its assets.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetTotals {
    /// The kind.
    pub kind: AssetKind,
    /// What may be handed out.
    pub allocatable: u64,
    /// What active allocations hold.
    pub allocated: u64,
    /// What is left.
    pub free: u64,
}

/// Everything a frame shows.
#[derive(Debug, Clone)]
pub struct State {
    /// Time between samples.
    pub interval: Duration,
    /// The pane shown.
    pub pane: Pane,
    /// Whether the help box is open.
    pub help: bool,
    /// Colours on (off when `NO_COLOR` is set).
    pub color: bool,
    /// How CPUs are grouped (empty: one group of all CPUs).
    pub cpu_groups: Vec<CpuGroup>,
    /// The last interval's usage (`None` before the first one ends).
    pub rates: Option<Rates>,
    /// Throughput history.
    pub history: History,
    /// Filesystem space, or why it is missing.
    pub filesystems: Result<Filesystems, String>,
    /// GPUs found at start, with live values where NVML gives them, or why there is no list.
    pub gpus: Result<Vec<Gpu>, String>,
    /// Asset manager totals per kind, or why they are missing.
    pub assets: Result<Vec<AssetTotals>, String>,
    /// Run-queue latency over the last interval (µs), or why it is missing.
    pub runqlat: Result<Log2Histogram, String>,
    /// Block I/O latency over the last interval (µs), or why it is missing.
    pub biolat: Result<Log2Histogram, String>,
}

/// The reason shown for a source before its first reading.
fn waiting<T>() -> Result<T, String> {
    Err("not read yet".into())
}

impl State {
    /// A state with nothing sampled yet.
    pub fn new(interval: Duration, color: bool) -> State {
        State {
            interval,
            pane: Pane::Overview,
            help: false,
            color,
            cpu_groups: Vec::new(),
            rates: None,
            history: History::default(),
            filesystems: waiting(),
            gpus: waiting(),
            assets: waiting(),
            runqlat: waiting(),
            biolat: waiting(),
        }
    }

    /// Takes one interval's usage.
    pub fn update(&mut self, rates: Rates) {
        self.history.push(&rates);
        self.rates = Some(rates);
    }

    /// Steps the interval through [`INTERVALS`] (`up`: longer).
    pub fn step_interval(&mut self, up: bool) {
        let i = INTERVALS.iter().position(|d| *d >= self.interval).unwrap_or(INTERVALS.len() - 1);
        let i = if up { (i + 1).min(INTERVALS.len() - 1) } else { i.saturating_sub(1) };
        self.interval = INTERVALS[i];
    }
}

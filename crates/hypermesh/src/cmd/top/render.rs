//! Layout and drawing: [`draw`] is a pure function of the [`State`].

use super::input::HELP;
use super::state::{CpuGroup, Pane, State};
use super::widgets::{self, NEARLY_FULL_PERCENT, alert, bar, fg, percent};
use crate::cmd::output::bytes;
use hypermesh_os::usage::PSI_RESOURCES;
use hypermesh_os::usage::rates::{CpuRates, Rates};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Sparkline, Wrap};
use std::time::Duration;

/// Narrowest CPU bar column (label, bar, percentage).
const CPU_COLUMN: u16 = 18;
/// Rows under the CPUs on the overview at least: memory, swap, PSI, a title, four graphs.
const OVERVIEW_BOTTOM: u16 = 8;

/// Draws the whole frame.
pub fn draw(frame: &mut Frame, state: &State) {
    let [header, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(frame.area());
    frame.render_widget(Paragraph::new(header_line(state)), header);
    match (&state.rates, state.pane) {
        (None, _) => frame.render_widget(Paragraph::new("sampling..."), body),
        (Some(rates), Pane::Overview) => overview(frame, body, state, rates),
        (Some(rates), Pane::System) => system(frame, body, state, rates),
        (Some(_), Pane::Latency) => latency(frame, body, state),
    }
    if state.help {
        help(frame, body, state.color);
    }
}

/// `top  2 CPUs  RAM 23.4 GiB  load 0.10 0.05 0.01  every 1s  [Overview]  ? help`
fn header_line(state: &State) -> Line<'static> {
    let mut parts = vec![Span::styled("top", Style::default().add_modifier(Modifier::BOLD))];
    if let Some(r) = &state.rates {
        if let Some(cpu) = &r.cpu {
            parts.push(Span::raw(format!("  {} CPUs", cpu.online_cpus)));
        }
        if let Some(m) = r.memory.as_ref().and_then(|m| m.now) {
            parts.push(Span::raw(format!("  RAM {}", bytes(m.total_bytes))));
        }
        if let Some(l) = r.load {
            parts.push(Span::raw(format!("  load {:.2} {:.2} {:.2}", l.one, l.five, l.fifteen)));
        }
    }
    parts.push(Span::raw(format!("  every {}", interval(state.interval))));
    parts.push(Span::styled(format!("  [{}]", state.pane.title()), fg(state.color, Color::Cyan)));
    parts.push(Span::raw("  ? help"));
    Line::from(parts)
}

fn interval(d: Duration) -> String {
    if d.subsec_millis() == 0 { format!("{}s", d.as_secs()) } else { format!("{}ms", d.as_millis()) }
}

fn overview(frame: &mut Frame, area: Rect, state: &State, rates: &Rates) {
    // The CPUs take what they need (at most what leaves the rows below); the throughput
    // graphs share whatever height is left.
    let room = area.height.saturating_sub(OVERVIEW_BOTTOM).max(1);
    let cpu_lines = match &rates.cpu {
        Some(cpu) => cpu_lines(state, cpu, area.width, room),
        None => vec![Line::raw(unavailable("CPU", rates, "cpu"))],
    };
    let cpu_height = (cpu_lines.len() as u16).min(room);
    let [cpus, mem, swap, psi, title, graphs] = Layout::vertical([
        Constraint::Length(cpu_height),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(cpu_lines), cpus);
    let [disk_r, disk_w, net_rx, net_tx] = Layout::vertical([Constraint::Ratio(1, 4); 4]).areas(graphs);
    let width = area.width as usize;
    match rates.memory.as_ref().and_then(|m| m.now) {
        Some(m) => {
            let pct = |used: u64, total: u64| (total > 0).then(|| used as f64 * 100.0 / total as f64);
            let text = |used, total| format!("{} / {}", bytes(used), bytes(total));
            let mem_pct = pct(m.used_bytes, m.total_bytes);
            let line = bar(
                "Mem",
                5,
                mem_pct,
                &format!("{} {}", percent(mem_pct), text(m.used_bytes, m.total_bytes)),
                width,
                state.color,
            );
            frame.render_widget(Paragraph::new(line), mem);
            let swap_line = if m.swap_total_bytes == 0 {
                Line::raw("Swap none configured")
            } else {
                let p = pct(m.swap_used_bytes, m.swap_total_bytes);
                bar(
                    "Swap",
                    5,
                    p,
                    &format!("{} {}", percent(p), text(m.swap_used_bytes, m.swap_total_bytes)),
                    width,
                    state.color,
                )
            };
            frame.render_widget(Paragraph::new(swap_line), swap);
        }
        None => frame.render_widget(Paragraph::new(unavailable("Mem", rates, "memory")), mem),
    }
    frame.render_widget(Paragraph::new(psi_line(rates, state.color)), psi);
    let span = state.interval.saturating_mul(state.history.disk_read.len().min(width) as u32);
    let title_text = format!("── throughput, last {} ", short_duration(span));
    frame.render_widget(Paragraph::new(format!("{title_text:─<width$}")), title);
    let h = &state.history;
    for (area, name, series, color) in [
        (disk_r, "disk read", &h.disk_read, Color::Blue),
        (disk_w, "disk write", &h.disk_write, Color::Magenta),
        (net_rx, "net rx", &h.net_rx, Color::Green),
        (net_tx, "net tx", &h.net_tx, Color::Yellow),
    ] {
        throughput_row(frame, area, name, series, fg(state.color, color));
    }
}

fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 120 { format!("{}m", s / 60) } else { format!("{s}s") }
}

/// `disk read  12.3 MiB/s ▁▂▅█▃`: the current value and the history of the last `width` points.
fn throughput_row(
    frame: &mut Frame,
    area: Rect,
    name: &str,
    series: &std::collections::VecDeque<u64>,
    style: Style,
) {
    let now = series.back().copied().unwrap_or(0);
    let label = format!("{name:<11}{:>12} ", format!("{}/s", bytes(now)));
    let [l, s] = Layout::horizontal([Constraint::Length(label.len() as u16), Constraint::Min(0)]).areas(area);
    let skip = series.len().saturating_sub(s.width as usize);
    let data: Vec<u64> = series.iter().skip(skip).copied().collect();
    let peak = data.iter().copied().max().unwrap_or(0);
    // The peak shown goes on a second row when the graph is taller than one.
    let peak_label = format!("{:>23} ", format!("peak {}/s", bytes(peak)));
    frame.render_widget(Paragraph::new(vec![Line::raw(label), Line::raw(peak_label)]), l);
    // An idle series stays flat: the scale is at least 1 B/s.
    frame.render_widget(Sparkline::default().data(data).max(peak.max(1)).style(style), s);
}

/// `PSI some avg10  cpu 0.00  memory 0.00  io 0.00  irq -`, or why it is missing.
fn psi_line(rates: &Rates, color: bool) -> Line<'static> {
    let mut spans = vec![Span::raw("PSI avg10 some")];
    let mut reasons = Vec::new();
    for r in PSI_RESOURCES {
        match rates.pressure.get(r).and_then(|p| p.some.map(|s| s.avg10)) {
            Some(v) => spans.push(Span::styled(
                format!("  {r} {v:.2}%"),
                if v >= 10.0 { alert(color) } else { Style::default() },
            )),
            None => {
                spans.push(Span::raw(format!("  {r} -")));
                if let Some(why) = rates.pressure.get(r).and_then(|p| p.unavailable.clone()) {
                    reasons.push(why);
                }
            }
        }
    }
    if reasons.len() == PSI_RESOURCES.len() {
        return Line::raw(format!("PSI unavailable: {}", reasons[0]));
    }
    Line::from(spans)
}

/// `<what> unavailable: <reason>` from the rates' errors.
fn unavailable(what: &str, rates: &Rates, source: &str) -> String {
    let why =
        rates.errors.iter().find(|e| e.source == source).map(|e| e.message.as_str()).unwrap_or("not read");
    format!("{what} unavailable: {why}")
}

/// Per-CPU bars grouped by package or core kind, or a heat strip when bars do not fit in
/// `height` rows.
fn cpu_lines(state: &State, cpu: &CpuRates, width: u16, height: u16) -> Vec<Line<'static>> {
    let load = |id: u32| {
        cpu.per_cpu.binary_search_by_key(&id, |p| p.cpu).ok().and_then(|i| cpu.per_cpu[i].total_percent)
    };
    let all;
    let groups: &[CpuGroup] = if state.cpu_groups.is_empty() {
        all = [CpuGroup { name: "all".into(), cpus: cpu.per_cpu.iter().map(|p| p.cpu).collect() }];
        &all
    } else {
        &state.cpu_groups
    };
    let titled = groups.len() > 1;
    let width = width.max(1);
    let widest = groups.iter().map(|g| g.cpus.len()).max().unwrap_or(1).max(1);
    let columns = ((width / CPU_COLUMN).max(1) as usize).min(widest);
    let bar_rows: usize = groups.iter().map(|g| g.cpus.len().div_ceil(columns) + usize::from(titled)).sum();
    let modes = cpu.modes.map(|m| {
        format!(
            "  user {:.0}%  system {:.0}%  iowait {:.0}%  steal {:.0}%",
            m.user + m.nice,
            m.system + m.irq + m.softirq,
            m.iowait,
            m.steal
        )
    });
    let mut lines =
        vec![Line::raw(format!("CPU {}{}", percent(cpu.total_percent), modes.unwrap_or_default()))];
    let strip = bar_rows + 1 > height as usize;
    for g in groups {
        let loads: Vec<Option<f64>> = g.cpus.iter().map(|c| load(*c)).collect();
        if titled || strip {
            let known: Vec<f64> = loads.iter().flatten().copied().collect();
            let avg = (!known.is_empty()).then(|| known.iter().sum::<f64>() / known.len() as f64);
            let name = if titled { format!("{} ", g.name) } else { String::new() };
            lines.push(Line::styled(
                format!("{name}({} CPUs) avg {}", g.cpus.len(), percent(avg)),
                Style::default().add_modifier(Modifier::BOLD),
            ));
        }
        if strip {
            lines.extend(widgets::heat_strip(&loads, width as usize, state.color));
            continue;
        }
        let col_width = (width as usize) / columns;
        let label_width = format!("{}", g.cpus.iter().max().copied().unwrap_or(0)).len() + 1;
        for row in g.cpus.chunks(columns).zip(loads.chunks(columns)) {
            let mut spans = Vec::new();
            for (id, p) in row.0.iter().zip(row.1) {
                spans.extend(
                    bar(&id.to_string(), label_width, *p, &percent(*p), col_width - 1, state.color).spans,
                );
                spans.push(Span::raw(" "));
            }
            lines.push(Line::from(spans));
        }
    }
    lines
}

fn system(frame: &mut Frame, area: Rect, state: &State, rates: &Rates) {
    let gpu_rows = match &state.gpus {
        Ok(g) if !g.is_empty() => g.len() as u16,
        _ => 1,
    };
    let asset_rows = state.assets.as_ref().map(|a| a.len().max(1) as u16).unwrap_or(1);
    let [fs, gpus, cgroup, assets] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(gpu_rows + 2),
        Constraint::Length(3),
        Constraint::Length(asset_rows + 2),
    ])
    .areas(area);
    let inner = |a: Rect| a.width.saturating_sub(2) as usize;
    frame.render_widget(
        Paragraph::new(filesystem_lines(state, inner(fs))).block(Block::bordered().title("Filesystems")),
        fs,
    );
    frame.render_widget(
        Paragraph::new(gpu_lines(state, inner(gpus))).block(Block::bordered().title("GPUs")),
        gpus,
    );
    frame.render_widget(
        Paragraph::new(cgroup_line(rates)).wrap(Wrap { trim: true }).block(Block::bordered().title("Cgroup")),
        cgroup,
    );
    let asset_lines: Vec<Line> = match &state.assets {
        Ok(totals) if totals.is_empty() => vec![Line::raw("no assets")],
        Ok(totals) => totals
            .iter()
            .map(|t| {
                Line::raw(format!(
                    "{:<8} allocatable {:>10}  allocated {:>10}  free {:>10}",
                    t.kind.name(),
                    t.kind.format_amount(t.allocatable),
                    t.kind.format_amount(t.allocated),
                    t.kind.format_amount(t.free)
                ))
            })
            .collect(),
        Err(why) => vec![Line::raw(format!("unavailable: {why}"))],
    };
    frame.render_widget(Paragraph::new(asset_lines).block(Block::bordered().title("Assets")), assets);
}

/// One bar per filesystem, nearly full ones first and highlighted.
fn filesystem_lines(state: &State, width: usize) -> Vec<Line<'static>> {
    let fs = match &state.filesystems {
        Ok(fs) => fs,
        Err(why) => return vec![Line::raw(format!("unavailable: {why}"))],
    };
    let mut mounts: Vec<_> = fs.mounts.iter().collect();
    mounts.sort_by(|a, b| b.used_percent.unwrap_or(0.0).total_cmp(&a.used_percent.unwrap_or(0.0)));
    let label = mounts.iter().map(|m| m.mount_point.chars().count()).max().unwrap_or(1).clamp(1, 24) + 1;
    mounts
        .iter()
        .map(|m| {
            let full = m.used_percent.is_some_and(|p| p >= NEARLY_FULL_PERCENT);
            let text = format!(
                "{} {} / {}{}",
                percent(m.used_percent),
                bytes(m.used_bytes),
                bytes(m.used_bytes + m.free_bytes),
                if full { " FULL" } else { "" }
            );
            let line = bar(&m.mount_point, label, m.used_percent, &text, width, state.color);
            if full { line.patch_style(alert(state.color)) } else { line }
        })
        .collect()
}

fn gpu_lines(state: &State, width: usize) -> Vec<Line<'static>> {
    match &state.gpus {
        Err(why) => vec![Line::raw(format!("unavailable: {why}"))],
        Ok(gpus) if gpus.is_empty() => vec![Line::raw("no GPUs detected")],
        Ok(gpus) => gpus
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mem = match (g.memory_used_bytes, g.memory_total_bytes) {
                    (Some(u), Some(t)) => format!("mem {} / {}", bytes(u), bytes(t)),
                    (None, Some(t)) => format!("mem ? / {}", bytes(t)),
                    _ => "mem ?".into(),
                };
                let temp = g.temperature_celsius.map(|t| format!("{t:.0}°C")).unwrap_or_else(|| "-°C".into());
                let name =
                    g.model.clone().or_else(|| g.vendor.clone()).unwrap_or_else(|| g.pci_address.clone());
                let text = format!("{} {mem} {temp} {name}", percent(g.utilization_percent));
                bar(&format!("gpu{i}"), 5, g.utilization_percent, &text, width, state.color)
            })
            .collect(),
    }
}

/// The process's cgroup limits in one line.
fn cgroup_line(rates: &Rates) -> String {
    let c = &rates.cgroup;
    if let Some(why) = &c.unavailable {
        return format!("unavailable: {why}");
    }
    let version = match c.version {
        Some(v) => format!("{v:?}").to_lowercase(),
        None => "?".into(),
    };
    let cpu = c.cpu_limit_cpus.map(|n| format!("{n:.2} CPUs")).unwrap_or_else(|| "no limit".into());
    let mem = match (c.memory_limit_bytes, c.memory_current_bytes) {
        (Some(l), Some(u)) => format!("{} of {}", bytes(u), bytes(l)),
        (Some(l), None) => bytes(l),
        (None, _) => "no limit".into(),
    };
    format!(
        "{version} {}  cpu {cpu}  memory {mem}  cpuset {}",
        c.path.as_deref().unwrap_or("?"),
        c.cpuset.as_deref().unwrap_or("-")
    )
}

fn latency(frame: &mut Frame, area: Rect, state: &State) {
    let [rq, bio] = if area.width >= 140 {
        Layout::horizontal([Constraint::Ratio(1, 2); 2]).areas(area)
    } else {
        Layout::vertical([Constraint::Ratio(2, 3), Constraint::Ratio(1, 3)]).areas(area)
    };
    for (area, title, hist) in
        [(rq, "Run-queue latency (eBPF)", &state.runqlat), (bio, "Block I/O latency (eBPF)", &state.biolat)]
    {
        let width = area.width.saturating_sub(2) as usize;
        let lines = match hist {
            Ok(h) => widgets::histogram(&h.slots, "us", width, state.color),
            Err(why) => vec![Line::styled(format!("unavailable: {why}"), fg(state.color, Color::Yellow))],
        };
        frame.render_widget(
            Paragraph::new(lines).wrap(Wrap { trim: false }).block(Block::bordered().title(title)),
            area,
        );
    }
}

fn help(frame: &mut Frame, area: Rect, color: bool) {
    let width = 56.min(area.width);
    let height = (HELP.len() as u16 + 2).min(area.height);
    let box_area =
        Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    let lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![Span::styled(format!("{k:<11}"), fg(color, Color::Cyan)), Span::raw(*what)])
        })
        .collect();
    frame.render_widget(Clear, box_area);
    frame.render_widget(Paragraph::new(lines).block(Block::bordered().title("Keys")), box_area);
}

//! Text widgets drawn as ratatui lines: bars, the CPU heat strip, latency histograms. They are
//! readable without colour (`NO_COLOR`): the level is in the characters, colour only repeats it.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

/// Levels of the heat strip, idle to busy.
const HEAT: [char; 9] = [' ', '▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Filesystems at or above this used percentage are highlighted.
pub const NEARLY_FULL_PERCENT: f64 = 90.0;

/// `fg` when colours are on, no style otherwise.
pub fn fg(color: bool, c: Color) -> Style {
    if color { Style::default().fg(c) } else { Style::default() }
}

/// Colour of a load level: green, yellow from 50 %, red from 80 %.
pub fn level(color: bool, percent: f64) -> Style {
    fg(
        color,
        if percent >= 80.0 {
            Color::Red
        } else if percent >= 50.0 {
            Color::Yellow
        } else {
            Color::Green
        },
    )
}

/// Bold, and red when colours are on: for things needing attention.
pub fn alert(color: bool) -> Style {
    fg(color, Color::Red).add_modifier(Modifier::BOLD)
}

/// A labelled bar `label [|||||     ] text` of total `width` columns (`percent` `None`: unknown,
/// drawn empty with `?`).
pub fn bar(
    label: &str,
    label_width: usize,
    percent: Option<f64>,
    text: &str,
    width: usize,
    color: bool,
) -> Line<'static> {
    let inner = width.saturating_sub(label_width + text.chars().count() + 3).max(1);
    let filled =
        percent.map(|p| ((p.clamp(0.0, 100.0) / 100.0) * inner as f64).round() as usize).unwrap_or(0);
    let style = percent.map(|p| level(color, p)).unwrap_or_default();
    Line::from(vec![
        Span::raw(format!("{label:<label_width$.label_width$}[")),
        Span::styled("|".repeat(filled.min(inner)), style),
        Span::raw(format!("{:1$}] ", "", inner - filled.min(inner))),
        Span::raw(text.to_string()),
    ])
}

/// Percent as shown next to a bar (`-` unknown).
pub fn percent(p: Option<f64>) -> String {
    p.map(|p| format!("{p:>3.0}%")).unwrap_or_else(|| "  -".into())
}

/// One heat-strip cell per CPU, wrapped to `width` columns: a block whose height is the load
/// (`·` for a CPU without a reading: offline or new).
pub fn heat_strip(loads: &[Option<f64>], width: usize, color: bool) -> Vec<Line<'static>> {
    loads
        .chunks(width.max(1))
        .map(|row| {
            Line::from(
                row.iter()
                    .map(|p| match p {
                        Some(p) => {
                            let i = ((p.clamp(0.0, 100.0) / 100.0) * (HEAT.len() - 1) as f64).ceil() as usize;
                            Span::styled(HEAT[i].to_string(), level(color, *p))
                        }
                        None => Span::raw("·"),
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .collect()
}

/// A log2 latency histogram as lines `low -> high unit : count |****|`, from the first to the
/// last non-empty slot, the bar scaled to `width`; one line saying so when it is empty.
pub fn histogram(slots: &[u64], unit: &str, width: usize, color: bool) -> Vec<Line<'static>> {
    let (Some(first), Some(last)) = (slots.iter().position(|c| *c > 0), slots.iter().rposition(|c| *c > 0))
    else {
        return vec![Line::raw(format!("no events in the last interval ({unit})"))];
    };
    let max = slots[first..=last].iter().copied().max().unwrap_or(1).max(1);
    let bar_width = width.saturating_sub(36).max(4);
    (first..=last)
        .map(|k| {
            let (low, high) = hypermesh_ebpf::maps::Log2Histogram::bounds(k);
            let count = slots[k];
            let n = ((count as u128 * bar_width as u128).div_ceil(max as u128)) as usize;
            Line::from(vec![
                Span::raw(format!("{low:>8} -> {high:<8} {unit} {count:>8} |")),
                Span::styled("*".repeat(n), fg(color, Color::Cyan)),
                Span::raw(format!("{:1$}|", "", bar_width - n.min(bar_width))),
            ])
        })
        .collect()
}

/// The text of a line (for tests and width checks).
#[cfg(test)]
pub fn text(line: &Line<'_>) -> String {
    line.spans.iter().map(|s| s.content.as_ref()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_fills_in_proportion_and_keeps_its_width() {
        let l = bar("cpu0", 6, Some(50.0), " 50%", 33, false);
        let t = text(&l);
        assert_eq!(t.chars().count(), 33, "{t:?}");
        assert_eq!(t.matches('|').count(), 10, "{t:?}");
        assert!(t.starts_with("cpu0  [|||||") && t.ends_with("]  50%"), "{t:?}");
        assert_eq!(text(&bar("x", 2, None, "  -", 20, false)).matches('|').count(), 0);
    }

    #[test]
    fn heat_strip_wraps_and_marks_unknown() {
        let lines = heat_strip(&[Some(0.0), Some(100.0), None, Some(50.0), Some(10.0)], 3, false);
        assert_eq!(lines.iter().map(text).collect::<Vec<_>>(), [" █·", "▄▁"]);
    }

    #[test]
    fn histogram_spans_non_empty_slots() {
        let lines: Vec<String> = histogram(&[0, 4, 8, 0], "us", 60, false).iter().map(text).collect();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].starts_with("       2 -> 3        us        4 |"), "{lines:?}");
        assert_eq!(lines[1].matches('*').count(), 24);
        assert_eq!(lines[0].matches('*').count(), 12);
        assert_eq!(text(&histogram(&[0, 0], "us", 60, false)[0]), "no events in the last interval (us)");
    }
}

//! Keys to actions.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave (`q`, `Esc` outside help, Ctrl-C).
    Quit,
    /// Next pane (`Tab`).
    NextPane,
    /// Longer interval (`+`).
    Slower,
    /// Shorter interval (`-`).
    Faster,
    /// Open or close the help box (`?`; `Esc` closes it).
    ToggleHelp,
}

/// The action of a key press, if any (`help_open`: `Esc` then closes the help box).
pub fn action(key: KeyEvent, help_open: bool) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    match key.code {
        KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => Some(Action::Quit),
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Esc if help_open => Some(Action::ToggleHelp),
        KeyCode::Esc => Some(Action::Quit),
        KeyCode::Tab => Some(Action::NextPane),
        KeyCode::Char('+') | KeyCode::Char('=') => Some(Action::Slower),
        KeyCode::Char('-') | KeyCode::Char('_') => Some(Action::Faster),
        KeyCode::Char('?') | KeyCode::Char('h') => Some(Action::ToggleHelp),
        _ => None,
    }
}

/// The keys, for the help box.
pub const HELP: [(&str, &str); 5] = [
    ("q, Ctrl-C", "quit"),
    ("Tab", "next pane (Overview, System, Latency)"),
    ("+ / -", "longer / shorter refresh interval"),
    ("?", "this help (Esc closes)"),
    ("NO_COLOR", "set it to draw without colours"),
];

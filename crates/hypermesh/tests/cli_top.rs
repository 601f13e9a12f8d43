//! End to end: `hypermesh top` in a tmux pane (private socket), first frame checked against
//! `hypermesh profile`, then `q` must end it and give the terminal back.

#![cfg(native_linux)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_hypermesh");

/// A tmux server on its own socket, killed when dropped (also when an assertion fails).
struct Tmux {
    socket: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        Command::new("tmux").arg("-L").arg(&self.socket).args(args).output().expect("run tmux")
    }

    fn capture(&self) -> String {
        String::from_utf8_lossy(&self.cmd(&["capture-pane", "-p", "-t", "top"]).stdout).into_owned()
    }

    fn format(&self, format: &str) -> String {
        let out = self.cmd(&["display-message", "-p", "-t", "top", format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Polls the pane until `done` holds for its text, or panics with the last capture.
    fn wait_for(&self, what: &str, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let text = self.capture();
            if done(&text) {
                return text;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "timed out waiting for {what}; pane:\n{text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-L").arg(&self.socket).arg("kill-server").output();
    }
}

/// The status printed after `marker` (`marker=$?` as typed has none yet).
fn exit_status(pane: &str, marker: &str) -> Option<i32> {
    pane.match_indices(marker).find_map(|(i, _)| {
        let rest = &pane[i + marker.len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    })
}

/// IEC size as `top` prints it (one decimal, `GiB`).
fn iec(n: u64) -> String {
    let mut value = n as f64;
    let mut unit = 0;
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{n} B") } else { format!("{value:.1} {}", units[unit]) }
}

/// Online CPUs and MemTotal as `hypermesh profile` reports them.
fn profile_facts() -> (usize, u64) {
    let out = Command::new(BIN)
        .args(["profile", "--json", "--section", "cpu,memory"])
        .env_remove("HYPERMESH_ROOT")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("profile JSON");
    let cpus = v["cpu"]["online"].as_array().expect("cpu.online").len();
    let mem = v["memory"]["total_bytes"].as_u64().expect("memory.total_bytes");
    (cpus, mem)
}

#[test]
fn top_in_tmux_shows_the_profile_figures_and_q_restores_the_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        hypermesh_testkit::skip("tmux is not installed");
        return;
    }
    let (cpus, mem) = profile_facts();
    let state = tempfile::tempdir().unwrap();
    let tmux = Tmux { socket: format!("hypermesh-top-test-{}", std::process::id()) };
    let shell = "env -i PATH=/usr/bin:/bin TERM=xterm-256color sh";
    let started =
        tmux.cmd(&["-f", "/dev/null", "new-session", "-d", "-s", "top", "-x", "100", "-y", "30", shell]);
    assert!(started.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&started.stderr));
    // The output differs from the typed command, so the echoed input does not count.
    tmux.cmd(&["send-keys", "-t", "top", "echo shell-before-$((40 + 2))", "Enter"]);
    tmux.wait_for("the shell", |t| t.contains("shell-before-42"));
    let line = format!(
        "HYPERMESH_STATE_DIR={} {BIN} top; echo top-exited-with=$?",
        Path::new(state.path()).display()
    );
    tmux.cmd(&["send-keys", "-t", "top", &line, "Enter"]);

    let frame = tmux.wait_for("the first frame", |t| t.lines().next().is_some_and(|l| l.contains(" CPUs ")));
    let header = frame.lines().next().unwrap_or_default();
    assert!(header.starts_with(&format!("top  {cpus} CPUs  RAM {}  load ", iec(mem))), "{frame}");
    assert!(frame.contains("Mem  [") && frame.contains("disk read"), "{frame}");
    assert_eq!(tmux.format("#{alternate_on}"), "1", "top draws on the alternate screen");

    tmux.cmd(&["send-keys", "-t", "top", "Tab"]);
    tmux.wait_for("the System pane", |t| t.contains("[System]") && t.contains("Filesystems"));
    tmux.cmd(&["send-keys", "-t", "top", "q"]);
    let after = tmux.wait_for("top to exit", |t| exit_status(t, "top-exited-with=").is_some());
    assert_eq!(exit_status(&after, "top-exited-with="), Some(0), "{after}");
    assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
    assert!(after.contains("shell-before-42"), "the shell's screen is back: {after}");
    assert!(!after.contains("[System]"), "no frame left behind: {after}");
    assert_eq!(tmux.format("#{pane_current_command}"), "sh", "top is gone");

    // Ctrl-C (a key in raw mode, not a signal) ends it the same way.
    tmux.cmd(&["send-keys", "-t", "top", "clear", "Enter"]);
    tmux.cmd(&["send-keys", "-t", "top", &line.replace("top-exited", "top-again"), "Enter"]);
    tmux.wait_for("the second first frame", |t| t.lines().next().is_some_and(|l| l.contains(" CPUs ")));
    tmux.cmd(&["send-keys", "-t", "top", "C-c"]);
    let after = tmux.wait_for("top to exit on Ctrl-C", |t| exit_status(t, "top-again-with=").is_some());
    assert_eq!(exit_status(&after, "top-again-with="), Some(0), "{after}");
    assert_eq!(tmux.format("#{alternate_on}"), "0", "alternate screen left");
}

//! Why a hook variant was passed over: the cause, decided on the errno (never on message text),
//! the sentence shown for it, and the fix to suggest when every variant failed.

use super::Variant;
use crate::error::Error;

/// Where the kernel's kprobe PMU appears when it has kprobes.
const KPROBE_PMU: &str = "/sys/bus/event_source/devices/kprobe";

/// What made a variant fail, as far as the advice depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cause {
    /// EPERM: policy refused it (kernel lockdown, a security module).
    Denied,
    /// The variant needs the kernel's BTF and there is none.
    NoBtf,
    /// A kprobe failed with ENOENT on a kernel without the kprobe PMU (CONFIG_KPROBES off).
    NoKprobes,
    /// Anything else: the reason speaks for itself.
    Other,
}

impl Cause {
    /// The cause of `e`, the failure of variant `v`, from its errno; `has_kprobe_pmu` tells
    /// a kernel without kprobes apart from a missing function (both ENOENT).
    pub(super) fn of(v: &Variant, e: &Error, has_kprobe_pmu: impl FnOnce() -> bool) -> Cause {
        match e.errno() {
            Some(libc::EPERM) => Cause::Denied,
            Some(libc::ENOENT) if matches!(v, Variant::Kprobe { .. }) && !has_kprobe_pmu() => {
                Cause::NoKprobes
            }
            _ => Cause::Other,
        }
    }

    /// What the cause means, appended to the failure's own text.
    fn meaning(self) -> &'static str {
        match self {
            Cause::Denied => {
                ": refused by kernel lockdown (/sys/kernel/security/lockdown) or a security module"
            }
            Cause::NoKprobes => ": this kernel has no kprobes (CONFIG_KPROBES off)",
            Cause::NoBtf | Cause::Other => "",
        }
    }
}

/// A variant's failure: its cause and one sentence naming the errno and what it means.
pub(super) fn refusal(v: &Variant, e: &Error) -> (Cause, String) {
    let cause = Cause::of(v, e, || std::path::Path::new(KPROBE_PMU).exists());
    (cause, format!("{}{}", describe(e), cause.meaning()))
}

/// The failure of a variant that needs BTF on a kernel without it.
pub(super) fn no_btf(v: &Variant) -> (Cause, String) {
    let why = if v.kind() == "raw_tracepoint" { ", which this program's CO-RE reads need" } else { "" };
    (Cause::NoBtf, format!("the kernel has no BTF (/sys/kernel/btf/vmlinux){why}"))
}

/// The fix to suggest when no variant of a hook attached, from the causes collected.
pub(super) fn hint(causes: &[Cause]) -> &'static str {
    if !causes.is_empty() && causes.iter().all(|c| *c == Cause::Denied) {
        "the kernel refused every variant with EPERM: kernel lockdown (see /sys/kernel/security/lockdown) or a security module forbids it; boot with lockdown=none or ask the administrator"
    } else if causes.contains(&Cause::NoBtf) {
        "this kernel has no BTF and the BTF-free variants failed too; use a kernel built with CONFIG_DEBUG_INFO_BTF=y"
    } else {
        "see the reason given for each variant"
    }
}

/// The failure's text: the kernel's cause and the verifier's last line for a rejected program,
/// else the error with its causes.
fn describe(e: &Error) -> String {
    match e {
        Error::Rejected { cause, log, .. } => {
            let first = log.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
            if first.is_empty() { cause.clone() } else { format!("{cause} ({first})") }
        }
        other => with_causes(other),
    }
}

/// An error and each cause below it that its message does not already show (aya's file errors
/// name the file and keep the errno as the cause).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let part = c.to_string();
        if !text.contains(&part) {
            text = format!("{text}: {part}");
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const KPROBE: Variant = Variant::Kprobe { prog: "p", func: "f" };

    #[test]
    fn hints_name_the_cause() {
        assert!(hint(&[Cause::Denied, Cause::Denied]).contains("lockdown"));
        assert!(hint(&[Cause::NoBtf, Cause::Denied]).contains("CONFIG_DEBUG_INFO_BTF"));
        assert!(hint(&[Cause::Other, Cause::Denied]).contains("see the reason"));
        assert!(hint(&[]).contains("see the reason"));
    }

    /// aya's file error (here a stand-in) shows the file only; the reason adds the errno and
    /// what it means, decided on the errno.
    #[test]
    fn fallback_reasons_show_the_cause_and_its_meaning() {
        #[derive(Debug)]
        struct FileError(std::io::Error);
        impl std::fmt::Display for FileError {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "`{KPROBE_PMU}/type`")
            }
        }
        impl std::error::Error for FileError {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let gone = Error::aya("program p", FileError(std::io::Error::from_raw_os_error(libc::ENOENT)));
        assert_eq!(gone.errno(), Some(libc::ENOENT));
        let cause = Cause::of(&KPROBE, &gone, || false);
        assert_eq!(cause, Cause::NoKprobes);
        let why = format!("{}{}", describe(&gone), cause.meaning());
        assert!(
            why.starts_with("program p: `/sys/bus/event_source/devices/kprobe/type`: No such file"),
            "{why}"
        );
        assert!(why.ends_with("no kprobes (CONFIG_KPROBES off)"), "{why}");
        // With kprobes, ENOENT is the function's absence and speaks for itself.
        assert_eq!(Cause::of(&KPROBE, &gone, || true), Cause::Other);
        let denied = Error::Rejected {
            program: "p".into(),
            cause: "Operation not permitted (os error 1)".into(),
            errno: Some(libc::EPERM),
            log: String::new(),
        };
        let (cause, why) = refusal(&KPROBE, &denied);
        assert_eq!(cause, Cause::Denied);
        assert!(why.contains("lockdown"), "{why}");
        assert_eq!(refusal(&KPROBE, &Error::Invalid("x".into())), (Cause::Other, "x".to_string()));
    }
}

//! The Linux-only commands on a build without the `native_linux` cfg (other systems, or the
//! portable-only check build): each accepts any arguments and fails with `Unsupported`, naming
//! the platform, so none is silently absent.

/// A command module (`Args` and `run`) that refuses to run, for `$what`.
macro_rules! linux_only_command {
    ($name:ident, $what:literal) => {
        #[doc = concat!("`", $what, "`: Linux only.")]
        pub mod $name {
            /// Whatever was given; not interpreted.
            #[derive(clap::Args)]
            pub struct Args {
                #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
                _ignored: Vec<String>,
            }

            /// Fails: the command is not compiled on this platform.
            pub fn run(_: &crate::cmd::Global, _: &Args) -> anyhow::Result<std::process::ExitCode> {
                Err(hypermesh_os::select::linux_only($what).into())
            }
        }
    };
}

linux_only_command!(capture, "hypermesh capture");
linux_only_command!(ebpf, "hypermesh ebpf");
linux_only_command!(health, "hypermesh health");
linux_only_command!(serve, "hypermesh serve");
linux_only_command!(top, "hypermesh top");

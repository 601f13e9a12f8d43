//! `cargo xtask dist [DIR]`: writes the man pages (`DIR/man/*.1`, one per command and
//! subcommand) and the bash, zsh and fish completions (`DIR/completions/`) generated from
//! `hypermesh`'s clap definition, so that neither is ever written by hand. DIR defaults to
//! `target/dist`; `scripts/package-deb.sh` packages what it writes.

use anyhow::{Context, bail};
use clap_complete::Shell;
use std::path::{Path, PathBuf};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    match (args.next().as_deref(), args.next(), args.next()) {
        (Some("dist"), dir, None) => {
            let dir = dir.map_or_else(|| workspace_root().join("target/dist"), PathBuf::from);
            dist(&dir)?;
            println!("{}", dir.display());
            Ok(())
        }
        _ => bail!("usage: cargo xtask dist [DIR]"),
    }
}

/// The workspace root: this crate's parent directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Writes `dir/man/` and `dir/completions/`, replacing what an earlier run left there.
fn dist(dir: &Path) -> anyhow::Result<()> {
    let man = dir.join("man");
    let completions = dir.join("completions");
    for out in [&man, &completions] {
        if out.exists() {
            std::fs::remove_dir_all(out).with_context(|| format!("removing {}", out.display()))?;
        }
        std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    }
    clap_mangen::generate_to(hypermesh::command(), &man).context("writing the man pages")?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut hypermesh::command(), "hypermesh", &completions)
            .with_context(|| format!("writing the {shell} completion"))?;
    }
    Ok(())
}

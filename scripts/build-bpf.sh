#!/usr/bin/env bash
# Regenerates crates/hypermesh-ebpf/bpf/*.o from bpf/*.bpf.c with clang-19 and llvm-strip.
# The flags make the output byte-identical across checkouts; CI runs this and `git diff
# --exit-code` to prove the committed objects match their sources.
# Needs Debian packages clang-19, llvm-19 (llvm-strip) and libbpf-dev (bpf_helpers.h).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/crates/hypermesh-ebpf/bpf"
clang="${CLANG:-clang-19}"
strip="${LLVM_STRIP:-llvm-strip-19}"
command -v "$strip" >/dev/null || strip=/usr/lib/llvm-19/bin/llvm-strip
for src in "$dir"/*.bpf.c; do
  obj="${src%.c}.o"
  (cd "$root" && "$clang" -O2 -g -target bpf -D__TARGET_ARCH_x86 \
    -ffile-prefix-map="$root"=. -fdebug-compilation-dir=. \
    -I "$dir" -c "$src" -o "$obj")
  "$strip" -g "$obj"
  echo "built ${obj#"$root"/}"
done

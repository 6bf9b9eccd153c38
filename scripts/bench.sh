#!/usr/bin/env bash
# Builds and runs the comparison benchmark (release) and prints every ratio, against peers
# measured in the same run on a private redis-server:
#   blocking: (a) seq_sync, (b) pipe_sync, (e) 1 MiB values vs redis-rs and redis-benchmark;
#   async:    (c) mux64, (d) seq_async, (e) 1 MiB values, (f) pipe_async vs redis-rs
#             (MultiplexedConnection) and fred, on tokio multi-thread (2 workers) and
#             current-thread, with TCP_NODELAY on/off for ours on (c) and (f);
#   peak RSS of each client process, and the decoder ratios.
# Figures are medians with their [min-max] spread, each ratio with the ratio of CPU time per
# op beside it. Every run is under a quietness check: a run during which other processes
# used more than 5% of a core is re-run, and marked * if it stays noisy; a line
# "quiet: yes/NO" says whether the whole run passed. For syscalls, allocations and
# instructions per op, see scripts/profile.sh.
#
#   bash scripts/bench.sh            full run (5 interleaved runs per client, 20-30 minutes)
#   bash scripts/bench.sh --sync     blocking workloads and the decoder only
#   bash scripts/bench.sh --async    async workloads only
#   bash scripts/bench.sh --quick    fewer ops and runs, for a smoke check (combines with
#                                    --sync / --async)
#   bash scripts/bench.sh --decoder  decoder ratios only
#   bash scripts/bench.sh --runs 7   more runs
#
# The bench package (bench/) is its own Cargo workspace, kept out of the main one so that
# `cargo test --workspace` never builds redis-rs, fred or criterion. Its build goes to
# $CARGO_TARGET_DIR, by default bench/target, so that it does not contend with (or
# invalidate) the main workspace's target dir.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    echo "installing: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/bench/target}"
cargo build --release --manifest-path bench/Cargo.toml --bin compare
exec "$CARGO_TARGET_DIR/release/compare" "$@"

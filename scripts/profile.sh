#!/usr/bin/env bash
# Per-op profile of ours, redis-rs and redis-benchmark on the same workloads (issue 10's
# "syscalls per op, allocations per op, instructions per op" table), printed as markdown:
#
#   bash scripts/profile.sh            (a) seq_sync, (b) pipe_sync, (c) mux64@ct,
#                                      (d) seq_async@ct, (f) pipe_async@ct
#   bash scripts/profile.sh a b        only the workloads named
#
# Why it is built this way:
# - Every figure is per op and deterministic enough to compare on a busy, shared VM: each
#   client runs twice, at n ops and at 5n ops (the compare binary's own child runs, so the
#   loops, warm-up and reply checks are exactly the timed ones), and per op = (count at 5n
#   - count at n) / (4n). Start-up, connecting and warm-up cancel out in the difference.
# - syscalls: `strace -f -c` (all threads). strace slows every syscall, so a client that
#   batches by timing (the async ones, (c) above all) may batch somewhat differently under
#   it; the counts are still the right order and compare like with like.
# - instructions: `valgrind --tool=callgrind` (user-space instructions of the client
#   process, all threads; the kernel's share of each syscall is not in it, which is why
#   the syscall column sits beside it; `perf` is not available on this VM). Valgrind runs one thread at
#   a time, which is why the async workloads run on tokio's current-thread runtime.
# - allocations: `valgrind --tool=dhat`, total heap blocks allocated (malloc/calloc/realloc
#   and Rust's global allocator, which is malloc here), so it counts Rust and C alike.
# - redis-benchmark (C, hiredis-style event loop) is the floor to compare with on (a) and
#   (b), run with the same flags as `compare` (`-c 1 -q`; -t set,get is 2n ops).
# - One private redis-server on a free port (`--save '' --appendonly no`), stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in strace valgrind redis-server redis-benchmark redis-cli python3; do
    command -v "$tool" >/dev/null || { echo "profile.sh needs $tool" >&2; exit 1; }
done

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/bench/target}"
cargo build --release --manifest-path bench/Cargo.toml --bin compare >&2
BIN="$CARGO_TARGET_DIR/release/compare"

workloads=("$@")
[ ${#workloads[@]} -eq 0 ] && workloads=(a b d f c)

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" \
    --logfile "$work/redis.log" </dev/null >/dev/null 2>&1 &
server_pid=$!
cleanup() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do
    redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
done

# The command of one run: compare child NAME at N ops, or redis-benchmark.
run_cmd() { # client workload n
    local client=$1 w=$2 n=$3
    case "$client" in
        redis-benchmark)
            case "$w" in
                a) echo redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -q -n "$n" -t set,get ;;
                b) echo redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -q -n "$n" -P 1000 -t set ;;
            esac ;;
        *)
            local rt=""
            case "$w" in c | d | f) rt="@ct" ;; esac
            echo "$BIN" --child "$client-$w$rt" --port "$port" --n "$n" ;;
    esac
}

# Ops a run of n does: redis-benchmark -t set,get does n of each.
ops_of() { # client workload n
    if [ "$1" = redis-benchmark ] && [ "$2" = a ]; then echo $(($3 * 2)); else echo "$3"; fi
}

# syscall counts of one run, "name calls" per line.
syscalls() { # cmd...
    strace -f -c -o "$work/strace.txt" -- "$@" >/dev/null 2>&1
    awk '/^-+ /{sep++; next} sep==1 && NF>=5 {print $NF, $4}' "$work/strace.txt"
}

instructions() { # cmd...
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$@" 2>&1 >/dev/null |
        awk '/Collected :/ {print $NF}'
}

# "blocks bytes" allocated over the whole run.
allocations() { # cmd...
    valgrind --tool=dhat --dhat-out-file="$work/dhat.out" "$@" 2>&1 >/dev/null |
        awk '/Total: .* blocks/ {gsub(",", "", $0); for (i = 1; i <= NF; i++) if ($i == "in") print $(i + 1), $(i - 2)}'
}

# "total/op (top: name x/op, ...)" from two syscall tables.
syscall_delta() { # file_small file_big ops_delta
    python3 - "$1" "$2" "$3" <<'EOF'
import sys
def load(p):
    d = {}
    for line in open(p):
        name, calls = line.split()
        d[name] = int(calls)
    return d
small, big, ops = load(sys.argv[1]), load(sys.argv[2]), float(sys.argv[3])
per = {k: (big.get(k, 0) - small.get(k, 0)) / ops for k in set(small) | set(big) if k != "total"}
total = sum(per.values())
top = sorted(((v, k) for k, v in per.items() if v >= 0.0001), reverse=True)[:4]
def fmt(v):
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}" if v >= 0.1 else f"{v:.4f}"
print(f"{fmt(total)} | " + ", ".join(f"{k} {fmt(v)}" for v, k in top))
EOF
}

per_op() { # small big ops_delta
    python3 - "$@" <<'EOF'
import sys
v = (int(sys.argv[2]) - int(sys.argv[1])) / float(sys.argv[3])
print(f"{v:,.0f}" if v >= 100 else f"{v:.2f}" if v >= 0.1 else f"{v:.4f}")
EOF
}

declare -A name=([a]="(a) seq_sync" [b]="(b) pipe_sync" [c]="(c) mux64@ct" [d]="(d) seq_async@ct" [f]="(f) pipe_async@ct")
declare -A small=([a]=2000 [b]=10000 [c]=4000 [d]=2000 [f]=10000)

echo "redis-server $(redis-server --version | awk '{print $3}') on 127.0.0.1:$port; per op = difference of runs at n and 5n ops / 4n"
echo
echo "| workload | client | n, 5n | syscalls/op | top syscalls/op | allocs/op | alloc bytes/op | instr/op |"
echo "|---|---|---|---:|---|---:|---:|---:|"
for w in "${workloads[@]}"; do
    clients=(ours redis-rs)
    case "$w" in a | b) clients+=(redis-benchmark) ;; esac
    for client in "${clients[@]}"; do
        n1=${small[$w]}
        n2=$((n1 * 5))
        read -ra cmd1 <<<"$(run_cmd "$client" "$w" "$n1")"
        read -ra cmd2 <<<"$(run_cmd "$client" "$w" "$n2")"
        ops=$(($(ops_of "$client" "$w" "$n2") - $(ops_of "$client" "$w" "$n1")))
        syscalls "${cmd1[@]}" >"$work/s1"
        syscalls "${cmd2[@]}" >"$work/s2"
        sys=$(syscall_delta "$work/s1" "$work/s2" "$ops")
        i1=$(instructions "${cmd1[@]}")
        i2=$(instructions "${cmd2[@]}")
        read -r b1 y1 <<<"$(allocations "${cmd1[@]}")"
        read -r b2 y2 <<<"$(allocations "${cmd2[@]}")"
        echo "| ${name[$w]} | $client | $n1, $n2 | $sys | $(per_op "$b1" "$b2" "$ops") | $(per_op "$y1" "$y2" "$ops") | $(per_op "$i1" "$i2" "$ops") |"
    done
done

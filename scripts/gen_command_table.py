#!/usr/bin/env python3
"""Generate redis-core/src/command_table/generated.rs from a live Redis server.

The table lists every command and every subcommand ("client|kill", as Redis names them)
with its arity, flags, request/response-policy and nondeterminism tips, the legacy
first-key/last-key/step key positions, and the Redis 7 key specifications (where the
search for keys begins, how keys are found from there, and what the command does to them),
all as `COMMAND` reports them.

Usage:
    python3 scripts/gen_command_table.py --port 6379 [--host 127.0.0.1]
    python3 scripts/gen_command_table.py --socket /tmp/redis.sock
    python3 scripts/gen_command_table.py --port 6379 --check   # exit 1 if the file differs

Start a throwaway server for it, e.g.
    redis-server --port 0 --unixsocket /tmp/gen.sock --save '' --appendonly no

Bits are fixed here (not derived from what the server reports), so a regenerated file keeps
every constant's value; a flag or tip this script does not know stops generation, and must
be given a bit below by hand. Python 3 standard library only.
"""

import argparse
import difflib
import os
import socket
import sys

# (constant name, what the server reports, doc). The order is the bit number; never reorder.
# u32: 32 bits at most. Redis 7.0 reports 31 of these.
FLAGS = [
    ("WRITE", "write", "May modify the keyspace."),
    ("READONLY", "readonly", "Only reads keys (may still read non-key data)."),
    ("DENYOOM", "denyoom", "May grow memory use; refused when the server is out of memory."),
    ("ADMIN", "admin", "Administrative command (dangerous, needs admin rights)."),
    ("PUBSUB", "pubsub", "Pub/Sub related."),
    ("NOSCRIPT", "noscript", "Refused inside scripts."),
    ("BLOCKING", "blocking", "May block the client (not necessarily every call, e.g. XREAD)."),
    ("LOADING", "loading", "Allowed while the server is loading its data."),
    ("STALE", "stale", "Allowed on a replica with stale data."),
    ("SKIP_MONITOR", "skip_monitor", "Not shown to MONITOR."),
    ("SKIP_SLOWLOG", "skip_slowlog", "Not recorded in the slow log."),
    ("ASKING", "asking", "Cluster: accepted on an importing slot (like after ASKING)."),
    ("FAST", "fast", "O(1) or O(log N); never delays the server."),
    ("NO_AUTH", "no_auth", "Allowed before authentication."),
    ("NO_MANDATORY_KEYS", "no_mandatory_keys", "Key arguments may be absent."),
    ("NO_ASYNC_LOADING", "no_async_loading", "Refused during asynchronous loading."),
    ("NO_MULTI", "no_multi", "Refused inside MULTI."),
    ("MOVABLEKEYS", "movablekeys", "Key positions depend on the arguments (first/last/step do not tell)."),
    ("ALLOW_BUSY", "allow_busy", "Allowed while a script or function is busy."),
    ("NONDETERMINISTIC_OUTPUT", "nondeterministic_output",
     "Tip: the reply may vary for the same arguments and data."),
    ("NONDETERMINISTIC_OUTPUT_ORDER", "nondeterministic_output_order",
     "Tip: the reply's order may vary for the same data."),
    ("REQUEST_POLICY_ALL_NODES", "request_policy:all_nodes", "Tip (cluster): send to all nodes."),
    ("REQUEST_POLICY_ALL_SHARDS", "request_policy:all_shards",
     "Tip (cluster): send to all primaries."),
    ("REQUEST_POLICY_MULTI_SHARD", "request_policy:multi_shard",
     "Tip (cluster): split the keys by shard."),
    ("REQUEST_POLICY_SPECIAL", "request_policy:special",
     "Tip (cluster): routing needs command-specific handling."),
    ("RESPONSE_POLICY_ONE_SUCCEEDED", "response_policy:one_succeeded",
     "Tip (cluster): one successful shard reply is the reply."),
    ("RESPONSE_POLICY_ALL_SUCCEEDED", "response_policy:all_succeeded",
     "Tip (cluster): succeeds only if every shard succeeded."),
    ("RESPONSE_POLICY_AGG_LOGICAL_AND", "response_policy:agg_logical_and",
     "Tip (cluster): logical AND of the shard replies."),
    ("RESPONSE_POLICY_AGG_MIN", "response_policy:agg_min",
     "Tip (cluster): minimum of the shard replies."),
    ("RESPONSE_POLICY_AGG_SUM", "response_policy:agg_sum",
     "Tip (cluster): sum of the shard replies."),
    ("RESPONSE_POLICY_SPECIAL", "response_policy:special",
     "Tip (cluster): merging needs command-specific handling."),
]
assert len(FLAGS) <= 32
BIT = {reported: (const, i) for i, (const, reported, _) in enumerate(FLAGS)}

# Key specification flags, as in FLAGS: (constant, reported, doc); the order is the bit.
KEY_FLAGS = [
    ("RO", "RO", "Read-only access to the key's value."),
    ("RW", "RW", "Read-write access to the key's value."),
    ("OW", "OW", "Overwrites the key's value without reading it."),
    ("RM", "RM", "Deletes the key."),
    ("ACCESS", "access", "Returns, copies or uses the user data of the key."),
    ("UPDATE", "update", "Updates the value (e.g. sets a new value)."),
    ("INSERT", "insert", "Adds data to the value without touching existing data."),
    ("DELETE", "delete", "Deletes data from the value (elements, fields)."),
    ("NOT_KEY", "not_key", "Not a key name but hashed like one (a sharded channel)."),
    ("INCOMPLETE", "incomplete", "The spec may miss keys; the command needs its own rules."),
    ("VARIABLE_FLAGS", "variable_flags", "The flags depend on the arguments."),
]
assert len(KEY_FLAGS) <= 16
KEY_BIT = {reported: (const, i) for i, (const, reported, _) in enumerate(KEY_FLAGS)}

OUTPUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "redis-core", "src", "command_table", "generated.rs"))


class Resp2:
    """Just enough of a RESP2 client for COMMAND and INFO."""

    def __init__(self, sock):
        self.sock = sock
        self.f = sock.makefile("rb")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.f.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("connection closed by the server")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("server error: " + rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.f.read(n + 2)[:-2].decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("unexpected reply type %r" % kind)


def connect(args):
    if args.socket:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(args.socket)
    else:
        s = socket.create_connection((args.host, args.port), timeout=10)
    s.settimeout(30)
    return Resp2(s)


def pairs(flat):
    """A RESP2 flat [k1, v1, k2, v2, ...] list as a dict."""
    return dict(zip(flat[::2], flat[1::2]))


def key_spec(raw, name):
    """One `COMMAND` key spec as a Rust expression (constructors of command_table/keys.rs)."""
    d = pairs(raw)
    unknown = [f for f in d.get("flags", []) if f not in KEY_BIT]
    if unknown:
        sys.exit("%s: unknown key spec flags %s: give each a bit in KEY_FLAGS of %s"
                 % (name, ", ".join(unknown), os.path.basename(__file__)))
    consts = [c for c, _ in sorted((KEY_BIT[f] for f in set(d.get("flags", []))),
                                   key=lambda ci: ci[1])] or ["0"]
    bs, fk = pairs(d["begin_search"]), pairs(d["find_keys"])
    bspec, fspec = pairs(bs.get("spec") or []), pairs(fk.get("spec") or [])
    if bs["type"] == "index":
        begin = "index(%d)" % bspec["index"]
    elif bs["type"] == "keyword":
        begin = 'keyword("%s", %d)' % (bspec["keyword"], bspec["startfrom"])
    elif bs["type"] == "unknown":
        begin = "UNKNOWN_BEGIN"
    else:
        sys.exit("%s: unknown begin_search type %r" % (name, bs["type"]))
    if fk["type"] == "range":
        find = "range(%d, %d, %d)" % (fspec["lastkey"], fspec["keystep"], fspec["limit"])
    elif fk["type"] == "keynum":
        find = "keynum(%d, %d, %d)" % (fspec["keynumidx"], fspec["firstkey"], fspec["keystep"])
    elif fk["type"] == "unknown":
        find = "UNKNOWN_FIND"
    else:
        sys.exit("%s: unknown find_keys type %r" % (name, fk["type"]))
    return "spec(%s, %s, %s)" % (" | ".join(consts), begin, find)


def collect(conn):
    """(version, sorted [(name, arity, [reported flags/tips], first, last, step, [specs])])."""
    info = conn.call("INFO", "server")
    version = next((l.split(":", 1)[1].strip() for l in info.splitlines()
                    if l.startswith("redis_version:")), "unknown")
    rows = []

    def walk(entry):
        # [name, arity, flags, first, last, step, acl categories, tips, key specs, subcommands]
        name, arity, flags, first, last, step = entry[:6]
        tips = entry[7] if len(entry) > 7 else []
        specs = [key_spec(k, name) for k in (entry[8] if len(entry) > 8 else [])]
        rows.append((name.lower(), arity, list(flags) + list(tips), first, last, step, specs))
        for sub in (entry[9] if len(entry) > 9 else []):
            walk(sub)

    for entry in conn.call("COMMAND"):
        walk(entry)
    rows.sort(key=lambda r: r[0].encode())
    unknown = sorted({f for r in rows for f in r[2] if f not in BIT})
    if unknown:
        sys.exit("unknown flags/tips %s: give each a bit in FLAGS of %s"
                 % (", ".join(unknown), os.path.basename(__file__)))
    return version, rows


def flags_expr(reported):
    consts = [c for c, _ in sorted((BIT[f] for f in set(reported)), key=lambda ci: ci[1])]
    return consts or ["0"]


def render(version, rows):
    out = [
        "// @generated by scripts/gen_command_table.py from Redis %s (`COMMAND`). Do not edit." % version,
        "// Regenerate against a throwaway server of the version to track:",
        "//     redis-server --port 0 --unixsocket /tmp/gen.sock --save '' --appendonly no &",
        "//     python3 scripts/gen_command_table.py --socket /tmp/gen.sock",
        "// (or `python3 scripts/gen_command_table.py --port N`); `--check` compares instead.",
        "",
        "use super::keys::{index, keynum, keyword, range, spec, UNKNOWN_BEGIN, UNKNOWN_FIND};",
        "use super::CommandInfo;",
        "use flags::*;",
        "use key_flags::*;",
        "",
        "/// Flag and tip bits, as `COMMAND` reports them (a tip is reported as e.g.",
        "/// `request_policy:all_shards`). Bit positions are fixed by the generator.",
        "pub mod flags {",
    ]
    for i, (const, reported, doc) in enumerate(FLAGS):
        out.append("    /// `%s`: %s" % (reported, doc))
        out.append("    pub const %s: u32 = 1 << %d;" % (const, i))
    out += [
        "}",
        "",
        "/// Key specification flags (`COMMAND` reports them per key spec): what the command",
        "/// does to the keys the spec finds. Bit positions are fixed by the generator.",
        "pub mod key_flags {",
    ]
    for i, (const, reported, doc) in enumerate(KEY_FLAGS):
        out.append("    /// `%s`: %s" % (reported, doc))
        out.append("    pub const %s: u16 = 1 << %d;" % (const, i))
    out += [
        "}",
        "",
        "/// Server version the table was generated from.",
        'pub const SERVER_VERSION: &str = "%s";' % version,
        "",
        "/// Every command and subcommand, sorted by name (bytewise). Key specs stay one per",
        "/// line (hence `rustfmt::skip`): `spec(flags, begin_search, find_keys)`.",
        "#[rustfmt::skip]",
        "pub(super) static COMMANDS: [CommandInfo; %d] = [" % len(rows),
    ]
    for name, arity, reported, first, last, step, specs in rows:
        out.append("    CommandInfo {")
        out.append('        name: "%s",' % name)
        out.append("        arity: %d," % arity)
        consts = flags_expr(reported)
        line = "        flags: %s," % " | ".join(consts)
        if len(line) <= 100:
            out.append(line)
        else:  # rustfmt's layout for a binary chain that does not fit
            out.append("        flags: %s" % consts[0])
            out += ["            | %s" % c for c in consts[1:]]
            out[-1] += ","
        out.append("        first_key: %d," % first)
        out.append("        last_key: %d," % last)
        out.append("        key_step: %d," % step)
        if not specs:
            out.append("        key_specs: &[],")
        else:
            out.append("        key_specs: &[")
            out += ["            %s," % k for k in specs]
            out.append("        ],")
        out.append("    },")
    out.append("];")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6379)
    p.add_argument("--socket", help="unix socket path (instead of host/port)")
    p.add_argument("--output", default=OUTPUT)
    p.add_argument("--check", action="store_true",
                   help="compare the committed file with the server; exit 1 on difference")
    args = p.parse_args()
    version, rows = collect(connect(args))
    text = render(version, rows)
    if args.check:
        try:
            with open(args.output, encoding="utf-8") as f:
                old = f.read()
        except FileNotFoundError:
            old = ""
        if old != text:
            sys.stdout.writelines(difflib.unified_diff(
                old.splitlines(True), text.splitlines(True), args.output, "live server"))
            print("%s differs from Redis %s: regenerate it" % (args.output, version),
                  file=sys.stderr)
            sys.exit(1)
        print("%s matches Redis %s (%d commands)" % (args.output, version, len(rows)))
        return
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print("wrote %s: %d commands from Redis %s" % (args.output, len(rows), version))


if __name__ == "__main__":
    main()

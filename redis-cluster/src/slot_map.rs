//! The slot map: which node serves each of the 16384 slots.
//!
//! A cluster client keeps one map and sends every keyed command to the primary (or, for
//! reads, a replica) of its key's slot. The map is read from `CLUSTER SHARDS` (Redis 7.0+:
//! host names, TLS ports and node health) or, on older servers, from `CLUSTER SLOTS`; both
//! RESP2 arrays and RESP3 maps are accepted. Server replies are untrusted input: a
//! malformed one is an [`Error::Protocol`] naming what was wrong, never a panic.
//!
//! Node addresses are read as servers write them (see [`Addr::node`]): an empty host
//! means "the node you asked" (`cluster-preferred-endpoint-type unknown-endpoint`), `?`
//! means unknown (the node is skipped until a later refresh knows it), IPv6 hosts may come
//! with brackets. Every address then goes through the caller's remap hook (NAT,
//! containers, a fault proxy in tests), so the map only ever holds addresses to dial.
//!
//! Several nodes may answer a refresh with different views while the cluster changes;
//! [`SlotMap::freshest`] picks one (see there for the rule).

use std::ops::RangeInclusive;

use redis_core::routing::{Choice, NodeStats, ReadFrom};
use redis_core::{Addr, Error, NodeEndpoint, Result, Value};

use crate::slot::SLOT_COUNT;

/// How to turn the addresses in a topology reply (or a redirect) into addresses to dial.
#[derive(Clone, Copy)]
pub struct AddrContext<'a> {
    /// The node the reply came from: an empty host means its host.
    pub asked: &'a Addr,
    /// The cluster is reached over TLS: pick TLS ports and [`Addr::Tls`].
    pub tls: bool,
    /// Applied to every address read (identity by default).
    pub remap: &'a dyn Fn(Addr) -> Addr,
}

fn identity(a: Addr) -> Addr {
    a
}

impl<'a> AddrContext<'a> {
    /// Addresses as the server wrote them, relative to `asked`, without remapping.
    pub fn new(asked: &'a Addr, tls: bool) -> AddrContext<'a> {
        AddrContext {
            asked,
            tls,
            remap: &identity,
        }
    }

    /// The same context with a remap hook.
    pub fn with_remap(self, remap: &'a dyn Fn(Addr) -> Addr) -> AddrContext<'a> {
        AddrContext { remap, ..self }
    }

    /// The address to dial for an endpoint a server reported; `None` when unknown.
    pub fn resolve(&self, endpoint: NodeEndpoint) -> Option<Addr> {
        endpoint.resolve(self.asked).map(|a| (self.remap)(a))
    }
}

impl std::fmt::Debug for AddrContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddrContext")
            .field("asked", self.asked)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

/// A node's role in its shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeRole {
    /// The primary: serves writes for the shard's slots.
    Primary,
    /// A replica: serves reads after `READONLY`.
    Replica,
}

/// One node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// Where to dial it (already remapped).
    pub addr: Addr,
    /// The node id, when the reply gave one.
    pub id: Option<String>,
    /// Primary or replica.
    pub role: NodeRole,
    /// False when the cluster reports it failed or loading (`CLUSTER SHARDS` health):
    /// reads skip it.
    pub healthy: bool,
}

impl Node {
    /// A healthy node without an id.
    pub fn new(addr: Addr, role: NodeRole) -> Node {
        Node {
            addr,
            id: None,
            role,
            healthy: true,
        }
    }
}

/// A primary and its replicas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shard {
    /// The primary.
    pub primary: Node,
    /// Its replicas, in the order the server listed them.
    pub replicas: Vec<Node>,
}

/// A run of slots served by one shard.
#[derive(Clone, Debug, PartialEq, Eq)]
struct SlotRange {
    start: u16,
    end: u16,
    shard: usize,
}

/// Which shard serves each slot. Slots no shard serves are *uncovered*.
#[derive(Clone, Debug, Default)]
pub struct SlotMap {
    shards: Vec<Shard>,
    /// Sorted by `start`, not overlapping.
    ranges: Vec<SlotRange>,
    /// Each slot's shard, an index in `shards` (`UNCOVERED`: none), for the maps that
    /// route requests ([`routing_copy`](Self::routing_copy)), kept in step with `ranges`:
    /// routing a command is then one look-up, not a search of the ranges (a pipeline
    /// routes thousands at a time). 16 KiB: empty otherwise (the views a refresh
    /// compares need none), and beyond 254 shards; `ranges` answer then.
    by_slot: Vec<u8>,
}

/// In [`SlotMap::by_slot`]: no shard serves the slot.
const UNCOVERED: u8 = u8::MAX;

impl PartialEq for SlotMap {
    /// The same shards serving the same ranges (the look-up table follows from them).
    fn eq(&self, other: &SlotMap) -> bool {
        self.shards == other.shards && self.ranges == other.ranges
    }
}

impl Eq for SlotMap {}

impl SlotMap {
    /// A map from shards and the slot ranges each serves. Shards with the same primary
    /// address are merged. Overlapping ranges or slots beyond 16383 are an
    /// [`Error::Protocol`].
    pub fn new(shards: Vec<(Vec<RangeInclusive<u16>>, Shard)>) -> Result<SlotMap> {
        let mut map = SlotMap::default();
        for (ranges, shard) in shards {
            let i = match map
                .shards
                .iter()
                .position(|s| s.primary.addr == shard.primary.addr)
            {
                Some(i) => {
                    let known = &mut map.shards[i].replicas;
                    for r in shard.replicas {
                        if !known.iter().any(|k| k.addr == r.addr) {
                            known.push(r);
                        }
                    }
                    i
                }
                None => {
                    map.shards.push(shard);
                    map.shards.len() - 1
                }
            };
            for r in ranges {
                let (start, end) = (*r.start(), *r.end());
                if start > end || end >= SLOT_COUNT {
                    return Err(Error::protocol(format!("bad slot range {start}-{end}")));
                }
                map.ranges.push(SlotRange {
                    start,
                    end,
                    shard: i,
                });
            }
        }
        map.ranges.sort_by_key(|r| r.start);
        if let Some(w) = map.ranges.windows(2).find(|w| w[0].end >= w[1].start) {
            return Err(Error::protocol(format!(
                "slot ranges {}-{} and {}-{} overlap",
                w[0].start, w[0].end, w[1].start, w[1].end
            )));
        }
        Ok(map)
    }

    /// A copy to route requests by: with the per-slot look-up table (see
    /// [`by_slot`](Self::by_slot)). The shells publish one per change of the map.
    pub(crate) fn routing_copy(&self) -> SlotMap {
        let mut m = self.clone();
        m.index_slots();
        m
    }

    /// Builds the per-slot look-up table; answers are the same without it, only slower.
    pub(crate) fn index_slots(&mut self) {
        self.by_slot.clear();
        if self.shards.len() >= usize::from(UNCOVERED) {
            return;
        }
        self.by_slot.resize(usize::from(SLOT_COUNT), UNCOVERED);
        for r in &self.ranges {
            let shard = u8::try_from(r.shard).unwrap_or(UNCOVERED);
            if let Some(slots) = self
                .by_slot
                .get_mut(usize::from(r.start)..=usize::from(r.end))
            {
                slots.fill(shard);
            }
        }
    }

    /// Reads a `CLUSTER SHARDS` reply (Redis 7.0+). Per node: the address is the first of
    /// `endpoint`, `ip`, `hostname` that is known, with `tls-port` when `ctx.tls` (else
    /// `port`); a node with no known address or port is skipped, and a shard without a
    /// usable primary leaves its slots uncovered. Nodes whose `health` is not `online`
    /// are kept but marked unhealthy.
    pub fn from_shards(reply: &Value, ctx: &AddrContext<'_>) -> Result<SlotMap> {
        let bad = |what: &str| Error::protocol(format!("CLUSTER SHARDS reply: {what}"));
        let mut shards = Vec::new();
        for entry in items(reply).ok_or_else(|| bad("not an array"))? {
            let mut slots = None;
            let mut nodes = None;
            for (k, v) in fields(entry).ok_or_else(|| bad("a shard is not a map"))? {
                match k {
                    "slots" => slots = Some(v),
                    "nodes" => nodes = Some(v),
                    _ => {}
                }
            }
            let slots = items(slots.ok_or_else(|| bad("a shard has no slots"))?)
                .ok_or_else(|| bad("slots is not an array"))?;
            if slots.len() % 2 != 0 {
                return Err(bad("slots has an odd length"));
            }
            let mut ranges = Vec::new();
            for pair in slots.chunks(2) {
                let (start, end) = (slot_number(&pair[0]), slot_number(&pair[1]));
                let (Some(start), Some(end)) = (start, end) else {
                    return Err(bad("a slot is not a number in 0..16384"));
                };
                ranges.push(start..=end);
            }
            let mut primaries = Vec::new();
            let mut replicas = Vec::new();
            for node in items(nodes.ok_or_else(|| bad("a shard has no nodes"))?)
                .ok_or_else(|| bad("nodes is not an array"))?
            {
                if let Some(n) = shard_node(node, ctx)? {
                    match n.role {
                        NodeRole::Primary => primaries.push(n),
                        NodeRole::Replica => replicas.push(n),
                    }
                }
            }
            // Normally one primary; if a reply lists more, a healthy one wins.
            primaries.sort_by_key(|n| !n.healthy);
            if let Some(primary) = primaries.into_iter().next() {
                shards.push((ranges, Shard { primary, replicas }));
            }
        }
        SlotMap::new(shards)
    }

    /// Reads a `CLUSTER SLOTS` reply (the fallback for servers before 7.0): entries of
    /// `[start, end, [host, port, id, metadata], replica...]`. The port is the one for
    /// the connection type the client used (the server picks it), so `ctx.tls` only picks
    /// [`Addr::Tls`]. A primary with an unknown address leaves its range uncovered; a
    /// replica with one is skipped.
    pub fn from_slots(reply: &Value, ctx: &AddrContext<'_>) -> Result<SlotMap> {
        let bad = |what: &str| Error::protocol(format!("CLUSTER SLOTS reply: {what}"));
        let mut shards = Vec::new();
        for entry in items(reply).ok_or_else(|| bad("not an array"))? {
            let e = items(entry).ok_or_else(|| bad("an entry is not an array"))?;
            if e.len() < 3 {
                return Err(bad("an entry has fewer than 3 elements"));
            }
            let (Some(start), Some(end)) = (slot_number(&e[0]), slot_number(&e[1])) else {
                return Err(bad("a slot is not a number in 0..16384"));
            };
            let mut nodes = Vec::with_capacity(e.len() - 2);
            for (i, n) in e[2..].iter().enumerate() {
                let role = if i == 0 {
                    NodeRole::Primary
                } else {
                    NodeRole::Replica
                };
                nodes.push(slots_node(n, role, ctx)?);
            }
            let mut nodes = nodes.into_iter();
            let Some(Some(primary)) = nodes.next() else {
                continue; // primary address unknown: uncovered until the next refresh
            };
            let replicas = nodes.flatten().collect();
            shards.push((vec![start..=end], Shard { primary, replicas }));
        }
        SlotMap::new(shards)
    }

    /// The shard serving `slot`, if any.
    pub fn shard_for(&self, slot: u16) -> Option<&Shard> {
        match self.by_slot.get(usize::from(slot)) {
            Some(&UNCOVERED) => None,
            Some(&i) => self.shards.get(usize::from(i)),
            None => self
                .range_index(slot)
                .map(|i| &self.shards[self.ranges[i].shard]),
        }
    }

    /// The primary serving `slot`; `None` when the slot is uncovered.
    pub fn primary_for(&self, slot: u16) -> Option<&Node> {
        self.shard_for(slot).map(|s| &s.primary)
    }

    /// The replicas of the shard serving `slot` (empty when uncovered).
    pub fn replicas_for(&self, slot: u16) -> &[Node] {
        self.shard_for(slot).map_or(&[], |s| &s.replicas)
    }

    /// The node a request for `slot` goes to: the primary for a write, else as `read_from`
    /// chooses among the primary and the replicas (`stats` gives what the client measured
    /// of each node; a node the map marks unhealthy is skipped whatever `stats` says).
    /// `None` when the slot is uncovered, or [`ReadFrom::Replica`] finds no healthy replica.
    pub fn node_for(
        &self,
        slot: u16,
        write: bool,
        read_from: &ReadFrom,
        stats: impl Fn(&Node) -> NodeStats,
        counter: u64,
        random: u64,
    ) -> Option<&Node> {
        let shard = self.shard_for(slot)?;
        if write {
            return Some(&shard.primary);
        }
        let of = |n: &Node| {
            let mut s = stats(n);
            s.healthy &= n.healthy;
            s
        };
        let replicas: Vec<NodeStats> = shard.replicas.iter().map(of).collect();
        match read_from.choose(false, &of(&shard.primary), &replicas, counter, random)? {
            Choice::Primary => Some(&shard.primary),
            Choice::Replica(i) => shard.replicas.get(i),
        }
    }

    /// Every shard, including primaries that serve no slot.
    pub fn shards(&self) -> &[Shard] {
        &self.shards
    }

    /// Every primary that serves at least one slot, once each: where a command for "all
    /// shards" goes. A primary without slots is left out: a node just added, or (as
    /// `CLUSTER SHARDS` lists it after a failover) a failed old primary, which would only
    /// make a fan-out fail.
    pub fn all_primaries(&self) -> impl Iterator<Item = &Node> {
        self.shards
            .iter()
            .enumerate()
            .filter(|(i, _)| self.ranges.iter().any(|r| r.shard == *i))
            .map(|(_, s)| &s.primary)
    }

    /// Every node the map names, primaries (with or without slots) and replicas, healthy
    /// or not, once each (check [`Node::healthy`] before a fan-out to all nodes).
    pub fn all_nodes(&self) -> impl Iterator<Item = &Node> {
        self.shards
            .iter()
            .flat_map(|s| std::iter::once(&s.primary).chain(&s.replicas))
    }

    /// The node at `addr`, if the map names it.
    pub fn node(&self, addr: &Addr) -> Option<&Node> {
        self.all_nodes().find(|n| &n.addr == addr)
    }

    /// True when the map names `addr` as a primary (a `READONLY` reply from such a node
    /// means the map is stale: the node was demoted).
    pub fn is_primary(&self, addr: &Addr) -> bool {
        self.shards.iter().any(|s| &s.primary.addr == addr)
    }

    /// True when some shard serves `slot`.
    pub fn is_covered(&self, slot: u16) -> bool {
        self.shard_for(slot).is_some()
    }

    /// The slot ranges no shard serves, in order (empty when the map covers every slot).
    pub fn uncovered_ranges(&self) -> Vec<RangeInclusive<u16>> {
        let mut out = Vec::new();
        let mut next = 0u16;
        for r in &self.ranges {
            if r.start > next {
                out.push(next..=r.start - 1);
            }
            next = r.end.saturating_add(1);
        }
        if next < SLOT_COUNT {
            out.push(next..=SLOT_COUNT - 1);
        }
        out
    }

    /// The slot ranges served and each one's primary address, in slot order: what two
    /// views must share to agree.
    pub fn assignment(&self) -> Vec<(RangeInclusive<u16>, &Addr)> {
        let mut out: Vec<(RangeInclusive<u16>, &Addr)> = Vec::new();
        for r in &self.ranges {
            let addr = &self.shards[r.shard].primary.addr;
            match out.last_mut() {
                // Adjacent ranges of one primary read the same however they were listed.
                Some((prev, a)) if *a == addr && *prev.end() + 1 == r.start => {
                    *prev = *prev.start()..=r.end;
                }
                _ => out.push((r.start..=r.end, addr)),
            }
        }
        out
    }

    /// One slot of each primary that serves slots (its first), in slot order: names a
    /// shard in a way that survives a failover (the promoted replica serves the same
    /// slots), e.g. for a cluster-wide `SCAN` that walks the shards one by one.
    pub fn one_slot_per_primary(&self) -> Vec<u16> {
        let mut seen: Vec<&Addr> = Vec::new();
        let mut out = Vec::new();
        for (range, addr) in self.assignment() {
            if !seen.contains(&addr) {
                seen.push(addr);
                out.push(*range.start());
            }
        }
        out
    }

    /// Number of slots served.
    pub fn covered_slots(&self) -> usize {
        self.ranges
            .iter()
            .map(|r| usize::from(r.end - r.start) + 1)
            .sum()
    }

    /// Picks the view to trust among the replies of several nodes to one refresh.
    ///
    /// `CLUSTER SHARDS` and `CLUSTER SLOTS` carry no config epoch, so the rule is
    /// agreement: views with the same [`assignment`](Self::assignment) (slot ranges and
    /// their primaries) form a group, and the largest group wins, since a node cut off
    /// from the others (the usual source of a stale view) is outvoted by those that see
    /// the failover. A tie goes to the group whose view covers more slots (a node that
    /// already learned a new owner covers the range another still sees as failed), then
    /// to the group seen first (callers list the nodes they trust most first). Of the
    /// winning group the first view is returned. `None` for no view at all.
    pub fn freshest(views: Vec<SlotMap>) -> Option<SlotMap> {
        let i = SlotMap::freshest_index(&views)?;
        views.into_iter().nth(i)
    }

    /// The index in `views` of the view [`freshest`](Self::freshest) picks.
    pub fn freshest_index(views: &[SlotMap]) -> Option<usize> {
        let mut groups: Vec<(usize, usize)> = Vec::new(); // (first index, votes)
        for (i, v) in views.iter().enumerate() {
            let a = v.assignment();
            match groups.iter_mut().find(|(j, _)| views[*j].assignment() == a) {
                Some((_, votes)) => *votes += 1,
                None => groups.push((i, 1)),
            }
        }
        let mut best: Option<(usize, usize)> = None;
        for (i, votes) in groups {
            let better = match best {
                None => true,
                Some((b, bv)) => (votes, views[i].covered_slots()) > (bv, views[b].covered_slots()),
            };
            if better {
                best = Some((i, votes));
            }
        }
        best.map(|(i, _)| i)
    }

    /// Applies a `MOVED slot addr` redirect until the next refresh: `slot` now belongs to
    /// the shard whose primary is `addr`, or to a new shard with that primary (a replica
    /// just promoted, or a node the map did not know).
    pub fn apply_moved(&mut self, slot: u16, addr: Addr) {
        if slot >= SLOT_COUNT {
            return;
        }
        let shard = match self.shards.iter().position(|s| s.primary.addr == addr) {
            Some(i) => i,
            None => {
                self.shards.push(Shard {
                    primary: Node::new(addr, NodeRole::Primary),
                    replicas: Vec::new(),
                });
                self.shards.len() - 1
            }
        };
        if let Some(i) = self.range_index(slot) {
            let r = self.ranges.remove(i);
            if slot < r.end {
                self.ranges.insert(
                    i,
                    SlotRange {
                        start: slot + 1,
                        ..r.clone()
                    },
                );
            }
            if r.start < slot {
                self.ranges.insert(
                    i,
                    SlotRange {
                        end: slot - 1,
                        ..r.clone()
                    },
                );
            }
        }
        let at = self.ranges.partition_point(|r| r.start < slot);
        self.ranges.insert(
            at,
            SlotRange {
                start: slot,
                end: slot,
                shard,
            },
        );
        if !self.by_slot.is_empty() {
            self.index_slots();
        }
    }

    fn range_index(&self, slot: u16) -> Option<usize> {
        let i = self
            .ranges
            .partition_point(|r| r.start <= slot)
            .checked_sub(1)?;
        (self.ranges[i].end >= slot).then_some(i)
    }
}

/// One node entry of `CLUSTER SHARDS`; `None` when its address is unknown.
fn shard_node(v: &Value, ctx: &AddrContext<'_>) -> Result<Option<Node>> {
    let bad = |what: &str| Error::protocol(format!("CLUSTER SHARDS node: {what}"));
    let (mut id, mut role, mut healthy) = (None, None, true);
    let (mut port, mut tls_port) = (None, None);
    let (mut endpoint, mut ip, mut hostname) = (None, None, None);
    for (k, v) in fields(v).ok_or_else(|| bad("not a map"))? {
        match k {
            "id" => id = text(v).map(str::to_owned),
            "port" => port = Some(port_number(v).ok_or_else(|| bad("bad port"))?),
            "tls-port" => tls_port = Some(port_number(v).ok_or_else(|| bad("bad tls-port"))?),
            "endpoint" => endpoint = text(v),
            "ip" => ip = text(v),
            "hostname" => hostname = text(v),
            "role" => {
                role = Some(match text(v) {
                    Some("master") => NodeRole::Primary,
                    Some("replica" | "slave") => NodeRole::Replica,
                    _ => return Err(bad("unknown role")),
                })
            }
            "health" => healthy = text(v) == Some("online"),
            _ => {}
        }
    }
    let role = role.ok_or_else(|| bad("no role"))?;
    let port = if ctx.tls { tls_port.or(port) } else { port };
    let Some(port) = port else {
        return Ok(None);
    };
    let mut addr = None;
    for host in [endpoint, ip, hostname].into_iter().flatten() {
        // A host the address parser refuses is as good as unknown: try the next field.
        if let Ok(ep) = Addr::node(host, port, ctx.tls) {
            addr = ctx.resolve(ep);
            if addr.is_some() {
                break;
            }
        }
    }
    Ok(addr.map(|addr| Node {
        addr,
        id,
        role,
        healthy,
    }))
}

/// One node of a `CLUSTER SLOTS` entry: `[host, port, id?, metadata?]`.
fn slots_node(v: &Value, role: NodeRole, ctx: &AddrContext<'_>) -> Result<Option<Node>> {
    let bad = |what: &str| Error::protocol(format!("CLUSTER SLOTS node: {what}"));
    let n = items(v).ok_or_else(|| bad("not an array"))?;
    if n.len() < 2 {
        return Err(bad("fewer than 2 elements"));
    }
    let host = text(&n[0]).ok_or_else(|| bad("host is not text"))?;
    let port = port_number(&n[1]).ok_or_else(|| bad("bad port"))?;
    let id = n.get(2).and_then(text).map(str::to_owned);
    let Some(addr) = ctx.resolve(Addr::node(host, port, ctx.tls)?) else {
        return Ok(None);
    };
    Ok(Some(Node {
        addr,
        id,
        role,
        healthy: true,
    }))
}

/// The elements of an array or set (through a RESP3 attribute).
fn items(v: &Value) -> Option<&[Value]> {
    match v {
        Value::Array(a) | Value::Set(a) => Some(a),
        Value::Attribute { data, .. } => items(data),
        _ => None,
    }
}

/// Key/value pairs of a RESP3 map or a RESP2 flat array `[k1, v1, k2, v2, ...]`.
fn fields(v: &Value) -> Option<Vec<(&str, &Value)>> {
    match v {
        Value::Map(m) => m.iter().map(|(k, v)| Some((text(k)?, v))).collect(),
        Value::Array(a) if a.len() % 2 == 0 => a
            .chunks(2)
            .map(|kv| Some((text(&kv[0])?, &kv[1])))
            .collect(),
        Value::Attribute { data, .. } => fields(data),
        _ => None,
    }
}

fn text(v: &Value) -> Option<&str> {
    match v {
        Value::BulkString(b) => std::str::from_utf8(b).ok(),
        Value::SimpleString(s) => Some(s),
        Value::VerbatimString { text, .. } => std::str::from_utf8(text).ok(),
        Value::Attribute { data, .. } => text(data),
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        other => text(other)?.parse().ok(),
    }
}

fn slot_number(v: &Value) -> Option<u16> {
    u16::try_from(int(v)?).ok().filter(|&s| s < SLOT_COUNT)
}

fn port_number(v: &Value) -> Option<u16> {
    u16::try_from(int(v)?).ok()
}

#[cfg(test)]
mod tests;

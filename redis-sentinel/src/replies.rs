//! The sentinel commands a client sends, and how their replies and events are read.
//!
//! Sentinels answer in a few shapes: an `[ip, port]` pair (or nil) for the primary's
//! address, a list of instances for `SENTINEL SENTINELS` / `SENTINEL REPLICAS` (flat
//! field/value arrays in RESP2, maps in RESP3), and space-separated text in the pub/sub
//! events they publish (`+switch-master`, `+sdown`, ...). A sentinel is a server like any
//! other: a reply of the wrong shape is an [`Error::Protocol`] naming what was wrong, never
//! a panic, so a broken sentinel is skipped like an unreachable one.
//!
//! Addresses come back as [`Addr`]: `tls` says whether the nodes they name are reached over
//! TLS (the sentinels do not say), and a host the sentinel leaves empty means the
//! sentinel's own host ([`NodeEndpoint::resolve`](redis_core::NodeEndpoint::resolve)).

use redis_core::{cmd, Addr, Cmd, Error, Msg, Result, Value};

/// `SENTINEL GET-MASTER-ADDR-BY-NAME <service>`: where the service's primary is.
pub fn master_addr_cmd(service: &str) -> Cmd {
    cmd("SENTINEL")
        .with("GET-MASTER-ADDR-BY-NAME")
        .with(service)
}

/// `SENTINEL SENTINELS <service>`: the other sentinels that monitor the service.
pub fn sentinels_cmd(service: &str) -> Cmd {
    cmd("SENTINEL").with("SENTINELS").with(service)
}

/// `SENTINEL REPLICAS <service>`: the service's replicas and their state.
pub fn replicas_cmd(service: &str) -> Cmd {
    cmd("SENTINEL").with("REPLICAS").with(service)
}

/// Reads a `GET-MASTER-ADDR-BY-NAME` reply from the sentinel at `asked`: `Ok(None)` when
/// the sentinel does not monitor the service (nil), the primary's address otherwise.
pub fn parse_master_addr(reply: &Value, asked: &Addr, tls: bool) -> Result<Option<Addr>> {
    match reply {
        Value::Nil => Ok(None),
        Value::Array(items) if items.len() == 2 => {
            let host = text(&items[0]);
            let port = text(&items[1]).and_then(|p| p.parse::<u16>().ok());
            match (host, port) {
                (Some(host), Some(port)) => node_addr(&host, port, asked, tls).map(Some),
                _ => Err(bad("GET-MASTER-ADDR-BY-NAME reply", reply)),
            }
        }
        _ => Err(bad("GET-MASTER-ADDR-BY-NAME reply", reply)),
    }
}

/// One instance (sentinel or replica) as `SENTINEL SENTINELS` / `SENTINEL REPLICAS`
/// describe it: its fields in the order sent, all as text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Instance {
    fields: Vec<(String, String)>,
}

impl Instance {
    /// An instance with these fields (tests and hand-built topologies).
    pub fn from_fields<K: Into<String>, V: Into<String>>(
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Instance {
        Instance {
            fields: fields
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }

    /// Every field and value, in the order the sentinel sent them.
    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    /// The value of one field (`ip`, `port`, `flags`, `master-link-status`, `runid`, ...).
    pub fn get(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// The comma-separated `flags` field, split (`slave`, `s_down`, `disconnected`, ...).
    pub fn flags(&self) -> impl Iterator<Item = &str> {
        self.get("flags")
            .unwrap_or("")
            .split(',')
            .filter(|f| !f.is_empty())
    }

    /// True when `flags` contains `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags().any(|f| f == flag)
    }

    /// The instance's address from its `ip` and `port` fields, relative to the sentinel at
    /// `asked` that described it. `Ok(None)` when the sentinel does not know it (`?`).
    pub fn addr(&self, asked: &Addr, tls: bool) -> Result<Option<Addr>> {
        let host = self
            .get("ip")
            .ok_or_else(|| Error::protocol("sentinel instance without an ip field"))?;
        let port = self
            .get("port")
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or_else(|| {
                Error::protocol(format!("sentinel instance {host:?} without a valid port"))
            })?;
        match redis_core::Addr::node(host, port, tls)?.resolve(asked) {
            Some(addr) => Ok(Some(addr)),
            None => Ok(None),
        }
    }
}

/// Reads a `SENTINEL SENTINELS` or `SENTINEL REPLICAS` reply: an array whose elements are
/// flat field/value arrays (RESP2) or maps (RESP3).
pub fn parse_instances(reply: &Value) -> Result<Vec<Instance>> {
    let items = match reply {
        Value::Array(items) | Value::Set(items) => items,
        _ => return Err(bad("list of sentinel instances", reply)),
    };
    items.iter().map(parse_instance).collect()
}

fn parse_instance(item: &Value) -> Result<Instance> {
    let pair = |k: &Value, v: &Value| match (text(k), text(v)) {
        (Some(k), Some(v)) => Ok((k, v)),
        _ => Err(bad("sentinel instance field", item)),
    };
    let fields = match item {
        Value::Array(flat) if flat.len() % 2 == 0 => flat
            .chunks_exact(2)
            .map(|kv| pair(&kv[0], &kv[1]))
            .collect::<Result<Vec<_>>>()?,
        Value::Map(map) => map
            .iter()
            .map(|(k, v)| pair(k, v))
            .collect::<Result<Vec<_>>>()?,
        _ => return Err(bad("sentinel instance (field/value pairs)", item)),
    };
    Ok(Instance { fields })
}

/// A `+switch-master` event: the sentinels moved a service to a new primary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchMaster {
    /// The service (master) name.
    pub service: String,
    /// The primary before the switch.
    pub old: Addr,
    /// The primary now.
    pub new: Addr,
}

/// Where an instance event (`+sdown`, `-sdown`, ...) says its master is; absent when the
/// instance is itself a master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterRef {
    /// The service (master) name.
    pub service: String,
    /// The master's address.
    pub addr: Addr,
}

/// An instance event such as `+sdown` / `-sdown`:
/// `<instance-type> <name> <ip> <port> [@ <master-name> <master-ip> <master-port>]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstanceEvent {
    /// `master`, `slave` or `sentinel`.
    pub instance_type: String,
    /// The instance's name (`ip:port` for replicas and sentinels, the service for masters).
    pub name: String,
    /// The instance's address.
    pub addr: Addr,
    /// The master it belongs to (absent for a master).
    pub master: Option<MasterRef>,
}

impl InstanceEvent {
    /// The service this event concerns: the instance's master, or the instance itself
    /// when it is a master.
    pub fn service(&self) -> &str {
        match &self.master {
            Some(m) => &m.service,
            None => &self.name,
        }
    }

    /// True for an event about a replica.
    pub fn is_replica(&self) -> bool {
        self.instance_type == "slave"
    }
}

/// A sentinel pub/sub event a client acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `+switch-master`: re-resolve the primary and drop connections to the old one.
    SwitchMaster(SwitchMaster),
    /// `+sdown`: the sentinel sees the instance down (subjectively).
    Down(InstanceEvent),
    /// `-sdown`: the instance is back.
    Up(InstanceEvent),
    /// `+selected-slave`: the sentinel leading a failover picked this replica to promote;
    /// it sends it `REPLICAOF NO ONE` next. From then on, a write the old primary
    /// acknowledges may be lost, so clients stop writing there now rather than at
    /// `+switch-master`. Published by the leading sentinel only.
    FailoverSelected(InstanceEvent),
    /// `-failover-abort-*`: the failover of this (master) instance was given up.
    FailoverAborted(InstanceEvent),
}

/// The channels a client subscribes to on a sentinel.
pub const EVENT_CHANNELS: [&str; 7] = [
    "+switch-master",
    "+sdown",
    "-sdown",
    "+selected-slave",
    "-failover-abort-not-elected",
    "-failover-abort-no-good-slave",
    "-failover-abort-slave-timeout",
];

/// Reads one event from a sentinel's pub/sub channel and payload. `Ok(None)` for channels
/// this client does not act on.
pub fn parse_event(channel: &str, payload: &[u8], tls: bool) -> Result<Option<Event>> {
    let text = std::str::from_utf8(payload)
        .map_err(|_| Error::protocol(format!("sentinel event {channel} is not UTF-8")))?;
    Ok(Some(match channel {
        "+switch-master" => Event::SwitchMaster(parse_switch_master(text, tls)?),
        "+sdown" => Event::Down(parse_instance_event(text, tls)?),
        "-sdown" => Event::Up(parse_instance_event(text, tls)?),
        "+selected-slave" => Event::FailoverSelected(parse_instance_event(text, tls)?),
        c if c.starts_with("-failover-abort-") => {
            Event::FailoverAborted(parse_instance_event(text, tls)?)
        }
        _ => return Ok(None),
    }))
}

/// Reads an event from a pub/sub frame of a sentinel connection (RESP2 or RESP3):
/// `Ok(None)` for subscription confirmations and channels this client does not act on.
pub fn parse_message(msg: &Msg, tls: bool) -> Result<Option<Event>> {
    if !msg.is_message() {
        return Ok(None);
    }
    let Ok(channel) = std::str::from_utf8(msg.channel()) else {
        return Ok(None);
    };
    match msg.payload_value() {
        Value::BulkString(payload) => parse_event(channel, payload, tls),
        other => Err(bad("sentinel event payload", other)),
    }
}

/// Reads a `+switch-master` payload: `<name> <old-ip> <old-port> <new-ip> <new-port>`.
pub fn parse_switch_master(payload: &str, tls: bool) -> Result<SwitchMaster> {
    let bad = || Error::protocol(format!("bad +switch-master payload {payload:?}"));
    let parts: Vec<&str> = payload.split(' ').collect();
    let [service, old_ip, old_port, new_ip, new_port] = parts[..] else {
        return Err(bad());
    };
    Ok(SwitchMaster {
        service: service.to_string(),
        old: event_addr(old_ip, old_port, tls).ok_or_else(bad)?,
        new: event_addr(new_ip, new_port, tls).ok_or_else(bad)?,
    })
}

/// Reads an instance event payload (`+sdown`, `-sdown`, `+odown`, ...):
/// `<instance-type> <name> <ip> <port> [@ <master-name> <master-ip> <master-port>]`.
pub fn parse_instance_event(payload: &str, tls: bool) -> Result<InstanceEvent> {
    let bad = || Error::protocol(format!("bad sentinel instance event {payload:?}"));
    let parts: Vec<&str> = payload.split(' ').collect();
    let (head, master) = match parts[..] {
        [t, n, ip, port] => ([t, n, ip, port], None),
        [t, n, ip, port, "@", m, mip, mport] => ([t, n, ip, port], Some((m, mip, mport))),
        _ => return Err(bad()),
    };
    let [instance_type, name, ip, port] = head;
    let master = match master {
        Some((service, ip, port)) => Some(MasterRef {
            service: service.to_string(),
            addr: event_addr(ip, port, tls).ok_or_else(bad)?,
        }),
        None => None,
    };
    Ok(InstanceEvent {
        instance_type: instance_type.to_string(),
        name: name.to_string(),
        addr: event_addr(ip, port, tls).ok_or_else(bad)?,
        master,
    })
}

/// An address in an event payload; events have no "same host" form, so only a full
/// address is accepted.
fn event_addr(ip: &str, port: &str, tls: bool) -> Option<Addr> {
    let port = port.parse::<u16>().ok()?;
    match Addr::node(ip, port, tls).ok()? {
        redis_core::NodeEndpoint::Addr(a) => Some(a),
        _ => None,
    }
}

/// An address from a reply of the sentinel at `asked`; unknown (`?`) is an error here.
fn node_addr(host: &str, port: u16, asked: &Addr, tls: bool) -> Result<Addr> {
    Addr::node(host, port, tls)?.resolve(asked).ok_or_else(|| {
        Error::protocol(format!(
            "sentinel named no usable address ({host:?}:{port})"
        ))
    })
}

/// A reply element as text: bulk, status and verbatim strings, and integers.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => std::str::from_utf8(b).ok().map(str::to_owned),
        Value::VerbatimString { text, .. } => std::str::from_utf8(text).ok().map(str::to_owned),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Okay => Some("OK".to_owned()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn bad(expected: &str, got: &Value) -> Error {
    Error::protocol(format!("sentinel sent {} for {expected}", got.describe()))
}

#[cfg(test)]
pub(crate) mod tests;

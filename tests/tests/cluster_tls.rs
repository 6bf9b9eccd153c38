//! A cluster served over TLS (issue 7): the nodes announce their TLS ports in `CLUSTER
//! SHARDS`, and both cluster clients, given one TLS config for every node, verify each
//! node's certificate, route to every shard and follow a slot that moves, without a
//! plain-text connection anywhere.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use redis_core::{cmd, Addr, FromValue, Value};
use redis_tests::RedisCluster;

const KEYS: usize = 600;

fn tls_cluster() -> RedisCluster {
    RedisCluster::builder()
        .primaries(3)
        .replicas_per_primary(0)
        .tls()
        .start()
}

fn key(i: usize) -> String {
    format!("tls:{i}")
}

/// Every node address in the client's map is a TLS address, on a port the cluster
/// announced as its TLS port.
fn assert_all_tls(map: &redis_cluster::SlotMap, cluster: &RedisCluster) {
    let tls_ports: Vec<u16> = cluster
        .configs()
        .iter()
        .filter_map(|c| match &c.addr {
            Addr::Tls { port, .. } => Some(*port),
            _ => None,
        })
        .collect();
    let nodes: Vec<&Addr> = map.all_nodes().map(|n| &n.addr).collect();
    assert_eq!(nodes.len(), 3, "{nodes:?}");
    for addr in nodes {
        match addr {
            Addr::Tls { port, .. } => assert!(tls_ports.contains(port), "{addr}"),
            other => panic!("a plain address in a TLS cluster's map: {other}"),
        }
    }
}

#[test]
fn blocking_cluster_client_over_tls() {
    use redis_sync::ConnectionLike;
    let cluster = tls_cluster();
    let client = redis_cluster::sync::ClusterClient::open(cluster.configs()).unwrap();
    let mut con = client.get_connection().unwrap();
    let mut p = redis_core::pipe();
    for i in 0..KEYS {
        p.add(cmd("SET").with(key(i)).with(i));
    }
    con.req_pipeline(&p).unwrap();
    assert_all_tls(&client.slot_map(), &cluster);

    // A slot moves: the MOVED names the TLS port, and the client follows it over TLS.
    let k = key(7);
    let slot = cluster.slot_of(&k);
    let from = cluster.node_for_slot(slot);
    let to = (from + 1) % 3;
    cluster.migrate_slot(slot, to);
    for i in 0..KEYS {
        let v = con.req(&cmd("GET").with(key(i))).unwrap();
        assert_eq!(i64::from_value(v).unwrap(), i as i64, "key {i}");
    }
    assert_all_tls(&client.slot_map(), &cluster);
    let owner = client.slot_map().primary_for(slot).map(|n| n.addr.clone());
    let want = match &cluster.configs()[to].addr {
        Addr::Tls { port, .. } => *port,
        other => panic!("{other}"),
    };
    assert!(
        matches!(owner, Some(Addr::Tls { port, .. }) if port == want),
        "{owner:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_cluster_client_over_tls() {
    use redis_async::ConnectionLike;
    let cluster = tls_cluster();
    let client = redis_cluster::aio::ClusterClient::open(cluster.configs()).unwrap();
    let mut con = client.get_connection().await.unwrap();
    let mut p = redis_core::pipe();
    for i in 0..KEYS {
        p.add(cmd("SET").with(key(i)).with(i));
    }
    con.req_pipeline(&p).await.unwrap();
    assert_all_tls(&client.slot_map(), &cluster);

    let k = key(11);
    let slot = cluster.slot_of(&k);
    let to = (cluster.node_for_slot(slot) + 1) % 3;
    cluster.migrate_slot(slot, to);
    let mut p = redis_core::pipe();
    for i in 0..KEYS {
        p.add(cmd("GET").with(key(i)));
    }
    let replies = con.req_pipeline(&p).await.unwrap();
    for (i, v) in replies.into_iter().enumerate() {
        let v: Value = v.into_result().unwrap();
        assert_eq!(i64::from_value(v).unwrap(), i as i64, "key {i}");
    }
    assert_all_tls(&client.slot_map(), &cluster);
}

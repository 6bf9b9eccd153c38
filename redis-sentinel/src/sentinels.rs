//! The sentinels a client knows, and the order it asks them in.
//!
//! The client rule for sentinels: ask them in turn; the first that answers moves to the
//! front, so the next discovery asks it first and a dead sentinel costs one timeout only
//! until another answers. Sentinels discovered at run time (from `SENTINEL SENTINELS`) are
//! added, and dropped again when the sentinels stop naming them; the configured ones are
//! always kept, so a client can always fall back to what its user gave it.

use std::time::Duration;

use redis_core::{Addr, Backoff, Config};

/// How long one sentinel may take to connect, handshake and answer before the next one
/// is asked (both clients' default).
pub const DEFAULT_SENTINEL_TIMEOUT: Duration = Duration::from_secs(1);

/// The config the shells reach sentinels with: `config`'s credentials, TLS settings and
/// client name, no database (a sentinel has none), one attempt (the next sentinel is the
/// retry), and `timeout` for connecting and for each reply and write. Its address is
/// replaced by each sentinel's.
pub fn sentinel_config(config: Config, timeout: Duration) -> Config {
    let mut config = config;
    config.db = 0;
    config.connect_backoff = Backoff::none();
    config.connect_timeout = timeout;
    config.response_timeout = timeout;
    config.write_timeout = timeout;
    config
}

/// The sentinels in the order to ask them. Pure bookkeeping: the shells keep one per
/// service client and update it with what discovery learned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentinelList {
    order: Vec<Addr>,
    configured: Vec<Addr>,
}

impl SentinelList {
    /// The configured sentinels, asked in this order at first (duplicates dropped).
    pub fn new(configured: impl IntoIterator<Item = Addr>) -> SentinelList {
        let mut order: Vec<Addr> = Vec::new();
        for a in configured {
            if !order.contains(&a) {
                order.push(a);
            }
        }
        SentinelList {
            configured: order.clone(),
            order,
        }
    }

    /// The sentinels in the order to ask them.
    pub fn order(&self) -> &[Addr] {
        &self.order
    }

    /// How many sentinels are known.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when no sentinel is known (a config error the shells report before asking).
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The sentinel at `index` of [`order`](Self::order) answered: it moves to the front,
    /// the others keep their order. An index out of range changes nothing.
    pub fn answered(&mut self, index: usize) {
        if index < self.order.len() {
            let a = self.order.remove(index);
            self.order.insert(0, a);
        }
    }

    /// The sentinel at `index` (of [`order`](Self::order)) answered `SENTINEL SENTINELS`
    /// with `others` (a sentinel never lists itself). Sentinels not known yet are added at
    /// the back; learned ones that are no longer named are dropped, except the one that
    /// answered; configured ones always stay. Returns true when the list changed.
    pub fn learned(&mut self, index: usize, others: impl IntoIterator<Item = Addr>) -> bool {
        let others: Vec<Addr> = others.into_iter().collect();
        let answerer = self.order.get(index).cloned();
        let before = self.order.clone();
        self.order.retain(|a| {
            self.configured.contains(a) || others.contains(a) || Some(a) == answerer.as_ref()
        });
        for a in others {
            if !self.order.contains(&a) {
                self.order.push(a);
            }
        }
        self.order != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(port: u16) -> Addr {
        Addr::tcp("127.0.0.1", port)
    }

    fn ports(list: &SentinelList) -> Vec<u16> {
        list.order()
            .iter()
            .map(|a| match a {
                Addr::Tcp { port, .. } => *port,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_one_that_answered_moves_to_the_front() {
        let mut list = SentinelList::new([s(1), s(2), s(3), s(2)]);
        assert_eq!(ports(&list), [1, 2, 3]);
        list.answered(2);
        assert_eq!(ports(&list), [3, 1, 2]);
        list.answered(0);
        assert_eq!(ports(&list), [3, 1, 2]);
        list.answered(1);
        assert_eq!(ports(&list), [1, 3, 2]);
        list.answered(9);
        assert_eq!(ports(&list), [1, 3, 2]);
        assert_eq!(list.len(), 3);
        assert!(!list.is_empty());
        assert!(SentinelList::new([]).is_empty());
    }

    #[test]
    fn learned_sentinels_are_added_deduped_and_dropped_but_configured_ones_stay() {
        let mut list = SentinelList::new([s(1), s(2)]);
        // Sentinel 1 knows 2 (configured), 4 and 5.
        assert!(list.learned(0, [s(2), s(4), s(5), s(4)]));
        assert_eq!(ports(&list), [1, 2, 4, 5]);
        assert!(!list.learned(0, [s(2), s(4), s(5)]), "nothing new");
        // Learned sentinel 4 answers, and moves to the front.
        list.answered(2);
        assert_eq!(ports(&list), [4, 1, 2, 5]);
        // It names only 1: 5 is gone; 4 itself stays (it answered), 2 is configured.
        assert!(list.learned(0, [s(1)]));
        assert_eq!(ports(&list), [4, 1, 2]);
        // A configured sentinel that nobody names any more is still kept.
        assert!(list.learned(1, []));
        assert_eq!(ports(&list), [1, 2]);
    }
}

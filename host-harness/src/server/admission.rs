//! Admission: how many of something (connections, bodies being read, deliveries or replies in flight) one server
//! takes at once, and how many of those one client address may hold. Past either cap the newcomer is turned away at
//! once (closed, or 503) instead of queued: a flood from one address cannot take every slot, and nothing grows
//! without bound while it waits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// A bounded pool of slots, with a share per client address.
pub(super) struct Admission {
    what: &'static str,
    total: usize,
    per_client: usize,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// One admitted slot, given back when dropped.
pub(super) struct Ticket {
    admission: Arc<Admission>,
    client: IpAddr,
}

impl Admission {
    /// `total` slots; one client may hold `per_client` of them (at least one, at most all).
    pub fn new(what: &'static str, total: usize, per_client: usize) -> Arc<Self> {
        let total = total.max(1);
        Arc::new(Self { what, total, per_client: per_client.clamp(1, total), held: Mutex::default() })
    }

    /// A slot for `client`, or none when the pool or the client's share is full.
    pub fn try_admit(self: &Arc<Self>, client: IpAddr) -> Option<Ticket> {
        let mut held = self.held.lock().expect("admission lock");
        let mine = held.by_client.get(&client).copied().unwrap_or(0);
        if held.total >= self.total || mine >= self.per_client {
            return None;
        }
        held.total += 1;
        held.by_client.insert(client, mine + 1);
        Some(Ticket { admission: self.clone(), client })
    }

    pub fn what(&self) -> &'static str {
        self.what
    }

    pub fn total(&self) -> usize {
        self.total
    }

    /// Slots held now.
    pub fn in_use(&self) -> usize {
        self.held.lock().expect("admission lock").total
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut held = self.admission.held.lock().expect("admission lock");
        held.total -= 1;
        if let Some(mine) = held.by_client.get_mut(&self.client) {
            *mine -= 1;
            if *mine == 0 {
                held.by_client.remove(&self.client);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_client_cannot_take_every_slot_and_slots_come_back() {
        let pool = Admission::new("test", 4, 2);
        let (a, b) = (IpAddr::from([127, 0, 0, 2]), IpAddr::from([127, 0, 0, 1]));
        let first = [pool.try_admit(a), pool.try_admit(a)];
        assert!(first.iter().all(Option::is_some));
        assert!(pool.try_admit(a).is_none(), "a's share is full");
        let others = [pool.try_admit(b), pool.try_admit(b)];
        assert!(others.iter().all(Option::is_some), "b still gets in");
        assert!(pool.try_admit(IpAddr::from([127, 0, 0, 3])).is_none(), "the pool is full");
        drop(first);
        assert_eq!(pool.in_use(), 2);
        assert!(pool.try_admit(a).is_some(), "given back when dropped");
    }
}

//! Fair dispatch inside one partition: fetched records wait here per tenant, and a tenant with
//! TENANT_MAX_IN_FLIGHT records in its handlers waits while other tenants' records go ahead.
//! Among eligible tenants the record with the lowest offset goes first, so the log order is
//! kept wherever fairness does not demand otherwise, and one key's records (one tenant) always
//! leave in offset order.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::bus::Record;

/// The tenant of a record, from its `tenant:exception` key (empty when there is none).
pub fn tenant_of_key(key: Option<&str>) -> &str {
    key.and_then(|key| key.split_once(':').map(|(tenant, _)| tenant))
        .unwrap_or_default()
}

#[derive(Debug)]
pub struct TenantBuffer {
    queues: HashMap<Arc<str>, VecDeque<Record>>,
    in_flight: HashMap<Arc<str>, usize>,
    buffered: usize,
    tenant_cap: usize,
}

impl TenantBuffer {
    pub fn new(tenant_cap: usize) -> Self {
        Self {
            queues: HashMap::new(),
            in_flight: HashMap::new(),
            buffered: 0,
            tenant_cap: tenant_cap.max(1),
        }
    }

    pub fn push(&mut self, record: Record) {
        let tenant: Arc<str> = Arc::from(tenant_of_key(record.key.as_deref()));
        self.queues.entry(tenant).or_default().push_back(record);
        self.buffered += 1;
    }

    #[cfg(test)]
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// The next record to hand to a handler, counting it in flight for its tenant.
    pub fn next_dispatchable(&mut self) -> Option<Record> {
        let tenant = self
            .queues
            .iter()
            .filter(|(tenant, queue)| {
                !queue.is_empty() && self.in_flight_of(tenant) < self.tenant_cap
            })
            .filter_map(|(tenant, queue)| queue.front().map(|head| (head.offset, tenant.clone())))
            .min_by_key(|(offset, _)| *offset)
            .map(|(_, tenant)| tenant)?;
        let record = self.queues.get_mut(&tenant)?.pop_front()?;
        self.buffered -= 1;
        *self.in_flight.entry(tenant).or_default() += 1;
        Some(record)
    }

    /// A handler finished a record of `tenant`.
    pub fn completed(&mut self, tenant: &str) {
        if let Some(count) = self.in_flight.get_mut(tenant) {
            *count = count.saturating_sub(1);
        }
    }

    /// Drops every waiting record (on drain: they were never dispatched and will be redelivered).
    pub fn clear(&mut self) -> usize {
        let dropped = self.buffered;
        self.queues.clear();
        self.buffered = 0;
        dropped
    }

    fn in_flight_of(&self, tenant: &str) -> usize {
        self.in_flight.get(tenant).copied().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(offset: i64, key: &str) -> Record {
        Record {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            key: Some(key.to_owned()),
            payload: Arc::from(&b""[..]),
        }
    }

    #[test]
    fn tenant_comes_from_the_key() {
        assert_eq!(tenant_of_key(Some("acme:EX-1")), "acme");
        assert_eq!(tenant_of_key(Some("no-colon")), "");
        assert_eq!(tenant_of_key(None), "");
    }

    #[test]
    fn log_order_when_no_tenant_is_capped() {
        let mut buffer = TenantBuffer::new(10);
        for (offset, key) in [(0, "a:1"), (1, "b:1"), (2, "a:2")] {
            buffer.push(record(offset, key));
        }
        let order: Vec<i64> = std::iter::from_fn(|| buffer.next_dispatchable())
            .map(|r| r.offset)
            .collect();
        assert_eq!(order, vec![0, 1, 2]);
    }

    #[test]
    fn a_flooding_tenant_waits_at_its_cap_while_others_pass() {
        let mut buffer = TenantBuffer::new(2);
        for offset in 0..100 {
            buffer.push(record(offset, &format!("a:{offset}")));
        }
        buffer.push(record(100, "b:1"));
        let first: Vec<String> = std::iter::from_fn(|| buffer.next_dispatchable())
            .map(|r| r.key.unwrap_or_default())
            .collect();
        assert_eq!(first, vec!["a:0", "a:1", "b:1"]);
        buffer.completed("a");
        assert_eq!(buffer.next_dispatchable().map(|r| r.offset), Some(2));
        assert_eq!(buffer.buffered(), 97);
        assert_eq!(buffer.clear(), 97);
        assert!(buffer.next_dispatchable().is_none());
    }

    #[test]
    fn one_tenants_records_leave_in_offset_order() {
        let mut buffer = TenantBuffer::new(1);
        for offset in [3, 7, 9] {
            buffer.push(record(offset, "a:same"));
        }
        let mut seen = Vec::new();
        while let Some(next) = buffer.next_dispatchable() {
            seen.push(next.offset);
            buffer.completed("a");
        }
        assert_eq!(seen, vec![3, 7, 9]);
    }
}

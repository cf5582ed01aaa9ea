//! This node's metrics, through the `prometheus` crate: counted where things happen (deliveries by outcome, events
//! by kind, replies by status, Graph errors by class, plugin faults, request latency by route), the depths set when
//! scraped. `observe` serves them.

use prometheus::{HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry};

/// The node's metrics, registered once.
pub(super) struct Metrics {
    pub registry: Registry,
    pub deliveries: IntCounterVec,
    pub events: IntCounterVec,
    pub replies: IntCounterVec,
    pub graph_errors: IntCounterVec,
    pub plugin_faults: IntCounter,
    pub latency: HistogramVec,
    pub queue_depth: IntGauge,
    pub forward_depth: IntGauge,
    pub commit_groups: IntGauge,
    pub grouped_calls: IntGauge,
}

fn counter(registry: &Registry, name: &str, help: &str, label: &str) -> IntCounterVec {
    let counter = IntCounterVec::new(Opts::new(name, help), &[label]).expect("a valid metric");
    registry.register(Box::new(counter.clone())).expect("registered once");
    counter
}

fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    let gauge = IntGauge::new(name, help).expect("a valid metric");
    registry.register(Box::new(gauge.clone())).expect("registered once");
    gauge
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let faults = IntCounter::new("messenger_plugin_faults_total", "Plugin traps, deadlines and memory caps")
            .expect("a valid metric");
        registry.register(Box::new(faults.clone())).expect("registered once");
        let latency = HistogramVec::new(
            HistogramOpts::new("messenger_request_duration_seconds", "HTTP request latency by route"),
            &["route", "method", "status"],
        )
        .expect("a valid metric");
        registry.register(Box::new(latency.clone())).expect("registered once");
        Self {
            deliveries: counter(&registry, "messenger_deliveries_total", "Webhook deliveries by outcome", "outcome"),
            events: counter(&registry, "messenger_events_total", "Inbox events stored, by kind", "kind"),
            replies: counter(&registry, "messenger_replies_total", "Replies answered, by status", "status"),
            graph_errors: counter(
                &registry,
                "messenger_graph_errors_total",
                "Graph send errors by retry class",
                "class",
            ),
            plugin_faults: faults,
            latency,
            queue_depth: gauge(&registry, "messenger_outbox_pending", "Replies queued and not settled"),
            forward_depth: gauge(
                &registry,
                "messenger_forward_pending",
                "Committed events not yet acknowledged by the push receiver (counted up to 1000)",
            ),
            commit_groups: gauge(
                &registry,
                "messenger_commit_groups",
                "Transactions that committed deliveries together since start (group commit)",
            ),
            grouped_calls: gauge(
                &registry,
                "messenger_grouped_commits",
                "Deliveries committed in those transactions since start: divided by the groups, the mean group size",
            ),
            registry,
        }
    }
}

impl Metrics {
    /// A delivery's outcome: `committed` (with its events counted by kind), `bad-signature`, `refused`, `fault`,
    /// `error` or `busy`.
    pub fn delivery(&self, outcome: &str, events: &[messenger_core::events::InboxEvent]) {
        self.deliveries.with_label_values(&[outcome]).inc();
        for event in events {
            let kind = serde_json::to_value(event).ok().and_then(|e| e["kind"].as_str().map(str::to_owned));
            self.events.with_label_values(&[kind.as_deref().unwrap_or("unknown")]).inc();
        }
    }

    /// A reply's answer: its status, and each failed message's retry class.
    pub fn reply(&self, answer: &serde_json::Value) {
        self.replies.with_label_values(&[answer["status"].as_str().unwrap_or("refused")]).inc();
        for line in answer["deliveries"].as_array().into_iter().flatten() {
            if let Some(class) = line["retry"].as_str() {
                self.graph_errors.with_label_values(&[class]).inc();
            }
        }
    }
}

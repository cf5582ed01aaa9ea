//! Time and identity of this process: the base every layer above may use.

/// The wall clock in Unix milliseconds: the `now` the host passes to the component.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// This process's name among several nodes on one database: host, process id and start time.
pub fn node_name() -> String {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        let host = std::fs::read_to_string("/etc/hostname").map_or_else(|_| "node".into(), |h| h.trim().to_owned());
        format!("{host}-{}-{}", std::process::id(), now_ms())
    })
    .clone()
}

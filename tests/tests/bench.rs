//! `bench --quick --serve` prints every figure DESIGN.md names (and the validation of a 10-card carousel), and the serve figures on a PostgreSQL (speed is
//! the benchmark's business, not a test's).

#[test]
fn the_quick_bench_reports_every_design_figure() {
    let postgres = messenger_test_support::pg::Postgres::start();
    let url = postgres.create_database("bench");
    let figures = messenger_harness::tools::bench::run(true, true, Some(&url)).unwrap();
    for key in [
        "component_bytes",
        "compile_ms",
        "load_precompiled_ms",
        "instantiate_pooled_us",
        "instantiate_unpooled_us",
        "inbound_exports_us",
        "instance_drop_pooled_us",
        "call_state_us",
        "translate_text_first_call_us",
        "translate_native_us",
        "translate_wasm_us",
        "wasm_native_ratio",
        "wasm_native_ratio_batch",
        "wasm_native_ratio_korean",
        "delivery_us",
        "delivery_reused_instance_us",
        "delivery_fresh_minus_reused_us",
        "deliveries_per_s_per_core",
        "comment_delivery_us",
        "outbound_split_us",
        "validate_card10_us",
        "instance_memory_bytes",
        "serve_rps",
        "serve_p99_ms",
        "bare_rps",
        "serve_bare_ratio",
        "serve_native_rps",
        "serve_native_ratio",
        "serve_pg_rps",
        "serve_pg_p99_ms",
        "serve_pg2_rps",
        "serve_pg2_p99_ms",
        "serve_pg_sqlite_ratio",
        "feed_events_per_s",
        "push_lag_p50_ms",
        "push_lag_p99_ms",
    ] {
        let value = figures.get(key).unwrap_or_else(|| panic!("{key} is missing"));
        assert!(value.as_f64().is_some_and(|v| v > 0.0), "{key} = {value}");
    }
    // Counts: 0 is a figure too.
    for key in ["instance_memory_grows_batch", "storage_crossings_batch"] {
        assert!(figures.get(key).is_some_and(|value| value.is_u64()), "{key} is missing or not a count");
    }
    for key in ["serve_rps", "serve_p99_ms", "serve_bare_ratio", "serve_pg_rps"] {
        let spread = &figures[&format!("{key}_spread")];
        assert!(spread[0].as_f64() <= spread[1].as_f64(), "{key}: the spread of its runs is min..max: {spread}");
    }
    let goals = &figures["goals"];
    for key in ["component_bytes", "delivery_us", "serve_bare_ratio", "serve_p99_ms", "serve_pg_sqlite_ratio"] {
        assert!(goals[key]["goal"].is_string() && goals[key]["met"].is_boolean(), "the goal of {key}: {goals}");
    }
}

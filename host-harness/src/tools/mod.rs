//! Tools that drive the component as a whole: the benchmark and the fuzzer.

pub mod bench;
pub mod fuzz;

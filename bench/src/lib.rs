//! qaagent's benchmarks: the fixtures they need (a large-JUnit generator,
//! fixture projects, the shard runs of the merge benchmark), process measurement, and the in-process post-processing
//! benchmark. The `qaagent-bench` binary runs the whole-process benchmarks;
//! `cargo bench -p qaagent-bench` runs the criterion ones. See BENCHMARKS.md.

pub mod junit_gen;
pub mod measure;
pub mod postprocess;
pub mod projects;
pub mod shard_gen;

//! The whole-process benchmarks, one module per target of BENCHMARKS.md; each
//! has a `run` that measures and returns one row per target.

pub(crate) mod big_output;
pub(crate) mod flaky;
pub(crate) mod junit;
pub(crate) mod merge;
pub(crate) mod overhead;
pub(crate) mod partition;
pub(crate) mod playwright;
pub(crate) mod postprocess;
pub(crate) mod scaling;
pub(crate) mod split;
pub(crate) mod startup;

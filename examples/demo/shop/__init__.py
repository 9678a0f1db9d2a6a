"""A tiny shop: the code the demo's suites test."""

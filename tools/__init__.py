"""Helpers for people and scripts driving a running Pinke over HTTP (demo, benchmarks, e2e tests)."""

"""Scripts that drive a running Pinke over HTTP: benchmarks (and the demo walkthrough)."""

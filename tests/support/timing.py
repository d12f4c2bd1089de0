"""Wall-clock bounds for the few tests whose point is promptness (settlement after a deadline, a
payment reaching every screen). The claims themselves — p50/p99 against a baseline — are measured by
the benchmarks in bench/; a test on a loaded 2-core CI machine must not fail because the machine was
busy, so its bound is the claim times PINKE_TIMING_SLACK (default 4; `PINKE_TIMING_SLACK=1 make test`
holds a quiet machine to the claim itself)."""
import os


def bound(claim_s: float) -> float:
    return claim_s * float(os.environ.get('PINKE_TIMING_SLACK', '4'))

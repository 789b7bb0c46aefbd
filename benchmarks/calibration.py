"""Print the false-alarm and power tables of docs/monitor.md ("Calibration"), measured now.

The simulations are the test suite's own (tests/stats/test_calibration_drift.py,
test_calibration_quality.py, test_stats_robust.py, tests/lifecycle/monitor/
test_alert_calibration.py), with the same seeds, run with more repetitions and sizes than the
quick suite affords. Seeded, so two runs print the same figures.

    python benchmarks/calibration.py [drift|quality|performance|all] [--million-reps 100]

`drift` includes 1,000,000-row repetitions (about 3 s each on 2 vCPU); `--million-reps 0`
leaves them out.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests")]

DRIFT_NULL = [(50, 200), (200, 200), (1000, 100), (10_000, 100), (100_000, 20)]
DRIFT_POWER = [
    ("cauchy_location_half_scale", (200, 1000, 10_000)),
    ("lognormal_scale_1_5", (200, 1000, 10_000)),
    ("zeros_plus_5_points", (1000, 10_000, 100_000)),
    ("normal_mean_0_1_sd", (1000, 10_000, 100_000)),
    ("normal_scale_1_5", (200, 1000)),
    ("boolean_30_to_40", (1000, 100_000)),
    ("zipf_200_exponent_1_1_to_0_9", (200, 2000, 10_000, 100_000)),
]


def drift(million_reps: int) -> None:
    from stats.test_calibration_drift import alarm_rate, power

    print("drift, unchanged data: n, repetitions, any column drifted, columns that fired")
    sizes = DRIFT_NULL + ([(1_000_000, million_reps)] if million_reps else [])
    for n, reps in sizes:
        rate, per_column = alarm_rate(n, reps, seed=n if n < 1_000_000 else 7)
        print(f"  {n:>9,} {reps:>4} {rate:.3f} {per_column}", flush=True)
    from stats.test_stats_robust import _sparse_alarm_rate

    print("drift, 60 uniform levels, unchanged: reference / batch rows, rate of 300")
    for n_ref, n_cur in [(50, 50), (10_000, 50), (200, 200), (1000, 1000)]:
        rate = _sparse_alarm_rate(n_ref, n_cur, 300, seed=n_ref + n_cur)
        print(f"  {n_ref:,} / {n_cur:,}: {rate:.3f}", flush=True)
    print("drift, named shifts: share of 20 draws caught, per n")
    for kind, sizes_ in DRIFT_POWER:
        caught = [f"{n:,}: {power(kind, n, reps=20, seed=len(kind) + n):.2f}" for n in sizes_]
        print(f"  {kind}: {', '.join(caught)}", flush=True)


def quality() -> None:
    import numpy as np

    from mlops.stats import build_spec, compute_quality, profile_chunks
    from stats.test_calibration_quality import _missing_power, _share_power, alarm_rates
    from stats.test_stats_robust import _many_levels

    print("quality, unchanged data: n, repetitions, rate per check")
    for n, reps in [(50, 300), (200, 300), (1000, 200), (10_000, 50)]:
        print(f"  {n:>6,} {reps:>4} {alarm_rates(n, reps, seed=n)}", flush=True)
    print("quality, 5% beyond the range / in one new category: share of 200 draws (40 at 10k)")
    for check in ("out_of_range", "unseen_categories"):
        for n in (50, 200, 1000, 10_000):
            reps = 40 if n == 10_000 else 200
            print(f"  {check} {n:,}: {_share_power(check, n, reps, seed=n + len(check)):.3f}")
    print("missing 1% -> 5%, reference 100,000 rows: share caught per batch size")
    for n, reps in [(100_000, 20), (1000, 100), (200, 100)]:
        print(f"  {n:,}: {_missing_power(100_000, n, 0.01, 0.05, reps=reps, seed=n):.2f}")
    print("5,000 Zipf levels, a new category at 2%: caught / quiet on unchanged, of 10 draws")
    for n in (1000, 10_000, 100_000):
        rng = np.random.default_rng(n)
        caught = quiet = 0
        for _ in range(10):
            ref = _many_levels(rng, n, 0.0)
            spec = build_spec(ref)
            ref_p = profile_chunks(ref, spec)
            new = compute_quality(ref_p, profile_chunks(_many_levels(rng, n, 0.02), spec))
            same = compute_quality(ref_p, profile_chunks(_many_levels(rng, n, 0.0), spec))
            caught += any(i.check == "unseen_categories" for i in new.issues)
            quiet += not same.issues
        print(f"  {n:,}: caught {caught}/10, quiet {quiet}/10", flush=True)
    out_of_range_alternative()


def one_ended(k: int, n_ref: int, n_cur: int) -> float:
    """P(the k largest of all values are all current ones): the exact one-ended test."""
    from scipy.special import gammaln

    if k <= 0:
        return 1.0
    total = n_ref + n_cur
    log_p = gammaln(n_cur + 1) - gammaln(n_cur - k + 1) - gammaln(total + 1)
    return float(math.exp(log_p + gammaln(total - k + 1)))


def out_of_range_alternative(reps: int = 2000) -> None:
    """The shipped two-ended count test against one exact test per end (Bonferroni x2), on 5%
    of the batch moved beyond the maximum and on a scale change x1.5 (values beyond both)."""
    import numpy as np

    from mlops.stats.distances import out_of_range_p_value

    print("out of range at 0.001, share > 1%: shipped count test vs one test per end")
    for shift in ("5% beyond max", "scale x1.5"):
        for n in (50, 200, 1000):
            rng = np.random.default_rng(n)
            count = ends = 0
            for _ in range(reps):
                ref, x = rng.standard_normal(n), rng.standard_normal(n)
                if shift == "scale x1.5":
                    x *= 1.5
                else:
                    moved = rng.random(n) < 0.05
                    x[moved] = ref.max() + rng.random(int(moved.sum()))
                lo, hi = int((x < ref.min()).sum()), int((x > ref.max()).sum())
                if (lo + hi) / n <= 0.01:
                    continue
                count += out_of_range_p_value(lo + hi, n, n) < 0.001
                ends += 2 * min(one_ended(lo, n, n), one_ended(hi, n, n)) < 0.001
            print(f"  {shift}, n {n:,}: count test {count / reps:.3f}, per end {ends / reps:.3f}")


def performance() -> None:
    from lifecycle.monitor.test_alert_calibration import false_alarm_rate, power

    print("performance, unchanged data: holdout, batch, repetitions, (tested, max_drop alone)")
    for nh, nb, reps in [
        (1000, 1000, 300),
        (200, 200, 300),
        (1000, 50, 300),
        (1000, 200, 300),
        (10_000, 10_000, 100),
    ]:
        print(f"  {nh:,} {nb:,} {reps} {false_alarm_rate(nh, nb, reps, nh + nb, min_rows=20)}")
    flip = 0.05 / 0.6  # accuracy ~0.80: flipping f of the labels lowers it by ~0.6 f
    print("performance, true accuracy drop: share of 100 draws with an accuracy alert")
    for label, args, kw in [
        ("0.05, 5,000/5,000, max_drop 0.02", (5000, 5000, flip, 100, 11), {"max_drop": 0.02}),
        ("0.05, 1,000/5,000, max_drop 0.02", (1000, 5000, flip, 100, 13), {"max_drop": 0.02}),
        ("0.05, 5,000/5,000, defaults", (5000, 5000, flip, 100, 14), {}),
        ("0.10, 1,000/1,000, defaults", (1000, 1000, 0.10 / 0.6, 100, 12), {}),
    ]:
        print(f"  {label}: {power(*args, **kw):.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section", nargs="?", default="all")
    parser.add_argument("--million-reps", type=int, default=100)
    args = parser.parse_args()
    if args.section in ("drift", "all"):
        drift(args.million_reps)
    if args.section in ("quality", "all"):
        quality()
    if args.section in ("performance", "all"):
        performance()


if __name__ == "__main__":
    main()

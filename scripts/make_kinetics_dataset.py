"""Write ``data/own/kinetics.csv`` and ``kinetics.yaml``: a simulated flow-chemistry lab.

The pipeline's seventh dataset, which no ardlib code knows by name: it enters through
``params.yaml``'s ``datasets`` section as a CSV with a header plus a spec, the way a
researcher's own measurements would.  It is generated (no public lab data can be fetched
here), from textbook kinetics rather than a benchmark formula:

- consecutive first-order reactions A -> B -> C in a plug-flow reactor, B the product;
  Arrhenius rate constants (k1: Ea 60 kJ/mol, scaled by the catalyst loading; k2: Ea
  85 kJ/mol), so the yield of B peaks at a temperature that depends on residence time;
- a second-order side reaction of A that grows with the feed concentration;
- heteroscedastic measurement error (3 % of the yield plus 0.5 points, as HPLC area
  percentages behave), 150 runs on a Latin hypercube and 3 replicates of every tenth run;
- cells written with 4-6 significant digits, as a lab's export would, and one temperature
  that lies 1e-14 below its bound (rounding, which the import must tolerate).

Run from the repository root: ``python scripts/make_kinetics_dataset.py`` (seeded; the
output is byte-identical on every run).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from scipy.stats import qmc

R = 8.314e-3  # kJ / (mol K)
BOUNDS = {
    "temperature_c": (40.0, 120.0),
    "residence_min": (1.0, 30.0),
    "feed_molar": (0.1, 1.0),
    "catalyst_molpct": (0.5, 5.0),
}


def yield_of_b(x: np.ndarray) -> np.ndarray:
    """Yield of B (%) after the residence time, from the closed-form kinetics."""
    t_c, tau, conc, cat = x.T
    temp = t_c + 273.15
    k1 = 0.35 * (cat / 2.0) ** 0.8 * np.exp(-60.0 / R * (1 / temp - 1 / 353.15))
    k2 = 0.05 * np.exp(-85.0 / R * (1 / temp - 1 / 353.15))
    side = 1.0 / (1.0 + 0.6 * conc * np.sqrt(k1))  # fraction of A not lost to dimerization
    b = k1 / (k2 - k1) * (np.exp(-k1 * tau) - np.exp(-k2 * tau))
    return 100.0 * side * b


def main(out: Path = Path("data", "own")) -> None:
    """Write the CSV and the spec into ``out``."""
    rng = np.random.default_rng(20261205)
    low, high = np.array(list(BOUNDS.values())).T
    X = qmc.scale(qmc.LatinHypercube(d=len(BOUNDS), seed=rng).random(150), low, high)
    X = np.vstack([X, np.repeat(X[::10], 3, axis=0)])
    X[7, 0] = low[0] - 1e-14  # a rounding error in the lab's export
    mean = yield_of_b(np.clip(X, low, high))
    y = mean + rng.normal(0.0, 0.03 * mean + 0.5)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "kinetics.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([*BOUNDS, "yield_pct"])
        for row, value in zip(X, y, strict=True):
            cells = [repr(float(row[0])) if abs(row[0] - low[0]) < 1e-9 else f"{row[0]:.4f}"]
            cells += [f"{v:.4g}" for v in row[1:]] + [f"{value:.3f}"]
            w.writerow(cells)
    spec = ["parameters:"]
    spec += [f"  - {{name: {k}, low: {lo}, high: {hi}}}" for k, (lo, hi) in BOUNDS.items()]
    spec += [
        "measurement: yield_pct",
        "goal: maximize",
        'reference: "simulated A->B->C flow reactor (Arrhenius kinetics, heteroscedastic '
        'HPLC error); scripts/make_kinetics_dataset.py"',
    ]
    (out / "kinetics.yaml").write_text("\n".join(spec) + "\n")


if __name__ == "__main__":
    main()

"""Seeded sample points for scalar checks: fixed landmarks plus random ones.

The landmarks span negative, zero, positive and large magnitudes (where saturating
activations and their derivatives misbehave); the random points, drawn from the seed, catch
what landmarks miss. Kinks are kept out: a function is checked where it is differentiable,
and its kinks are reported separately against torch's convention.
"""

from __future__ import annotations

import math
import random

LANDMARKS = (-10.0, -5.0, -2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 5.0, 10.0)
RANDOM_POINTS = 21
KINK_GAP = 1e-3


def sample(seed: int, *, domain: str = "real", kinks: tuple[float, ...] = (),
           count: int = RANDOM_POINTS) -> list[float]:
    rng = random.Random(seed)
    points = list(LANDMARKS) + [round(rng.gauss(0.0, 3.0), 6) for _ in range(count)]
    if domain == "positive":
        points = [abs(p) for p in points if p != 0] + [1e-3, 0.25]
    elif domain == "above_one":  # acosh
        points = [1 + abs(p) for p in points if p != 0] + [1.001, 1.25]
    elif domain == "unit":  # atanh: |x| < 1, spread over it by x/(1 + |x|)
        points = [round(p / (1 + abs(p)), 6) for p in points]
    elif domain == "nonzero":  # csch, coth: a pole at 0
        points = [p for p in points if p != 0]
    elif domain == "nonpole":  # tan, sec: poles at odd multiples of pi/2
        points = [p for p in points if abs(math.cos(p)) > 1e-3]
    points = [p for p in points if all(abs(p - k) > KINK_GAP for k in kinks)]
    return sorted(set(points), key=lambda p: (abs(p), p))


def held_values(seed: int, names: list[str]) -> dict[str, float]:
    """Values for the other variables of a multi-variable target, drawn from the seed."""
    rng = random.Random(seed + 1)
    return {n: round(rng.uniform(0.5, 2.0), 6) for n in sorted(names)}


HELD_VARIATIONS = 6


def held_variations(seed: int, names: list[str]) -> list[dict[str, float]]:
    """Further values for the other variables, over both signs and a wider range.

    A claim about ∂(x·y)/∂x is judged with y varied too: held at one positive y, `abs(y)`
    and even the number y itself would pass. The first variation makes every value
    negative; the rest draw signs and magnitudes from the seed."""
    if not names:
        return []
    rng = random.Random(seed + 2)
    out = [{n: -round(rng.uniform(0.25, 3.0), 6) for n in sorted(names)}]
    for _ in range(HELD_VARIATIONS - 1):
        out.append({n: round(rng.choice((-1, 1)) * rng.uniform(0.25, 3.0), 6)
                    for n in sorted(names)})
    return out

"""One place for seeds: derive a trial's seed, and seed every generator with it."""

from __future__ import annotations

import random


def derive_seed(*parts: int) -> int:
    """A 31-bit seed derived from non-negative integers; different tuples give independent seeds."""
    import numpy as np

    return int(np.random.SeedSequence(list(parts)).generate_state(1)[0] & 0x7FFFFFFF)


def trial_seed(study_seed: int, trial_number: int) -> int:
    """The seed of trial ``trial_number`` in a study seeded with ``study_seed`` (stable across runs)."""
    return derive_seed(study_seed, trial_number)


def seed_everything(seed: int) -> int:
    """Seed Python's, NumPy's and torch's generators with ``seed`` and return it (for logging)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed

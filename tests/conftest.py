"""Shared test configuration: a deterministic hypothesis profile, so CI runs reproduce."""

import os

from hypothesis import HealthCheck, settings

# Derandomized: the same examples on every run, so a red CI reproduces locally.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
# For local bug hunting: HYPOTHESIS_PROFILE=dev pytest
settings.register_profile("dev", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

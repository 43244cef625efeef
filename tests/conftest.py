"""Shared test configuration.

Hypothesis profiles: "ci" (used when the CI environment variable is set) is derandomized, has
no deadline (the machine is shared and timing is noisy) and runs enough examples to find
something; "dev" is quicker for local iteration. Select one explicitly with
HYPOTHESIS_PROFILE=ci|dev.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev", max_examples=50, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

"""Project-wide test settings: hypothesis without timing-based failures (CI machines vary in load)."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "mlops",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("mlops")

"""Timing profiles of stack.yaml (`profiles:`): the windows and intervals of the rules, per profile.

A profile changes windows, never code: `production` (the default) and `fast` (for `obsstack verify`).
"""

from typing import Self

from pydantic import model_validator

from stack.durations import Duration
from stack.service_settings import Frozen


class Profile(Frozen):
    """Timings: a profile changes windows, never code."""

    scrape_interval: Duration = Duration.parse("15s")
    evaluation_interval: Duration = Duration.parse("15s")
    rate_window: Duration = Duration.parse("5m")
    slo_window: Duration = Duration.parse("30d")
    latency_for: Duration = Duration.parse("5m")
    error_rate_for: Duration = Duration.parse("5m")
    db_pool_for: Duration = Duration.parse("5m")
    target_down_for: Duration = Duration.parse("2m")
    absent_for: Duration = Duration.parse("10m")
    traffic_baseline_window: Duration = Duration.parse("1h")
    traffic_drop_for: Duration = Duration.parse("10m")
    restart_window: Duration = Duration.parse("15m")
    group_wait: Duration = Duration.parse("30s")
    group_interval: Duration = Duration.parse("5m")
    repeat_interval: Duration = Duration.parse("4h")

    @model_validator(mode="after")
    def _windows(self) -> Self:
        if self.scrape_interval.ms <= 0 or self.evaluation_interval.ms <= 0:
            raise ValueError(
                "scrape_interval and evaluation_interval must be greater than 0s, "
                f"got {self.scrape_interval} and {self.evaluation_interval}"
            )
        if self.rate_window.ms < 4 * self.scrape_interval.ms:
            raise ValueError(
                f"rate_window ({self.rate_window}) must be at least 4x scrape_interval "
                f"({self.scrape_interval}), or rates have too few samples"
            )
        if self.traffic_baseline_window.ms < 2 * (self.rate_window.ms + self.traffic_drop_for.ms):
            raise ValueError(
                f"traffic_baseline_window ({self.traffic_baseline_window}) must be at least 2x rate_window + "
                f"traffic_drop_for ({self.rate_window} + {self.traffic_drop_for}), "
                "or a drop fades from its own baseline"
            )
        shortest_burn = self.slo_window * (5 / (30 * 24 * 60))
        if shortest_burn.ms < 4 * self.scrape_interval.ms:
            raise ValueError(
                f"slo_window ({self.slo_window}) gives a shortest burn-rate window of {shortest_burn}, "
                f"expected at least 4x scrape_interval ({self.scrape_interval})"
            )
        return self


class FastProfile(Profile):
    """For `obsstack verify`: the same rules with seconds instead of minutes."""

    scrape_interval: Duration = Duration.parse("1s")
    evaluation_interval: Duration = Duration.parse("1s")
    rate_window: Duration = Duration.parse("30s")
    slo_window: Duration = Duration.parse("12h")
    latency_for: Duration = Duration.parse("10s")
    error_rate_for: Duration = Duration.parse("10s")
    db_pool_for: Duration = Duration.parse("10s")
    target_down_for: Duration = Duration.parse("10s")
    absent_for: Duration = Duration.parse("30s")
    traffic_baseline_window: Duration = Duration.parse("3m")
    traffic_drop_for: Duration = Duration.parse("10s")
    restart_window: Duration = Duration.parse("1m")
    group_wait: Duration = Duration.parse("1s")
    group_interval: Duration = Duration.parse("5s")
    # short, so a run of verify is notified even when Alertmanager's log still holds the same alert as
    # sent by an earlier run whose resolution never reached a receiver (a verify that was stopped)
    repeat_interval: Duration = Duration.parse("30s")


class Profiles(Frozen):
    production: Profile = Profile()
    fast: FastProfile = FastProfile()

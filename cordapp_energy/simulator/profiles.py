"""Seeded PV generation and household load in 15-minute intervals, as integer Wh.

The PV model is a clear-sky curve scaled by a daily weather draw, following the reference
deployment's community (BRIEF.md): 5-15 kW panels, weather factors sunny 1.0, partly cloudy
0.72, cloudy 0.42, overcast 0.18, rainy 0.10. Clear-sky irradiance uses the standard solar
geometry (declination, hour angle, elevation) and the Haurwitz clear-sky model, which needs no
data files; floats are used here only to produce readings, which are rounded to whole Wh
before anything reaches the ledger.

A second PV model, `PvModel.GAUSSIAN`, is the Besu/Quorum paper's: 6000·exp(-0.5((h - peak)/3)²)
+ N(0, 100) W for a 6 kW system (scaled here to each household's panel), zero at night, and one
cloudy week (days 8 to 14) at 0.2x.
"""

from __future__ import annotations

import enum
import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

INTERVALS_PER_DAY = 96
INTERVAL_HOURS = 0.25

WEATHER: dict[str, float] = {
    "sunny": 1.0,
    "partly cloudy": 0.72,
    "cloudy": 0.42,
    "overcast": 0.18,
    "rainy": 0.10,
}
WEATHER_ODDS: dict[str, int] = {
    "sunny": 35,
    "partly cloudy": 30,
    "cloudy": 18,
    "overcast": 10,
    "rainy": 7,
}
"""Relative frequency of each day type (a temperate summer)."""

PERFORMANCE_RATIO = 0.8
"""Inverter, temperature and wiring losses of a typical rooftop system."""

GAUSSIAN_PEAK_HOUR = 12.0
GAUSSIAN_NIGHT_HOURS = 7.0
"""The Gaussian curve is cut to zero more than this many hours from its peak (night)."""
CLOUDY_WEEK = range(7, 14)
CLOUDY_FACTOR = 0.2


class PvModel(enum.StrEnum):
    """Which generation curve the prosumers' panels follow."""

    CLEAR_SKY = "clear-sky"
    GAUSSIAN = "gaussian"


@dataclass(frozen=True)
class CommunityParameters:
    """Everything that shapes the generated data; the same parameters give the same data."""

    prosumers: int = 4
    consumers: int = 4
    seed: int = 42
    start: date = date(2026, 6, 1)
    latitude_deg: float = 52.0
    pv_kw_range: tuple[float, float] = (5.0, 15.0)
    prosumer_daily_load_kwh: tuple[float, float] = (6.0, 12.0)
    consumer_daily_load_kwh: tuple[float, float] = (8.0, 16.0)
    pv_model: PvModel = PvModel.CLEAR_SKY


REFERENCE_COMMUNITY = CommunityParameters(prosumers=12, consumers=68, seed=42)
"""The reference deployment's community: 12 solar prosumers (5-15 kW) and 68 consumers."""
REFERENCE_DAYS = 30


@dataclass(frozen=True)
class Household:
    name: str
    pv_kw: float
    daily_load_kwh: float


@dataclass
class DayProfile:
    """One day of readings: generation and load per household per interval, in Wh."""

    day: date
    weather: str
    generation_wh: dict[str, list[int]] = field(default_factory=dict)
    load_wh: dict[str, list[int]] = field(default_factory=dict)

    def surplus_wh(self, name: str, interval: int) -> int:
        return (
            self.generation_wh.get(name, [0] * INTERVALS_PER_DAY)[interval]
            - self.load_wh[name][interval]
        )


def clear_sky_w_per_m2(day: date, hour_utc: float, latitude_deg: float) -> float:
    """Global horizontal irradiance under a clear sky (Haurwitz), 0 at night."""
    day_of_year = day.timetuple().tm_yday
    declination = math.radians(23.45) * math.sin(2 * math.pi * (284 + day_of_year) / 365)
    hour_angle = math.radians(15 * (hour_utc - 12))
    latitude = math.radians(latitude_deg)
    cos_zenith = math.sin(latitude) * math.sin(declination) + math.cos(latitude) * math.cos(
        declination
    ) * math.cos(hour_angle)
    if cos_zenith <= 0:
        return 0.0
    return 1098 * cos_zenith * math.exp(-0.057 / cos_zenith)


def _load_shape(interval: int) -> float:
    """Relative household demand: a night base, a morning and a larger evening peak."""
    hour = (interval + 0.5) * INTERVAL_HOURS
    base = 0.35
    morning = 0.9 * math.exp(-((hour - 7.5) ** 2) / 2.0)
    evening = 1.4 * math.exp(-((hour - 19.0) ** 2) / 3.0)
    midday = 0.3 * math.exp(-((hour - 13.0) ** 2) / 6.0)
    return base + morning + evening + midday


_LOAD_TOTAL = sum(_load_shape(i) for i in range(INTERVALS_PER_DAY))


class Community:
    """The households of a simulated energy community and their seeded daily readings."""

    def __init__(self, parameters: CommunityParameters) -> None:
        self.parameters = parameters
        rng = random.Random(parameters.seed)
        low, high = parameters.pv_kw_range
        self.prosumers = [
            Household(
                f"Prosumer {i + 1}",
                round(rng.uniform(low, high), 1),
                rng.uniform(*parameters.prosumer_daily_load_kwh),
            )
            for i in range(parameters.prosumers)
        ]
        self.consumers = [
            Household(f"Consumer {i + 1}", 0.0, rng.uniform(*parameters.consumer_daily_load_kwh))
            for i in range(parameters.consumers)
        ]

    @property
    def households(self) -> list[Household]:
        return [*self.prosumers, *self.consumers]

    def day(self, index: int) -> DayProfile:
        """Readings for day `index` (0-based); each day has its own seeded weather and noise."""
        day = self.parameters.start + timedelta(days=index)
        rng = random.Random(f"{self.parameters.seed}/{index}")
        weather = rng.choices(list(WEATHER_ODDS), weights=list(WEATHER_ODDS.values()))[0]
        factor = WEATHER[weather]
        gaussian = self.parameters.pv_model is PvModel.GAUSSIAN
        if gaussian:
            cloudy = index in CLOUDY_WEEK
            weather, factor = ("cloudy week", CLOUDY_FACTOR) if cloudy else ("clear", 1.0)
        profile = DayProfile(day=day, weather=weather)
        pv = self._gaussian_wh if gaussian else self._pv_wh
        for household in self.prosumers:
            profile.generation_wh[household.name] = [
                pv(household, day, interval, factor, rng) for interval in range(INTERVALS_PER_DAY)
            ]
        for household in self.households:
            profile.load_wh[household.name] = [
                self._load_wh(household, interval, rng) for interval in range(INTERVALS_PER_DAY)
            ]
        return profile

    def _pv_wh(
        self, household: Household, day: date, interval: int, weather: float, rng: random.Random
    ) -> int:
        hour = (interval + 0.5) * INTERVAL_HOURS
        irradiance = clear_sky_w_per_m2(day, hour, self.parameters.latitude_deg)
        noise = rng.uniform(0.9, 1.1) if irradiance else 1.0
        watts = household.pv_kw * 1000 * irradiance / 1000 * PERFORMANCE_RATIO * weather * noise
        return max(0, round(watts * INTERVAL_HOURS))

    @staticmethod
    def _gaussian_wh(
        household: Household, day: date, interval: int, factor: float, rng: random.Random
    ) -> int:
        """The Besu/Quorum curve, 6000 W at the peak for 6 kW, scaled to this panel."""
        hour = (interval + 0.5) * INTERVAL_HOURS
        if abs(hour - GAUSSIAN_PEAK_HOUR) > GAUSSIAN_NIGHT_HOURS:
            return 0
        curve = 6000 * math.exp(-0.5 * ((hour - GAUSSIAN_PEAK_HOUR) / 3) ** 2)
        watts = (curve + rng.gauss(0, 100)) * household.pv_kw / 6 * factor
        return max(0, round(watts * INTERVAL_HOURS))

    @staticmethod
    def _load_wh(household: Household, interval: int, rng: random.Random) -> int:
        share = _load_shape(interval) / _LOAD_TOTAL
        return max(0, round(household.daily_load_kwh * 1000 * share * rng.uniform(0.85, 1.15)))

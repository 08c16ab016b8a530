"""Units: written quantities become SI floats; anything else is refused with what is allowed."""

import pytest

from sim.units import UnitError, format_duration, parse_duration, parse_rate, parse_share, parse_size


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("5m", 300), ("250ms", 0.25), ("1h", 3600),
                                           ("30us", 30e-6), (12, 12), ("1.5", 1.5), ("2w", 14 * 86400)])
def test_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, size", [("1.5GB", 1.5e9), ("2GiB", 2 * 2**30), ("500MB", 5e8), (1000, 1000)])
def test_sizes(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text, rate", [("10Gbps", 1.25e9), ("1Gbps", 1.25e8), ("125MB/s", 1.25e8), ("8bps", 1)])
def test_rates(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text, share", [("25%", 0.25), ("0.2%", 0.002), (0.5, 0.5), ("100%", 1.0), (0, 0.0)])
def test_shares(text, share):
    assert parse_share(text) == pytest.approx(share)


@pytest.mark.parametrize("parse, text, reason", [
    (parse_duration, "5 parsecs", "unknown unit 'parsecs'"),
    (parse_duration, "fast", "cannot read 'fast'"),
    (parse_duration, True, "not a quantity"),
    (parse_rate, 100, "a unit is required"),
    (parse_size, "1.5XB", "unknown unit 'XB'"),
    (parse_share, "150%", "must be between 0% and 100%"),
    (parse_share, "-1%", "must be between 0% and 100%"),
])
def test_bad_quantities_say_why_and_what_is_allowed(parse, text, reason):
    with pytest.raises(UnitError) as caught:
        parse(text)
    assert caught.value.reason.startswith(reason)
    assert "such as" in caught.value.allowed


def test_format_duration():
    assert [format_duration(x) for x in (0.25, 5, 95, 7300)] == ["250ms", "5.0s", "1m35s", "2h01m"]
    # rounding never shows 60 of a smaller unit
    assert [format_duration(x) for x in (0.9996, 59.96, 419.9, 3599.6)] == ["1.0s", "1m00s", "7m00s", "1h00m"]

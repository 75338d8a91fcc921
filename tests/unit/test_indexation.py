"""Hand-worked indexation and triggers: A = B x C / D, half-up to the penny."""

from datetime import date
from decimal import Decimal

import pytest

from ledger.domain.indexation import (
    IndexMissing,
    IndexPoint,
    Milestones,
    TriggerEvent,
    indexed_amount,
    instalment_base,
    is_met,
    trigger_date,
    value_for,
)

D = Decimal
QUARTERLY = [
    IndexPoint(index="bcis-tpi", period=date(2022, 1, 1), value=D("350.0"), published_on=date(2022, 4, 20)),
    IndexPoint(index="bcis-tpi", period=date(2022, 4, 1), value=D("355.0"), published_on=date(2022, 7, 20)),
    IndexPoint(index="bcis-tpi", period=date(2023, 7, 1), value=D("378.0"), published_on=date(2023, 10, 1),
               provisional=True),
    IndexPoint(index="bcis-tpi", period=date(2023, 7, 1), value=D("380.5"), published_on=date(2024, 1, 15)),
]
MONTHLY = [
    IndexPoint(index="rpi", period=date(2021, 3, 1), value=D("296.0"), published_on=date(2021, 4, 21)),
    IndexPoint(index="rpi", period=date(2024, 1, 1), value=D("364.5"), published_on=date(2024, 2, 14)),
]


def test_quarterly_series_with_a_base_date_between_periods() -> None:
    # Base date 15 February 2022 falls in Q1 2022 (350.0); trigger 20 August 2023 in Q3 2023 (380.5, revised).
    base = value_for(QUARTERLY, index="bcis-tpi", on=date(2022, 2, 15), known_on=date(2024, 3, 1))
    trigger = value_for(QUARTERLY, index="bcis-tpi", on=date(2023, 8, 20), known_on=date(2024, 3, 1))
    worked = indexed_amount(D("100000.00"), base=base, trigger=trigger)
    # 100,000 x 380.5 / 350 = 108,714.2857... -> 108,714.29
    assert (base.value, trigger.value, worked.amount) == (D("350.0"), D("380.5"), D("108714.29"))
    assert "108,714.29" in worked.explain()


def test_monthly_series() -> None:
    base = value_for(MONTHLY, index="rpi", on=date(2021, 3, 31), known_on=date(2024, 3, 1))
    trigger = value_for(MONTHLY, index="rpi", on=date(2024, 1, 9), known_on=date(2024, 3, 1))
    # 12,345.67 x 364.5 / 296.0 = 15,202.6916... -> 15,202.69
    assert indexed_amount(D("12345.67"), base=base, trigger=trigger).amount == D("15202.69")


def test_half_a_penny_rounds_up() -> None:
    base = IndexPoint(index="rpi", period=date(2020, 1, 1), value=D("100"), published_on=date(2020, 2, 1))
    trigger = IndexPoint(index="rpi", period=date(2021, 1, 1), value=D("101"), published_on=date(2021, 2, 1))
    # 0.50 x 101 / 100 = 0.505 -> 0.51 (banker's rounding would give 0.50)
    assert indexed_amount(D("0.50"), base=base, trigger=trigger).amount == D("0.51")


@pytest.mark.parametrize(("floor", "amount", "floored"), [(True, D("100000.00"), True), (False, D("97142.86"), False)],
                         ids=["floor-on", "floor-off"])
def test_floor_at_the_base_sum(floor: bool, amount: Decimal, floored: bool) -> None:
    base = IndexPoint(index="bcis-tpi", period=date(2022, 1, 1), value=D("350"), published_on=date(2022, 4, 1))
    fallen = IndexPoint(index="bcis-tpi", period=date(2023, 1, 1), value=D("340"), published_on=date(2023, 4, 1))
    # 100,000 x 340 / 350 = 97,142.857... -> 97,142.86, or the base sum with a floor
    worked = indexed_amount(D("100000.00"), base=base, trigger=fallen, floor=floor)
    assert (worked.amount, worked.floored) == (amount, floored)


def test_a_revision_is_used_only_once_it_is_published() -> None:
    before = value_for(QUARTERLY, index="bcis-tpi", on=date(2023, 8, 20), known_on=date(2023, 12, 1))
    after = value_for(QUARTERLY, index="bcis-tpi", on=date(2023, 8, 20), known_on=date(2024, 1, 15))
    assert (before.value, before.provisional) == (D("378.0"), True)
    assert (after.value, after.provisional) == (D("380.5"), False)


def test_no_value_published_yet_is_missing() -> None:
    with pytest.raises(IndexMissing):
        value_for(QUARTERLY, index="bcis-tpi", on=date(2021, 12, 31), known_on=date(2024, 1, 1))
    with pytest.raises(IndexMissing):
        value_for(MONTHLY, index="rpi", on=date(2024, 1, 9), known_on=date(2024, 2, 13))


def test_not_indexed_is_the_base_sum() -> None:
    assert indexed_amount(D("5000.00"), base=None, trigger=None).amount == D("5000.00")


def test_instalment_base_is_a_share_or_a_fixed_sum() -> None:
    assert instalment_base(obligation_amount=D("100000.01"), share=D("0.5"), fixed_sum=None) == D("50000.01")
    assert instalment_base(obligation_amount=None, share=None, fixed_sum=D("2500.00")) == D("2500.00")
    with pytest.raises(ValueError):
        instalment_base(obligation_amount=None, share=D("0.5"), fixed_sum=None)


SITE = Milestones(commencement_on=date(2024, 3, 4),
                  occupations=((date(2024, 9, 1), 10), (date(2025, 1, 6), 49), (date(2025, 2, 3), 50), (date(2025, 5, 1), 80)))


def test_commencement_trigger_is_met_on_the_day() -> None:
    assert trigger_date(TriggerEvent.COMMENCEMENT, SITE) == date(2024, 3, 4)
    assert not is_met(TriggerEvent.COMMENCEMENT, SITE, today=date(2024, 3, 3))
    assert is_met(TriggerEvent.COMMENCEMENT, SITE, today=date(2024, 3, 4))


@pytest.mark.parametrize(("dwellings", "expected"), [(10, date(2024, 9, 1)), (50, date(2025, 2, 3)),
                                                     (51, date(2025, 5, 1)), (81, None)],
                         ids=["first-report", "exactly-the-nth", "passed-between-reports", "not-yet"])
def test_occupation_of_the_nth_dwelling(dwellings: int, expected: date | None) -> None:
    assert trigger_date(TriggerEvent.OCCUPATION, SITE, dwellings=dwellings) == expected


def test_date_and_manual_triggers() -> None:
    assert trigger_date(TriggerEvent.DATE, SITE, fixed_on=date(2026, 1, 1)) == date(2026, 1, 1)
    assert trigger_date(TriggerEvent.MANUAL, SITE) is None


def test_periods_are_months_or_quarters() -> None:
    from ledger.domain.indexation import period_of

    assert period_of("bcis-tpi", date(2023, 8, 20)) == date(2023, 7, 1)
    assert period_of("bcis-tpi", date(2023, 3, 31)) == date(2023, 1, 1)
    assert period_of("rpi", date(2023, 8, 20)) == date(2023, 8, 1)

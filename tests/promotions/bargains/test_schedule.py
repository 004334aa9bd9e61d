from hypothesis import given, settings
from hypothesis import strategies as st

from siyu.promotions.bargains.schedule import cuts_draw


@settings(max_examples=200, deadline=None)
@given(helps=st.integers(2, 100), extra=st.integers(0, 1_000_000))
def test_cuts_sum_exactly_and_are_at_least_one_fen(helps, extra):
    total = helps + extra
    cuts = cuts_draw(total=total, helps=helps)
    assert len(cuts) == helps
    assert sum(cuts) == total
    assert min(cuts) >= 1
    assert all(isinstance(c, int) for c in cuts)


def test_earlier_cuts_are_larger_on_average():
    runs = [cuts_draw(total=10_000, helps=10) for _ in range(200)]
    first_half = sum(sum(c[:5]) for c in runs)
    second_half = sum(sum(c[5:]) for c in runs)
    assert first_half > 2 * second_half
    assert sum(r[0] for r in runs) > sum(r[-1] for r in runs) * 4


def test_schedules_differ():
    assert len({tuple(cuts_draw(total=5000, helps=5)) for _ in range(20)}) > 1


def test_the_floor_needs_a_fen_per_help():
    import pytest

    with pytest.raises(ValueError):
        cuts_draw(total=4, helps=5)

import pytest

from siyu.core.errors import Conflict
from siyu.core.models import AuditEntry
from siyu.core.states import StateMachine
from siyu.shops.models import Shop


def test_a_table_must_name_every_target():
    with pytest.raises(ValueError):
        StateMachine(name="x", table={"a": {"b"}})


def test_move_refuses_what_the_table_does_not_allow_and_audits_what_it_does(shop, owner):
    machine = StateMachine(name="shop_state", table={"": {"on"}, "on": {""}}, field="host")
    machine.move(shop, to="on", actor=owner, why="test")
    shop.refresh_from_db()
    assert shop.host == "on"
    entry = AuditEntry.objects.get(action="shop_state.on")
    assert entry.data == {"from": "", "to": "on", "why": "test"}
    assert entry.actor == owner.user
    with pytest.raises(Conflict) as err:
        machine.move(shop, to="on", actor="system")
    assert err.value.code == "bad_transition"
    assert err.value.detail == {"what": "shop_state", "from": "on", "to": "on"}


def test_claim_moves_only_rows_still_in_the_state(shop, other_shop):
    machine = StateMachine(name="shop_name", table={"a": {"b"}, "b": set()}, field="name")
    Shop.objects.filter(pk=shop.pk).update(name="a")
    Shop.objects.filter(pk=other_shop.pk).update(name="b")
    assert machine.claim(Shop.objects.all(), current="a", to="b") == 1
    assert set(Shop.objects.values_list("name", flat=True)) == {"b"}
    with pytest.raises(Conflict):
        machine.claim(Shop.objects.all(), current="b", to="a")

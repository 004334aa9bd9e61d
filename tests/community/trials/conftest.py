"""Fixtures for trial tests: a trial of `product` open for applications, applicants with addresses."""

from datetime import timedelta

import pytest
from django.utils import timezone

from siyu.accounts.services import address_create
from siyu.community.trials.applications import trial_apply
from siyu.community.trials.services import trial_create, trial_move
from tests.factories import make_shopper

ADDRESS = {
    "recipient": "李四",
    "phone": "13900139000",
    "province": "浙江省",
    "city": "杭州市",
    "district": "西湖区",
    "detail": "文一路 2 号",
}


def trial_data(product, **extra) -> dict:
    now = timezone.now()
    data = {
        "title": "新品面霜试用",
        "description": "免费试用 5 份",
        "sku": product.skus.get().pk,
        "quantity": 3,
        "apply_starts_at": now - timedelta(hours=1),
        "apply_ends_at": now + timedelta(days=3),
        "report_days": 7,
        "questions": [{"text": "质地如何", "kind": "both"}, {"text": "包装", "kind": "rating"}],
    }
    data.update(extra)
    return data


def open_trial(owner, product, **extra):
    trial = trial_create(actor=owner, shop=product.shop, data=trial_data(product, **extra))
    return trial_move(actor=owner, shop=product.shop, public_id=trial.public_id, to="open")


def applicant(shop, phone: str):
    """A new shopper with an address in `shop`: (shopper, address)."""
    shopper = make_shopper(phone)
    return shopper, address_create(shop=shop, shopper=shopper, data=ADDRESS)


def apply_many(trial, n: int, start: int = 0) -> list:
    made = []
    for i in range(start, start + n):
        shopper, address = applicant(trial.shop, f"1390000{i:04d}")
        made.append(
            trial_apply(shop=trial.shop, shopper=shopper, public_id=trial.public_id, address_id=address.public_id)
        )
    return made


@pytest.fixture
def trial(owner, product):
    return open_trial(owner, product)

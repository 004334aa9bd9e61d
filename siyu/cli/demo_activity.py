"""Life in the demo shop: orders at every stage and a customer pool imported from a marketplace.

Everything goes through the real services — checkout, the sandbox payment notification, shipping,
receipt, the importer, RFM, tags, segments, levels — so the console shows what a seller would see.
"""

import csv
import io
import random
import secrets
from datetime import timedelta

from django.utils import timezone

from siyu.accounts.models import Shopper, StaffMember
from siyu.catalog.models import Product
from siyu.customers.importer import import_run
from siyu.customers.membership import level_save
from siyu.customers.reminders import repurchase_reminders_run
from siyu.customers.rfm import rfm_recompute
from siyu.customers.segments import segment_save
from siyu.customers.social import social_account_save
from siyu.customers.stats import customer_for_shopper, customer_refresh_stats
from siyu.customers.tags import tag_create
from siyu.orders.checkout import order_place
from siyu.orders.fulfilment import order_ship
from siyu.orders.lifecycle import order_confirm_receipt
from siyu.payments.providers.sandbox import sandbox_notification
from siyu.payments.services import payment_notify, payment_open
from siyu.shops.models import Shop

TAOBAO_HEADER = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "订单创建时间", "订单付款时间", "收货人姓名",
                 "收货地址", "联系手机", "宝贝标题"]  # fmt: skip
REGIONS = [("浙江省", "杭州市", "西湖区"), ("上海市", "上海市", "浦东新区"), ("广东省", "深圳市", "南山区"),
           ("江苏省", "南京市", "鼓楼区"), ("四川省", "成都市", "武侯区"), ("北京市", "北京市", "朝阳区")]  # fmt: skip
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超"


def demo_orders(*, shop: Shop, owner: StaffMember, shoppers: list[Shopper], products: list[Product], rng) -> int:
    """Each demo shopper buys: some orders completed, some shipped, paid, or still unpaid."""
    buyable = [p for p in products if p.status == "on_sale" and p.return_policy != "no_returns"]
    made = 0
    for n, shopper in enumerate(shoppers):
        address = shopper.addresses.filter(shop=shop).first()
        if address is None:
            continue  # every demo shopper is given an address first; one without cannot check out
        for stage in ("completed", "shipped", "paid", "pending")[: 1 + (n % 4)]:
            picked = rng.sample(buyable, min(2, len(buyable)))
            skus = [s for p in picked for s in p.skus.filter(is_active=True, stock__gte=2)[:1]]
            if not skus:
                continue
            order = order_place(
                shop=shop,
                shopper=shopper,
                address_id=address.public_id,
                idempotency_key=secrets.token_hex(8),
                items=[{"sku": s.pk, "quantity": 1 + rng.randrange(2)} for s in skus],
            )
            made += 1
            if stage == "pending":
                continue
            # The demo is built in one transaction: open the payment row without asking a provider.
            payment = payment_open(shop=shop, shopper=shopper, order_public_id=order.public_id, provider="sandbox")
            headers, body = sandbox_notification(
                out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="demo" + secrets.token_hex(6)
            )
            payment_notify(provider="sandbox", headers=headers, body=body)
            if stage in ("shipped", "completed"):
                order_ship(
                    actor=owner,
                    order_id=order.pk,
                    carrier="顺丰速运",
                    tracking_number=f"SF{rng.randrange(10**11):011d}",
                )
            if stage == "completed":
                order_confirm_receipt(order_id=order.pk, actor=shopper)
        customer_refresh_stats(customer=customer_for_shopper(shop=shop, shopper=shopper))
    return made


def taobao_export(*, rng, buyers: int = 120) -> bytes:
    """A small Taobao order export of past buyers (GBK, as the Taobao seller back-end writes it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(TAOBAO_HEADER)
    now = timezone.localtime()
    titles = ["西湖龙井 明前特级 250g", "每日坚果 30袋", "玻尿酸补水面膜 10片", "纯棉毛巾 3条装", "婴儿纸尿裤 L码"]
    for i in range(buyers):
        phone = f"135{(i * 7919 + 1234567) % 10**8:08d}"
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
        province, city, district = REGIONS[rng.randrange(len(REGIONS))]
        for k in range(1 + int(rng.paretovariate(1.6)) % 6):
            at = now - timedelta(days=rng.randrange(3, 540), minutes=rng.randrange(1440))
            amount = rng.randrange(2900, 59900)
            writer.writerow([f"{3200000000000000000 + i * 97 + k}\t", f"tb_{phone[-6:]}",
                             f"{amount // 100}.{amount % 100:02d}", "交易成功", f"{at:%Y-%m-%d %H:%M:%S}",
                             f"{at:%Y-%m-%d %H:%M:%S}", name, f"{province} {city} {district} 人民路{i + 1}号", phone,
                             rng.choice(titles)])  # fmt: skip
    writer.writerow(
        [
            "3299999999999999999\t",
            "tb_bad",
            "12.00",
            "交易成功",
            f"{now:%Y-%m-%d %H:%M:%S}",
            "",
            "匿名",
            "浙江省 杭州市",
            "138****8000",
            "面膜",
        ]
    )  # a masked phone: the report shows it rejected
    return out.getvalue().encode("gbk")


def demo_customer_pool(*, shop: Shop, owner: StaffMember, seed: int) -> dict:
    rng = random.Random(seed + 7)
    job = import_run(
        shop=shop, actor=owner, filename="淘宝订单导出-演示.csv", content=taobao_export(rng=rng), layout="taobao"
    )
    level_save(actor=owner, shop=shop, data={"name": "银卡会员", "min_spend": 50000, "discount_bp": 500})
    level_save(
        actor=owner,
        shop=shop,
        data={"name": "金卡会员", "min_spend": 200000, "discount_bp": 1000, "free_shipping": True},
    )
    rfm_recompute(shop=shop)
    tag_create(
        actor=owner, shop=shop, name="复购客户", rules={"all": [{"field": "order_count", "op": ">=", "value": 2}]}
    )
    tag_create(actor=owner, shop=shop, name="重点维护")
    segment_save(
        actor=owner,
        shop=shop,
        name="高价值沉睡客户",
        rules={
            "all": [
                {"field": "total_spent", "op": ">=", "value": 100000},
                {"field": "lifecycle", "op": "in", "value": ["at_risk", "dormant"]},
            ]
        },
    )
    social_account_save(
        actor=owner,
        shop=shop,
        data={"name": "私域优选-客服小优", "kind": "wechat", "handle": "siyu_xiaoyou", "capacity": 5000},
    )
    reminders = repurchase_reminders_run(shop=shop)
    return {"imported": job.imported, "merged": job.merged, "rejected": job.rejected, "reminders": reminders["created"]}


def _id_number(base17: str) -> str:
    """A well-formed mainland ID number (GB 11643 check digit) for demo data."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return base17 + "10X98765432"[sum(int(d) * w for d, w in zip(base17, weights, strict=True)) % 11]


def _buy_and_pay(*, shop, owner, shopper, sku, ref_code: str, receive: bool) -> None:
    address = shopper.addresses.filter(shop=shop).first()
    order = order_place(
        shop=shop,
        shopper=shopper,
        address_id=address.public_id,
        ref_code=ref_code,
        idempotency_key=secrets.token_hex(8),
        items=[{"sku": sku.pk, "quantity": 1}],
    )
    payment = payment_open(shop=shop, shopper=shopper, order_public_id=order.public_id, provider="sandbox")
    headers, body = sandbox_notification(
        out_trade_no=payment.out_trade_no, amount=payment.amount, txn_id="demo" + secrets.token_hex(6)
    )
    payment_notify(provider="sandbox", headers=headers, body=body)
    if receive:
        order_ship(
            actor=owner, order_id=order.pk, carrier="中通快递", tracking_number=f"ZT{secrets.randbelow(10**10):010d}"
        )
        order_confirm_receipt(order_id=order.pk, actor=shopper)


def demo_fission(*, shop: Shop, owner: StaffMember, shoppers: list[Shopper], products: list[Product]) -> dict:
    """A friend invited by the first shopper, an approved promoter who shared a sale, and a code batch."""
    from siyu.accounts.services import address_create
    from siyu.core.crypto import lookup_hash
    from siyu.distribution.promoters import promoter_apply, promoter_decide
    from siyu.distribution.trace import trace_batch_create
    from siyu.referrals.services import referral_bind, share_visit_record

    sku = next(s for p in products if p.status == "on_sale" for s in p.skus.filter(is_active=True, stock__gte=5)[:1])
    inviter, promoter_shopper = shoppers[0], shoppers[1]
    phone = "13600136099"
    friend = Shopper.objects.create(phone_hash=lookup_hash(phone), phone=phone, nickname="被邀请的朋友")
    address_create(
        shop=shop,
        shopper=friend,
        data={
            "recipient": "赵小满",
            "phone": phone,
            "province": "浙江省",
            "city": "宁波市",
            "district": "鄞州区",
            "detail": "天童南路 8 号",
        },
    )
    # The friend opened the inviter's link first, as in real life: a sign-up without its visit made
    # the demo's fission funnel show more sign-ups than visitors.
    share_visit_record(shop=shop, code=inviter.share_code, visitor_key="demo-friend", path="/")
    referral_bind(shop=shop, referee=friend, code=inviter.share_code, visitor_key="demo-friend")
    _buy_and_pay(shop=shop, owner=owner, shopper=friend, sku=sku, ref_code=inviter.share_code, receive=True)
    promoter = promoter_apply(
        shop=shop,
        shopper=promoter_shopper,
        real_name="林晓",
        id_number=_id_number("33010619900101123"),
        payout_kind="wechat",
        payout_account="wxid_demo_linxiao",
    )
    promoter_decide(actor=owner, promoter=promoter, approve=True, note="演示")
    _buy_and_pay(
        shop=shop, owner=owner, shopper=shoppers[2], sku=sku, ref_code=promoter_shopper.share_code, receive=False
    )
    batch = trace_batch_create(actor=owner, shop=shop, product=sku.product, sku=sku, name="2026年12月批次", quantity=30)
    return {"friend": friend.pk, "promoter": promoter.pk, "trace_batch": batch.pk}

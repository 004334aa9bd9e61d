from django.urls import path

from . import views, views_account, views_invite, views_member, views_orders, views_promoter
from .views_trace import trace_page

app_name = "storefront"
urlpatterns = [
    path("", views.home, name="home"),
    path("categories/", views.categories, name="categories"),
    path("c/<int:category_id>/", views.category, name="category"),
    path("search/", views.search, name="search"),
    path("p/<slug:public_id>/", views.product, name="product"),
    path("p/<slug:public_id>/share/", views.share, name="share"),
    path("p/<slug:public_id>/poster.png", views.poster, name="poster"),
    path("login/", views_account.login, name="login"),
    path("logout/", views_account.logout, name="logout"),
    path("my/", views_account.my, name="my"),
    path("my/addresses/", views_account.addresses, name="addresses"),
    path("my/addresses/new/", views_account.address_edit, name="address_new"),
    path("my/addresses/<slug:public_id>/", views_account.address_edit, name="address_edit"),
    path("my/addresses/<slug:public_id>/delete/", views_account.address_remove, name="address_delete"),
    path("my/member/", views_member.member, name="member"),
    path("my/member/consents/", views_member.member_consents, name="member_consents"),
    path("my/invite/", views_invite.invite, name="invite"),
    path("invite/poster.png", views_invite.invite_poster, name="invite_poster"),
    path("my/promoter/", views_promoter.promoter_home, name="promoter"),
    path("my/promoter/shop/", views_promoter.promoter_shop, name="promoter_shop"),
    path("my/promoter/commissions/", views_promoter.promoter_commissions, name="promoter_commissions"),
    path("my/promoter/wallet/", views_promoter.promoter_wallet, name="promoter_wallet"),
    path("my/promoter/withdraw/", views_promoter.promoter_withdraw, name="promoter_withdraw"),
    path("my/privacy/", views_member.privacy, name="privacy"),
    path("my/privacy/export/", views_member.privacy_export, name="privacy_export"),
    path("my/privacy/delete/", views_member.privacy_delete, name="privacy_delete"),
    path("cart/", views_orders.cart, name="cart"),
    path("cart/update/", views_orders.cart_update, name="cart_update"),
    path("checkout/", views_orders.checkout, name="checkout"),
    path("orders/", views_orders.orders, name="orders"),
    path("orders/<slug:public_id>/", views_orders.order_detail, name="order"),
    path("orders/<slug:public_id>/pay/", views_orders.order_pay, name="order_pay"),
    path("orders/<slug:public_id>/action/", views_orders.order_action, name="order_action"),
    path("orders/<slug:public_id>/after-sale/<int:line_id>/", views_orders.aftersale_new, name="aftersale_new"),
    path("pay/sandbox/<slug:out_trade_no>/", views_orders.sandbox_pay_page, name="sandbox_pay"),
    path("t/<str:code>/", trace_page, name="trace"),
]

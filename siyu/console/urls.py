from django.urls import path

from .views import auth, catalog, products, shop

app_name = "console"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.login, name="login"),
    path("logout/", auth.logout, name="logout"),
    path("shop/", shop.shop_profile, name="shop_profile"),
    path("shop/image/<str:kind>/", shop.shop_image, name="shop_image"),
    path("return-policies/", shop.return_policies, name="return_policies"),
    path("staff/", shop.staff, name="staff"),
    path("staff/<int:staff_id>/", shop.staff_update, name="staff_update"),
    path("tokens/", shop.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", shop.token_revoke, name="token_revoke"),
    path("categories/", catalog.categories, name="categories"),
    path("categories/<int:category_id>/", catalog.category_edit, name="category_edit"),
    path("categories/<int:category_id>/delete/", catalog.category_delete, name="category_delete"),
    path("shipping/", catalog.shipping, name="shipping"),
    path("shipping/<int:template_id>/", catalog.shipping_edit, name="shipping_edit"),
    path("shipping/<int:template_id>/delete/", catalog.shipping_delete, name="shipping_delete"),
    path("featured/", catalog.featured, name="featured"),
    path("products/", products.product_list, name="products"),
    path("products/new/", products.product_create, name="product_create"),
    path("products/<str:public_id>/", products.product_edit, name="product_edit"),
    path("products/<str:public_id>/status/", products.product_status, name="product_status"),
    path("products/<str:public_id>/main-image/", products.product_main_image, name="product_main_image"),
    path("products/<str:public_id>/images/", products.product_image_add, name="product_image_add"),
    path(
        "products/<str:public_id>/images/<int:image_id>/delete/",
        products.product_image_remove,
        name="product_image_remove",
    ),
    path("products/<str:public_id>/specs/", products.product_specs, name="product_specs"),
    path("products/<str:public_id>/skus/", products.product_skus, name="product_skus"),
]

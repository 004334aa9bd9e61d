from django.db import models
from django.utils.translation import gettext_lazy as _


class Shop(models.Model):
    """A seller. Every row a seller owns points here."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60)
    host = models.CharField(max_length=200, blank=True, default="", help_text="Served on this host name.")
    is_default = models.BooleanField(default=False)
    slogan = models.CharField(_("slogan"), max_length=120, blank=True)
    audience = models.CharField(_("target audience"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    logo = models.ImageField(upload_to="shops/logo/", blank=True)
    banner = models.ImageField(upload_to="shops/banner/", blank=True)
    banner_thumb = models.ImageField(upload_to="shops/banner/", blank=True)
    default_return_policy = models.CharField(max_length=20, default="no_reason_7d")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["host"], condition=~models.Q(host=""), name="shop_host_unique"),
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="one_default_shop"
            ),
        ]

    def __str__(self) -> str:
        return self.name

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from siyu.core.crypto import EncryptedTextField, mask_phone
from siyu.core.ids import share_code
from siyu.shops.models import Shop

from .roles import OWNER, ROLE_CHOICES, ROLE_PERMISSIONS


class StaffMember(models.Model):
    """A person who works for one shop, with one role."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="staff")
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=20, choices=ROLE_CHOICES, default=OWNER)
    display_name = models.CharField(_("display name"), max_length=60)
    share_code = models.CharField(max_length=12, unique=True, default=share_code)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.display_name

    def can(self, perm: str) -> bool:
        return self.is_active and perm in ROLE_PERMISSIONS.get(self.role, frozenset())


class Shopper(models.Model):
    """A person who buys: one sign-in identity (a mobile number) across all shops."""

    phone_hash = models.CharField(max_length=64, unique=True)
    phone = EncryptedTextField()
    nickname = models.CharField(_("nickname"), max_length=40, blank=True)
    share_code = models.CharField(max_length=12, unique=True, default=share_code)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.nickname or self.masked_phone

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")


class Address(models.Model):
    """A shipping address a shopper keeps with a shop (China: province / city / district)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="addresses")
    public_id = models.CharField(max_length=16, unique=True)
    recipient = models.CharField(_("recipient"), max_length=40)
    phone = EncryptedTextField(_("phone"))
    province = models.CharField(_("province"), max_length=20)
    city = models.CharField(_("city"), max_length=30)
    district = models.CharField(_("district"), max_length=30)
    detail = EncryptedTextField(_("street address"))
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-id"]
        indexes = [models.Index(fields=["shop", "shopper"])]

    def __str__(self) -> str:
        return f"{self.province}{self.city}{self.district}"

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone or "")


class OtpChallenge(models.Model):
    """A one-time sign-in code sent to a phone. Only a keyed hash of the code is stored."""

    phone_hash = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["phone_hash", "created_at"]), models.Index(fields=["ip", "created_at"])]


class ApiToken(models.Model):
    """A bearer token for the API, held by a staff member or a shopper. Only its hash is stored."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    staff = models.ForeignKey(StaffMember, null=True, blank=True, on_delete=models.CASCADE)
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.CASCADE)
    name = models.CharField(max_length=60, blank=True)
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(staff__isnull=False, shopper__isnull=True)
                | models.Q(staff__isnull=True, shopper__isnull=False),
                name="token_has_one_holder",
            )
        ]


class SignedInSession(models.Model):
    """Which session keys a staff user or a shopper is signed in under.

    Sessions live in a store keyed by an opaque key (the database or the cache); this index is
    how every session of one person is found and ended at once: on deactivation, on a password
    change, on account deletion. A row may outlive its session (a logout flushes the session
    first); ending a session that is already gone is a no-op.
    """

    session_key = models.CharField(max_length=40)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    shopper = models.ForeignKey(Shopper, null=True, blank=True, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["session_key"]), models.Index(fields=["created_at"])]


class SignInFailure(models.Model):
    """A staff password attempt that has not (yet) succeeded, for the sign-in throttle.

    The row is written before the password is checked, so parallel guesses count each other
    (see `signin.staff_sign_in`); a successful attempt removes it along with the account's
    earlier failures.
    """

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["username", "created_at"]), models.Index(fields=["ip", "created_at"])]


class AgreementAcceptance(models.Model):
    """A shopper accepted a shop's user agreement and privacy policy, of one version, at sign-in.

    PIPL asks the shop to show which text a person agreed to and when, so a new version of the
    text means a new row at the next sign-in; the first acceptance of a version is kept.
    """

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    shopper = models.ForeignKey(Shopper, on_delete=models.CASCADE, related_name="agreements")
    version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shop", "shopper", "version"], name="agreement_accepted_once")]

"""Which version of the shop's user agreement and privacy policy is in force.

The texts are the storefront's templates (storefront/agreement.html, storefront/privacy_policy.html);
change this version whenever their wording changes, so the next sign-in records the new acceptance.
"""

AGREEMENT_VERSION = "2025-01"

"""The embedded demo: what `make run` uses."""

from .base import *  # noqa: F403
from .env import env_bool

DEBUG = env_bool("DEBUG", True)
SIYU_WEBHOOKS_ALLOW_PRIVATE = env_bool("SIYU_WEBHOOKS_ALLOW_PRIVATE", True)

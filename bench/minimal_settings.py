"""Settings for the checkout bench's minimal-view server only: production settings, with the bench's
minimal view as the whole URLconf and no middleware (see bench/minimal_view.py)."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.minimal_view"
MIDDLEWARE: list[str] = []

"""Handover's domain and plumbing: one module per concern (see the README's layout)."""

import logging

# pynamodb announces at import, at INFO, that it found no override file: noise that reads like a fault.
logging.getLogger("pynamodb.settings").setLevel(logging.WARNING)

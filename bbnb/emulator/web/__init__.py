"""A small seeded web the emulator serves, so agents and functions have pages to read.

Sites (``http://<site>.bbnb.test/`` in the emulator's browsers, or
``<emulator URL>/web/<site>/`` from any HTTP client):

- ``shop``: categories with pagination (``/category/<slug>?page=N``), product pages
  with schema.org JSON-LD or microdata (``/product/<slug>``), a price table
  (``/prices``), store pages of labels and values (``/store/<city>``), a CSV download
  (``/reports/inventory.csv``) and a CAPTCHA gate (``/deals``).
- ``news``: a paginated front page and article pages (JSON-LD or microdata).
- ``account``: ``/login`` (user ``demo``, password ``demo-password``) and ``/account``
  behind a signed cookie session.
- ``slow``: ``/?seconds=N`` answers after N seconds (at most 60).

``ground_truth(seed)`` is what the pages show, as data, to score answers against.
"""

from __future__ import annotations

from bbnb.emulator.web.app import LocalWeb, web_site_of
from bbnb.emulator.web.data import DOMAIN, SITES, GroundTruth, ground_truth, site_url

__all__ = ["DOMAIN", "SITES", "GroundTruth", "LocalWeb", "ground_truth", "site_url", "web_site_of"]

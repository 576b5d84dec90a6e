"""Which requests a session may make: ``allowedDomains`` and the built-in ad block list."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

__all__ = ["AD_HOSTS", "RequestRules"]

# A small, well-known list: enough to show blockAds working without a download.
AD_HOSTS = frozenset(
    {
        "doubleclick.net",
        "googlesyndication.com",
        "googleadservices.com",
        "google-analytics.com",
        "googletagmanager.com",
        "googletagservices.com",
        "adservice.google.com",
        "adnxs.com",
        "ads.yahoo.com",
        "amazon-adsystem.com",
        "criteo.com",
        "taboola.com",
        "outbrain.com",
        "scorecardresearch.com",
        "quantserve.com",
        "moatads.com",
        "pubmatic.com",
        "rubiconproject.com",
        "openx.net",
        "adsrvr.org",
        "ads.bbnb.test",
    }
)
_ALWAYS = ("data", "blob", "about", "chrome", "devtools", "javascript")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _under(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


class RequestRules:
    """``verdict(url)`` is ``None`` (let it through) or the reason to block it."""

    def __init__(self, allowed_domains: Iterable[str] | None, block_ads: bool) -> None:
        self.allowed = tuple(
            d.strip().lower().removeprefix("*.").lstrip(".") for d in allowed_domains or () if d
        )
        self.block_ads = block_ads

    @property
    def active(self) -> bool:
        return bool(self.allowed) or self.block_ads

    def verdict(self, url: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme in _ALWAYS:
            return None
        host = (parts.hostname or "").lower()
        if self.block_ads and any(_under(host, ad) for ad in AD_HOSTS):
            return f"blockAds: {host} is on the ad block list"
        if self.allowed:
            if _is_ip(host):
                return f"allowedDomains: {host} is an IP address, not one of the allowed domains"
            if not any(_under(host, d) for d in self.allowed):
                return f"allowedDomains: {host} is not in {list(self.allowed)}"
        return None

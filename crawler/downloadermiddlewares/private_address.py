"""The private-address guard (issue 7, safety): no request to the evaluator's intranet.

Every request's host is resolved (IP literal, or the DNS answer from Scrapy's own caching resolver, so
no extra lookup) before anything is sent; a host whose address kind the spider's `address_policy`
(crawler.addresses.AddressPolicy) does not allow is refused with `private-address`. The spider refuses
IP literals before it even schedules a request; this middleware also catches host names and the
redirects that point at such addresses.

Settings (read by the spider when it builds the policy): ALLOW_PRIVATE_ADDRESSES (contact every
address: an intranet audit) and PRIVATE_ADDRESS_KINDS (the kinds that may be contacted; None: the kinds
the site's own hosts resolve to).
"""

from __future__ import annotations

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from crawler.addresses import AddressPolicy, literal_ip


class PrivateAddressMiddleware:
    """Refuse requests whose host resolves to an address kind the spider's policy does not allow."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateAddressMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider=None):  # noqa: ANN001, ANN201
        policy: AddressPolicy | None = getattr(self.crawler.spider, "address_policy", None)
        if policy is None or policy.allow_all:
            return None
        host = urlparse_cached(request).hostname
        if not host or host.rstrip(".") in policy.own_hosts:
            return None
        ip = literal_ip(host)
        ips = [ip] if ip else await self._resolve(host)
        for address in ips:
            reason = policy.refusal(host, address)
            if reason:
                raise IgnoreRequest(reason)
        return None

    @staticmethod
    async def _resolve(host: str) -> list[str]:
        """Ask the reactor's resolver (Scrapy's caching one): the downloader reuses the answer."""
        # deferred: importing the reactor installs it; Scrapy chooses which first
        from twisted.internet import reactor

        try:
            answer = await maybe_deferred_to_future(reactor.resolve(host))  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - an unresolvable host fails in the downloader as `dns`
            return []
        return [answer] if answer else []

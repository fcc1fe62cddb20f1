"""The CDN's files (MP3s and covers) over aiohttp; Suno's JSON API stays on httpx.

Measured with ``bench/downloads.py`` (200 songs of 1 MB and their covers, 4
at once, from the stand-in on loopback): a bare httpx streaming loop reaches
about half of curl's throughput, spending 3.5-4.7 ms of CPU per song (an MP3
and its cover) in its layers (httpcore, h11, anyio), where a bare aiohttp
loop, whose HTTP parser and streams are compiled, spends 1.5-2.4 ms and
reaches 76-125% of curl (which spends 1.6-2.4 ms). So file bodies go through
an aiohttp session that copies from the studio's ``httpx.AsyncClient`` what
matters for a plain GET: its timeouts, its User-Agent, its proxy settings
from the environment, and the trust store httpx verifies TLS with.
"""

from __future__ import annotations

import functools
import ssl
import urllib.request
from typing import Final

import aiohttp
import httpx

TRANSIENT: Final = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError)
"""Failures another try may not meet: refused or dropped connections, bodies cut short, timeouts."""
CLIENT_ERROR: Final = aiohttp.ClientError
"""Any other failure of the HTTP client: fatal for the file."""


@functools.cache
def _trust() -> ssl.SSLContext:
    """httpx's default TLS context (certifi's roots), made once: it takes ~20 ms."""
    return httpx.create_ssl_context()


def session_like(http: httpx.AsyncClient) -> aiohttp.ClientSession:
    """A session for GETs of files that behaves like ``http`` where a CDN can tell; redirects are followed.

    Bodies come as sent (no decompression: callers ask for ``identity``), and
    no cookies are kept between files.
    """
    timeout = http.timeout
    user_agent = http.headers.get("user-agent")
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=_trust()),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout.connect, sock_read=timeout.read),
        headers={"User-Agent": user_agent} if user_agent else None,
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        # aiohttp reads the environment (and ~/.netrc) again for every request when it trusts it: ~0.1 ms each.
        trust_env=http.trust_env and bool(urllib.request.getproxies()),
    )

"""Everything the studio knows about Suno's side of the wire.

``endpoints`` (hosts, paths, selectors: the one place to change when Suno
moves), ``models`` (the clip as Suno sends it), ``tokens`` (reading a JWT's
expiry), ``retry`` (backoff), ``errors`` (Suno failing us), ``clerk`` (a
fresh JWT from the long-lived cookie) and ``api`` (the HTTP client).
Nothing here touches the studio's database: callers pass what they know
(tokens, already-downloaded ids) and get plain results back. The local Suno
that tests, benchmarks and offline demos run lives outside the product, in
``deskbridge_standins.suno``, and nothing here imports it.
"""

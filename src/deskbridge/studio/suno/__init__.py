"""Everything the studio knows about Suno's side of the wire.

``endpoints`` (hosts, paths, selectors: the one place to change when Suno
moves), ``models`` (the clip as Suno sends it), ``tokens`` (reading a JWT's
expiry), ``retry`` (backoff), ``errors`` (Suno failing us), ``clerk`` (a
fresh JWT from the long-lived cookie), ``api`` (the HTTP client) and
``standin`` (a local Suno for tests and benchmarks). Nothing here touches the studio's database: callers pass what
they know (tokens, already-downloaded ids) and get plain results back.
"""

"""A local stand-in for Suno: real HTTP on 127.0.0.1, real MP3 and JPEG files, faults on demand.

The studio's tests and benchmarks run the real client and downloader
against it; only the base URLs differ from Suno's. ``StandinServer`` serves
it (in a thread, or ``python -m deskbridge_standins.suno``),
``StandinControl`` seeds clips, sets faults and reads the request log.
"""

from deskbridge_standins.suno.control import StandinControl
from deskbridge_standins.suno.runner import StandinServer
from deskbridge_standins.suno.state import Settings

__all__ = ["Settings", "StandinControl", "StandinServer"]

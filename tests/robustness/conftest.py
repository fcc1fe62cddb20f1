"""Fixtures of the robustness suite: the web door as a real process (``serve``), as the transport tests use it."""

from tests.webserver import serve as serve

"""Fixtures for the web door tests."""

from tests.webserver import serve as serve

"""deskbridge: one protocol between a Python backend and its desktop front end."""

__version__ = "0.1.0"

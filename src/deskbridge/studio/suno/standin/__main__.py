"""``python -m deskbridge.studio.suno.standin --port 0``: print the base URL as JSON, then serve."""

from deskbridge.studio.suno.standin.runner import main

main()

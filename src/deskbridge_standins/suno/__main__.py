"""``python -m deskbridge_standins.suno --port 0``: print the base URL as JSON, then serve."""

from deskbridge_standins.suno.runner import main

main()

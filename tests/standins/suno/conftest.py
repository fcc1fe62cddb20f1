from tests.studio.suno.support import anyio_backend, http, sleep, standin, suno

__all__ = ["anyio_backend", "http", "sleep", "standin", "suno"]

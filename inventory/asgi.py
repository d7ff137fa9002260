"""The ASGI app for uvicorn workers (settings from the environment)."""

from inventory.app import create_app

app = create_app()

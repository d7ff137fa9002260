"""Piccolo configuration: the engine (from DATABASE_URL) and the app registry its CLI reads."""

from piccolo.conf.apps import AppRegistry

from inventory.db import ENGINE

DB = ENGINE

APP_REGISTRY = AppRegistry(apps=["inventory.piccolo_app"])

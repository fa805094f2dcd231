"""The per-app resources (config, engine) that views reach through `current_app`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from sqlalchemy import Engine

from service.config import Config

KEY = "line_item_relay"


@dataclass
class Resources:
    config: Config
    engine: Engine


def init_app(app: Flask, resources: Resources) -> None:
    app.extensions[KEY] = resources


def resources() -> Resources:
    found: Resources = current_app.extensions[KEY]
    return found


def config() -> Config:
    return resources().config


def engine() -> Engine:
    return resources().engine

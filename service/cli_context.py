"""What every `relay` command starts from: the configuration, read and checked once, and
a store whose connections close when the command ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy import Engine

from service import logs
from service.config import Config, ConfigError
from service.store.engine import make_engine


@contextmanager
def open_store(config: Config) -> Iterator[Engine]:
    """The store for one command, its connections closed when the command ends."""
    engine = make_engine(config.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def command_config() -> Config:
    """The environment's configuration, every problem reported as the command's error."""
    try:
        config = Config.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    logs.configure(config.log_level, config.log_json)
    return config

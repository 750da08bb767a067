"""The installed sopbot's version (``sopbot --version``)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

__all__ = ["package_version", "version_line"]


def package_version(name: str) -> str:
    """The installed version of distribution `name`, or ``"?"``."""
    try:
        return _version(name)
    except PackageNotFoundError:
        return "?"


def version_line() -> str:
    """``sopbot 0.1.0 (Python 3.11.9, python-telegram-bot 22.8, holidays 0.109)``."""
    import platform

    return (f"sopbot {package_version('sopbot')} (Python {platform.python_version()}, "
            f"python-telegram-bot {package_version('python-telegram-bot')}, "
            f"holidays {package_version('holidays')})")

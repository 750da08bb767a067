"""Storage: the repository interface and its TinyDB implementation."""

from bot.storage.store import Repository, Store, StoreError

__all__ = ["Repository", "Store", "StoreError"]

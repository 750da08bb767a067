"""Storage: the repository protocol, its TinyDB implementation and an in-memory one."""

from bot.storage.memory import MemoryStore
from bot.storage.protocol import CURRENT_UPDATE, Repository, Storage
from bot.storage.store import Store, StoreError

__all__ = ["CURRENT_UPDATE", "MemoryStore", "Repository", "Storage", "Store", "StoreError"]

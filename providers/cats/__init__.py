"""CATS v3 adapter; importing the package registers it."""
from providers.cats.provider import CatsProvider

__all__ = ["CatsProvider"]

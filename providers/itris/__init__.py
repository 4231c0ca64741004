"""itris 9 adapter; importing the package registers it."""
from providers.itris.provider import ItrisProvider

__all__ = ["ItrisProvider"]

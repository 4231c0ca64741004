"""Pinpoint: importing the package registers the adapter."""
from providers.pinpoint.provider import PinpointProvider

__all__ = ["PinpointProvider"]

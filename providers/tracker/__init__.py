"""Tracker RMS adapter; importing the package registers it."""
from providers.tracker.provider import TrackerProvider

__all__ = ["TrackerProvider"]

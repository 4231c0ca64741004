"""SmartRecruiters: importing the package registers the adapter."""
from providers.smartrecruiters.provider import SmartRecruitersProvider

__all__ = ["SmartRecruitersProvider"]

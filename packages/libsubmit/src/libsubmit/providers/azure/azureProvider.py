"""The 0.5.0 import path of the Azure provider: ``libsubmit.providers.azure.azureProvider``."""
from .azure import AzureProvider

__all__ = ["AzureProvider"]

"""Microsoft Azure: :class:`~libsubmit.providers.azure.azure.AzureProvider`."""

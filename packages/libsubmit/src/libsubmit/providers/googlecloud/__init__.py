"""Google Compute Engine: :class:`~libsubmit.providers.googlecloud.googlecloud.GoogleCloudProvider`."""

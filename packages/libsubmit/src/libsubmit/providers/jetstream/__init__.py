"""Jetstream and other OpenStack clouds: :class:`~libsubmit.providers.jetstream.jetstream.JetstreamProvider`."""

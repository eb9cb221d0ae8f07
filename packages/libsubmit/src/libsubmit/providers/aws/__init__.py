"""Amazon Web Services: :class:`~libsubmit.providers.aws.aws.EC2Provider`."""

"""Ready-made configurations (0.5.0 path ``parsl.configs``)."""

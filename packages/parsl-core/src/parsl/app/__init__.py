"""Apps: python, bash and join apps, their futures and errors."""

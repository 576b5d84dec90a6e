"""The API's resources (``client.agents``, ``client.functions``, ``client.sessions``)."""

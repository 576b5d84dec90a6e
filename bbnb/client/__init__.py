"""The facade: ``Client`` and ``AsyncClient`` and the resources they carry.

``client.agents``, ``client.functions``, ``client.sessions`` mirror Browserbase's API.
The batch methods (``client.agents.run_many``, ``client.functions.invoke_many``) hand
over to the orchestration layer below (``bbnb.runs``); every HTTP call goes through
the wire layer (``bbnb.wire``).  This package also registers ``Client`` as the client
``bbnb.attach`` makes when it is given none.
"""

from __future__ import annotations

from bbnb.client._client import AsyncClient, Client
from bbnb.client._config import ResolvedConfig, resolve_config
from bbnb.runs.attach import set_default_client_factory

set_default_client_factory(Client)

__all__ = ["AsyncClient", "Client", "ResolvedConfig", "resolve_config"]

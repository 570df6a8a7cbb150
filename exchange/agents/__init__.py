"""Trading agents (bots): see exchange.agents.base for the interface.

Importing the package registers every shipped kind in ``AGENT_KINDS``: ``zic``, ``firm``,
``market_maker``, ``ccer_seller`` and ``noise``.
"""

from exchange.agents import ccer_seller, firm, market_maker, noise, zic
from exchange.agents.base import AGENT_KINDS

__all__ = ["AGENT_KINDS", "ccer_seller", "firm", "market_maker", "noise", "zic"]

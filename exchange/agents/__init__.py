"""Trading agents (bots): see exchange.agents.base for the interface."""

"""The MRV desk (docs/mrv.md "Over the API"): a market's monitoring plans, monthly deposits with
their checks, verifiers and their findings, verification reports and their publication into the
registry. The arithmetic is the pure package ``mrv``'s; the rows are ``store``'s; the operations
the gateway calls are ``service``'s; refusals are ``MrvDeskError``s with stable codes."""

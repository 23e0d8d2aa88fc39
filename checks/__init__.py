"""Asset checks: the Pandera contract and Great Expectations audits, as blocking checks."""

"""The customization request: its names, fields, hyperparameters, pre-flight checks, the UI forms, the
Amazon provider's parameters, the service role and API keys, and submitting it exactly once.

It decides whether a request is one Bedrock would take, refusing bad input before any AWS call. It
never waits, reads metrics or touches a model after training.
"""

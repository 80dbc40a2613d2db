"""Waiting for Bedrock: what a job's or resource's status means, when to look again (backoff, deadlines,
the shared list poll, push-mode events) and what a user's kill action asks for.

It decides when a wait ends and how. It never builds a request, reads metrics or acts on a resource
itself; the hooks and triggers make the calls it asks for.
"""

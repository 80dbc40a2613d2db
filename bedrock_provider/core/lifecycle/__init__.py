"""After training: deploying a custom model, evaluating it, promoting it behind a stable deployment,
retiring old models, and the resource kinds a task waits for.

It decides what to create, swap, keep or delete, and only ever acts on what our ownership tags prove is
ours. It never trains a model or decides how a wait polls.
"""

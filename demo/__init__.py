"""The one-command demo (run.py), its local stack (stack.py and its parts, which the e2e harness in
tests/e2e/harness.py subclasses), and the sample data (data/) that seed.py uploads to the emulator."""

"""The one-command demo (run.py), the local stack it shares with the end-to-end tests (stack.py),
and the sample data (data/) that seed.py uploads to the emulator."""

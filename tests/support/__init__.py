"""What tests share, imported as ``tests.support.X`` (conftest files keep only fixtures).

- ``e2e``: the CLI and the emulator as subprocesses, stack folders, the end-to-end catalog.
- ``torture``: the same for the torture suite, seeded and sized, with its figures.
- ``stores``: a backend test's state location (local file or PostgreSQL schema).
- ``fakes``: test doubles below the transport.
"""

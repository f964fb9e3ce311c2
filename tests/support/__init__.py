"""What tests share, imported as ``tests.support.X`` (conftest files keep only the fixtures of their
own directory).

- ``e2e``: the CLI and the emulator as subprocesses (start, wait, finish, stop), the server's view,
  stack folders, the end-to-end catalog.
- ``torture``: on top of ``e2e``, stacks on both backends, seeded and sized, the judge, the figures.
- ``stores``: a backend test's state location (local file or PostgreSQL schema); PostgreSQL helpers.
- ``fixtures``, ``scheduling``, ``figures``: plugins (``pytest_plugins`` in ``tests/conftest.py``):
  the emulator and PostgreSQL workspace fixtures, the pytest-xdist schedule (longest tests first),
  the torture figures printed at the end.
- ``fakes``: test doubles below the transport.
"""

"""Where the state lives: a local file with its journal (`local`) or PostgreSQL (`postgres`).

Both keep the contract of `base.StateBackend` (read, lock, write, append, force-unlock, fencing, and
the workflow definitions cache in the format of `definitions_store`); `selecting` picks one from the
project's settings. The local backend's files are written by `files` (atomic, durable), in the
formats of `state_file` and `journal`, under the lock of `lock_file`.
"""

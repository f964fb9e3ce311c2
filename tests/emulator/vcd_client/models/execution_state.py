from enum import StrEnum


class ExecutionState(StrEnum):
    CANCELED = "canceled"
    COMPLETED = "completed"
    FAILED = "failed"
    INITIALIZING = "initializing"
    RUNNING = "running"
    SUSPENDED = "suspended"
    WAITING = "waiting"
    WAITING_SIGNAL = "waiting-signal"

    def __str__(self) -> str:
        return str(self.value)

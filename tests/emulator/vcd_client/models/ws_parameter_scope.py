from enum import StrEnum


class WsParameterScope(StrEnum):
    LOCAL = "local"
    TOKEN = "token"

    def __str__(self) -> str:
        return str(self.value)

"""Where human output goes: rich consoles for stdout and stderr.

Colour only on a terminal, never with ``--no-color`` or ``NO_COLOR`` (rich honours it). Everything
printed is markup-escaped first: run names and values come from users.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.markup import escape, render

__all__ = ["Ui", "escape"]


@dataclass
class Ui:
    out: Console
    err: Console

    @classmethod
    def create(cls, no_color: bool = False) -> Ui:
        color = not no_color and "NO_COLOR" not in os.environ
        # without colour, no escape code at all (bold and dim included): rich's no_color keeps styles
        kwargs: dict[str, Any] = {"highlight": False, "soft_wrap": True, "no_color": not color, "emoji": False}
        if not color:
            kwargs["color_system"] = None
        return cls(
            out=Console(file=sys.stdout, **kwargs),
            err=Console(file=sys.stderr, stderr=True, **kwargs),
        )

    @property
    def interactive(self) -> bool:
        return self.out.is_terminal

    def line(self, markup: str = "") -> None:
        if self._plain:
            self.out.file.write(render(markup, emoji=False).plain + "\n")
        else:
            self.out.print(markup)

    def lines(self, lines: list[str]) -> None:
        """Many markup lines in one print (one print per line is slow for a plan of many runs)."""
        if not lines:
            return
        if self._plain:
            self.out.file.write(render("\n".join(lines), emoji=False).plain + "\n")
        else:
            self.out.print("\n".join(lines))

    @property
    def _plain(self) -> bool:
        """Neither a terminal nor colour: the markup's text is all there is to print (the same text rich
        prints, as no line is wrapped: ``soft_wrap``), without rich's rendering (4,000 plan lines:
        1.2 s of CPU through ``Console.print``, 0.4 s this way)."""
        return self.out.color_system is None and not self.out.is_terminal

    def raw(self, text: str) -> None:
        """Plain text, no markup, exactly as given (JSON, DOT, values)."""
        self.out.file.write(text if text.endswith("\n") else text + "\n")
        self.out.file.flush()

    def error(self, message: str) -> None:
        self.err.print(f"[bold red]Error:[/] {escape(message)}")

    def warn(self, message: str) -> None:
        self.err.print(f"[yellow]Warning:[/] {escape(message)}")

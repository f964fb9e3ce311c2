"""A figure: something measured, the baseline measured next to it, their ratio and the target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    name: str
    measured: float
    baseline: float
    target: float  # the ratio not to exceed
    unit: str = "s"
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline

    @property
    def verdict(self) -> str:
        return "PASS" if self.ratio <= self.target else "OVER"


def _value(value: float, unit: str) -> str:
    return f"{value:.3f} {unit}" if unit == "s" else f"{value:.2f} {unit}"


def table(figures: Sequence[Figure]) -> str:
    header = ("figure", "measured", "baseline", "ratio", "target", "")
    rows = [
        (
            f.name,
            _value(f.measured, f.unit),
            _value(f.baseline, f.unit),
            f"{f.ratio:.2f}x",
            f"<= {f.target:g}x",
            f.verdict,
        )
        for f in figures
    ]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", *notes] if notes else []))


def memory_line(name: str, maxrss_kb: int, runs: int) -> str:
    return f"{name:<12} peak RSS {maxrss_kb / 1024:7.1f} MB   {maxrss_kb / runs:6.1f} KB/run  ({runs} runs)"

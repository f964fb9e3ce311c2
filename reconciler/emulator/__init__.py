"""A local, VCD-compatible emulator of the workflow-execution API (SPEC section 6).

It is an independent reading of the VCD API documents: it imports nothing from the client
(``reconciler.remote``), so a misunderstanding is not written into both sides. The catalog format is
described in ``reconciler.emulator.catalog`` and docs/emulator-catalog.md.
"""

from reconciler.emulator.app import create_app
from reconciler.emulator.catalog import Catalog, CatalogError, parse_catalog, read_catalog
from reconciler.emulator.clock import ManualClock
from reconciler.emulator.context import Emulator, emulator_of
from reconciler.emulator.faults import ALL_FAULT_KINDS, ConnectionDropped
from reconciler.emulator.options import EmulatorOptions
from reconciler.emulator.serving import load_catalog, running_server, serve

__all__ = [
    "ALL_FAULT_KINDS",
    "Catalog",
    "CatalogError",
    "ConnectionDropped",
    "Emulator",
    "EmulatorOptions",
    "ManualClock",
    "create_app",
    "emulator_of",
    "load_catalog",
    "parse_catalog",
    "read_catalog",
    "running_server",
    "serve",
]

"""The command line: click commands that parse arguments, call one operation
(`reconciler.operations`) and show its result through `reconciler.ui`.

Words: *rendering* is templating (``${...}`` in manifest values, `reconciler.desired`); the plan's
JSON is its *document* (`reconciler.planning`); what people read is a *view* (`reconciler.ui`).
"""

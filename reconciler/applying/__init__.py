"""Carrying a plan out: scheduling runs over the dependency graph, starting, watching, recording.

`engine` schedules (asyncio); `records` computes the run records it writes (pure functions);
`recorder` makes them durable; `watching` waits for executions to end; `refreshing` reads them again.
"""

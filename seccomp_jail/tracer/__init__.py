"""The tracer: one event loop that owns every traced task.

It never waits on a single task: every stop of every task arrives through
one `waitpid(-1, __WALL)`, and a task held for a decision simply stays
stopped while the loop serves the others. It knows nothing of rules or
front ends: a `Policy` object (the session) answers each syscall.
"""

"""The log layer: every syscall record, task event and signal the tracer sees.

The tracer never formats or writes anything itself: it sends batches of raw
tuples through a pipe (`framing`) to a writer process (`writer`) that turns
them into `events` and hands them to the sinks (`text`, `jsonl`, `db`).
`query` reads a finished (or growing) database back for `seccomp-jail log`;
`warn` is how the writer complains without flooding stderr.
"""

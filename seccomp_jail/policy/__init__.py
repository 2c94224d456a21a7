"""Policy layer: the rule model, the rule-file parser and the BPF compiler.

Pure data and functions: no ptrace here. The session owns a mutable
`RuleStore`; the tracer asks it for a verdict at each routed syscall.
"""

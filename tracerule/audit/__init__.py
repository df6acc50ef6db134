"""The kernel's view: syscall tables, the rule language, enrichment, the simulator, the real kernel."""

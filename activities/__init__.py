"""All I/O, one module per external system. Activities are idempotent and retry-safe."""

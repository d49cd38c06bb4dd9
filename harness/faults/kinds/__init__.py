"""One module per fault kind: its spec model (registered by `@register_spec`) with its
`inject(ctx)`. Every module here is imported by `harness.faults`, so a new kind is one new file
(and its test): no list to edit."""

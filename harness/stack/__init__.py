"""The bundled target stack: its description (pure), images and lifecycle (Docker SDK)."""

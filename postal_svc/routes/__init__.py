"""The HTTP layer: blueprints, schemas and the mapping of errors to answers."""

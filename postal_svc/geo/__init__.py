"""Address resolution for Vietnamese addresses: normalisation, gazetteer (old and 2025 units), resolver.

Pure domain code: no Flask, marshmallow or SQLAlchemy, no network. ``geocoders`` (geopy adapters) is
imported on demand so that the resolver itself needs nothing beyond the standard library.
"""
from postal_svc.geo.resolver import AddressResolution, AddressResolver, resolve_address

__all__ = ["AddressResolution", "AddressResolver", "resolve_address"]

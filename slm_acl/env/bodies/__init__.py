"""Embodiments as data. `reference.json` is the catalogue of TeachMyAgent's 13 bodies."""

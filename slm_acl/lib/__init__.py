"""Small focused helpers shared by every component (no grab-bag util module)."""

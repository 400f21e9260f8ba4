"""Collectors: objects with ``collect()`` whose data source is passed in."""

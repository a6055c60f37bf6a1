"""Renderers: read results.json only, write the human reports and exports."""

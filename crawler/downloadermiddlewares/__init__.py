"""Downloader middlewares, one per module (enabled in crawler/settings.py, DOWNLOADER_MIDDLEWARES)."""

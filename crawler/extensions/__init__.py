"""Scrapy extensions, one per module (enabled in crawler/settings.py, EXTENSIONS)."""

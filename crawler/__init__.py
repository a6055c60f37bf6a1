"""disclosure-audit crawler: the Scrapy project that gathers facts from agency websites."""

__version__ = "0.1.0"

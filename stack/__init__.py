"""obsstack: observability stack-as-code for Python web services."""

__version__ = "0.1.0"

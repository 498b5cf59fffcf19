"""qawl (قول): who said what in Arabic news."""

__version__ = "0.1.0"

from qawl.document import Document, Entity, Span, Statement  # noqa: E402

__all__ = ["Document", "Entity", "Span", "Statement", "__version__"]

"""extractor: Chinese government information-disclosure annual reports to typed, checked JSON."""
__version__ = "0.1.0"

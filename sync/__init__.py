"""Pure sync rules: no Flask, requests, Redis or SQLAlchemy session in this package."""

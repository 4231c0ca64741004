"""Error pages: a clear message, never a stack trace; JSON for the panel API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, TooManyRequests

from blueprints._htmx import render_page_or_fragment

RATE_LIMITED = "Too many attempts from your address. Wait a minute, then try again."


def wants_json() -> bool:
    return (request.path.startswith(("/panel/api/", "/api/", "/hooks/"))
            or request.accept_mimetypes.best == "application/json")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if request.path.startswith("/api/"):
            # Errors no API view saw (an unknown path, a non-numeric id) in the API's own shape.
            return jsonify({"code": exc.code, "status": exc.name, "message": exc.description}), exc.code
        if wants_json():
            return jsonify({"error": exc.name, "message": exc.description}), exc.code
        return render_template("errors/error.html", error=exc), exc.code

    @app.errorhandler(429)
    def rate_limited(exc: HTTPException):
        """Our words, not the limiter's ("10 per 1 minute"); Retry-After says when to come back. An
        htmx form swaps this in place of itself (429 swaps like 422), so the reason shows."""
        exc = TooManyRequests(RATE_LIMITED, response=getattr(exc, "response", None))
        if request.path.startswith("/api/"):
            return jsonify({"code": 429, "status": exc.name, "message": exc.description}), 429
        if wants_json():
            return jsonify({"error": exc.name, "message": exc.description}), 429
        return render_page_or_fragment("errors/error.html", status=429, error=exc)

"""Error pages: a clear message, never a stack trace; JSON for the panel API."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    return (request.path.startswith(("/panel/api/", "/api/", "/hooks/"))
            or request.accept_mimetypes.best == "application/json")


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if wants_json():
            return jsonify({"error": exc.name, "message": exc.description}), exc.code
        return render_template("errors/error.html", error=exc), exc.code

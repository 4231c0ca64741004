"""(being written)"""
from flask import Blueprint

bp = Blueprint("panel", __name__)

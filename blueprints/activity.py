"""(being written)"""
from flask import Blueprint

bp = Blueprint("activity", __name__)

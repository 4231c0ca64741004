"""Pure sync rules: no Flask, requests, Redis or SQLAlchemy session in this package.

types.py     the dataclasses in and out (the contract with services/push/runner.py)
settings.py  every integration setting of DESIGN §4 and the layered resolver (locks, provenance)
schemas.py   marshmallow schemas per CRM built from the settings table and the CRM's options
planner.py   the two-phase planner (DESIGN §5 rules 1-9), back-fill of waiting notes, email gate
fields.py    blankness, field mapping, update mode, mandatory fields
ops.py       operation builders and idempotency keys
preview.py   "what will be written", for the panel and campaign pages
retry.py     backoff and what to do after each kind of CRM error (rule 10)
"""

"""CATS v3 wire details we had to ASSUME: API-FACTS §3 marks them [inferred] or [not found], and
docs/assumptions.md "CATS" records the pick. The one place to correct them against the vendor
reference (https://docs.catsone.com/api/v3/). Seen-3p details (Token auth, 201 + Location, snake_case
bodies with `emails.primary`, HAL paging, `check_duplicate`, pipelines, tags by id) are not here."""
from __future__ import annotations

# Activities (notes): `type` is required and one of these; no endpoint lists them.
ACTIVITY_TYPES = {
    "other": "Other", "email": "Email", "call": "Call", "call_talked": "Call (talked)",
    "call_lvm": "Call (left voicemail)", "call_missed": "Call (missed)", "meeting": "Meeting",
    "text_message": "Text message",
}
UNTYPED_ACTIVITY = "other"            # an unmapped note goes in as "other"

# Resume upload: POST ?filename=&is_resume=true with the raw bytes; rows carry `is_resume`.
RESUME_UPLOAD = "{records}/{id}/attachments"

# Conflicts: a check_duplicate hit ({"message", "duplicates": [ids]}) and a candidate already on
# the job's pipeline both answer 409.
DUPLICATE_STATUS = 409
ALREADY_ON_PIPELINE_STATUS = 409

# Structured search body {field, filter, value} (seen-3p); the email field's name and the exact
# operator for it are assumed.
EMAIL_SEARCH_FIELD = "emails"
SEARCH_FILTERS = {"email": "exactly"}   # others use "contains" (substring)

# Off-limits: consent_status "declined" means do not contact (values [not found]).
DECLINED_CONSENT = "declined"

# Phones are read as an object keyed by slot; we write the mobile number to this slot.
PHONE_WRITE_SLOT = "cell"

# Custom field definitions and the connection check.
CUSTOM_FIELDS = "{records}/custom_fields"     # HAL custom_fields {id, name, field_type}
SITE_PATH = "/site"                           # {id, name, subdomain}

# Links into the web app [not found: API-FACTS §3.1 gives only the host]: the customer's UI is
# https://<account>.catsone.com, the account being the `subdomain` of GET /site; a record's page is
# assumed to keep the classic CATS route below. The admin can type another "Web address".
WEB_APP = "https://{account}.catsone.com"
RECORD_PAGES = {"candidate": "/index.php?m=candidates&a=show&candidateID={id}",
                "contact": "/index.php?m=contacts&a=show&contactID={id}",
                "company": "/index.php?m=companies&a=show&companyID={id}"}

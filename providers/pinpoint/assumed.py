"""Pinpoint API details we had to ASSUME: API-FACTS §5 marks them [inferred] or [not found], and
docs/assumptions.md "Pinpoint" records the pick. The one place to correct them against the vendor
reference (https://developers.pinpointhq.com)."""
from __future__ import annotations

UPDATE_METHOD = "PUT"                  # PP-MAP says PUT (the AE spec says PATCH)
TAG_CONTEXT = "custom_green"           # the one non-rejection tag context seen in an example
CV_CONTEXT = "pdf_cv"                  # attachment context of the CV [seen-3p]
CV_FILENAME_ATTRIBUTE = "cv_file_name"  # companion of `cv_base64_data` [inferred]
JOB_STATUSES = ("open", "closed", "archived", "draft")          # [inferred: AE]
COMMENT_FILTERS = ("filter[commentable_type]", "filter[commentable_id]")   # [not found]
MAX_PAGE_SIZE = 1000                   # PP-MAP: page[size] default 100, max 1000
LINKEDIN_SCAN_PAGES = 5                # no LinkedIn filter exists: scan at most 5 × 1000 applications
# Job seekers (talent pipeline): their list filters are id, candidate_id and external_system_reference
# only (no email/LinkedIn filter [not found]), so a lookup scans them (LINKEDIN_SCAN_PAGES pages);
# comments and custom attributes attach to them as `job_seekers` / `JobSeeker` [inferred: PP-MAP].
SEARCH_PAGE_SIZE = 100
# Custom fields (custom_fields.py): values are `custom_attributes` written with POST (+ a `custom_field`
# relationship) and changed with PATCH; a single-select value is the option's name; the values of an
# application and its candidate are read in one call with `filter[custom_attributable_id]=<a>,<c>`
# (comma = any of, the Graphiti convention docs/assumptions.md also assumes). All [inferred].
SEARCH_FILTERS = {"email": "filter[candidate_email]", "phone": "filter[candidate_phone]",
                  "job_id": "filter[job_id]", "stage_id": "filter[stage_id]", "candidate_id": "filter[candidate_id]"}

# Links into the web app: the tenant's site is https://<subdomain>.pinpointhq.com (API-FACTS §5.1
# [seen-3p]); the admin pages of an application and of a talent-pipeline job seeker are [not found],
# assumed below.
WEB_APP = "https://{subdomain}.pinpointhq.com"
RECORD_PAGES = {"application": "/admin/applications/{id}"}
JOB_SEEKER_PAGE = "/admin/job_seekers/{id}"

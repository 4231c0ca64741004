"""Every itris wire detail we had to ASSUME: API-FACTS §4 finds only `POST /api/v2/applicant/inbox`,
so paths, auth, paging and errors are the picks written down in docs/assumptions.md "itris". This is
the one place to correct them against a customer's Swagger ("Technical Documentation") before
go-live; client.py and provider.py take every path and status from here. (Record key names live in
mappers.WIRE: `firstName`, `lastName`, `emailAddress`, `phoneNumber`, `webAddress` are from the
inbox payload AF has seen; `jobTitle`, `companyName`, `town`, `offLimits` are assumed.)"""
from __future__ import annotations

from datetime import timedelta

HOST_TEMPLATE = "https://{subdomain}.itris.cloud/api/v2"
# The hosts Shoal calls (issue #10): the tenant's subdomain of the hosting domain above. API-FACTS §4
# finds the pattern [not found] ("per customer, through an IIS web proxy"); a self-hosted itris on
# another domain is reached only through the operator's CRM_HOST_ALLOWLIST.
API_HOSTS = ("*.itris.cloud",)

# Auth: POST {username, password} → {access_token, token_type: "Bearer", expires_in}; no refresh token.
TOKEN_PATH = "/token"
ME_PATH = "/me"                       # {userId, username, displayName}
TOKEN_MARGIN = timedelta(minutes=1)   # log in again this long before expiry (less for short tokens)

# Lists: ?page=&pageSize= (≤ 200) → {items, page, pageSize, totalItems, totalPages}.
MAX_PAGE_SIZE = 200

# Records: applicants and contacts share one shape of routes.
RECORDS = {"applicant": "/applicants", "contact": "/contacts"}
RECORD = "{records}/{id}"                     # GET, PATCH (partial); POST {records} → 201 full body
RECORD_NOTES = "{records}/{id}/notes"         # POST {text, subject?, noteTypeId} → 201 {noteId, ...}
RECORD_TAGS = "{records}/{id}/tags"           # POST {tagIds: [...]} adds, idempotent
APPLICANT_CV = "/applicants/{id}/cv"          # GET → 200 meta or 404; PUT {fileName, fileContent b64}
LOOKUP_PARAMS = {"email": "email", "linkedin_url": "webAddress", "name": "name"}   # list filters, AND

# Reference data; `recordType=applicant|contact` where it differs per record type.
RECORD_TYPE_PARAM = "recordType"
CUSTOM_FIELDS = "/customfields"               # {key, label, type, options}; values in customFields {}
NOTE_TYPES = "/notetypes"                     # {noteTypeId, name}
TAGS = "/tags"                                # {tagId, name}
GROUPS = "/groups"                            # {groupId, name, recordType} = Shoal "lists"
GROUP_MEMBERS = "/groups/{id}/members"        # POST {recordId} → 201, or 200 if already a member
STATUSES = "/statuses"                        # {statusId, name, isDefault}
COMPANIES = "/companies"                      # ?name= substring → {companyId, name, town, website, ...}
JOBS = "/jobs"                                # {jobId, title, companyId, companyName, statusId, statusName}
JOB_STATUSES = "/jobstatuses"                 # {statusId, name}
JOB_APPLICANTS = "/jobs/{id}/applicants"      # POST {applicantId} → 201 {jobApplicantId}; 409 if there
CONFLICT_STATUS = 409

# Links into the web app [not found]: itris serves its web client from the tenant's own server, so
# the app is assumed at the API host's root, with a record's page below. The admin can type another
# "Web address" (a self-hosted itris whose app and API live apart).
RECORD_PAGES = {"applicant": "/applicants/{id}", "contact": "/contacts/{id}", "company": "/companies/{id}"}

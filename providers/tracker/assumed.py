"""Tracker wire details we had to ASSUME: API-FACTS §1 marks them [not found] or [inferred], and
docs/assumptions.md "Tracker" records the pick. The one place to correct them against the tenant's
swagger (`/swagger/index.html` on the regional host). Seen-3p details (ExchangeToken, Resource and
Contact create/search, `surname`, `contactDetails`, `tagText`, longlist add, 10-row pages) are not
here."""
from __future__ import annotations

# Notes: POST {recordType: "Resource"|"Contact", recordId, subject, note, activityTypeId} → 201 {id};
# POST .../Search {recordType, recordId, pageNumber, pageSize} → {data: [{activityId, note, ...}]}.
ACTIVITY_PATH = "/api/v1/Activity"
ACTIVITY_SEARCH_PATH = "/api/v1/Activity/Search"
SUBJECT_CHARS = 100                   # the activity subject: the note's first line, cut to this

# Reference lists, each a bare array of {id, name}.
ACTIVITY_TYPES_PATH = "/api/v1/MetaData/ActivityTypes"
STATUSES_PATH = {"candidate": "/api/v1/MetaData/ResourceStatuses",
                 "contact": "/api/v1/MetaData/ContactStatuses"}    # records carry the status *name*
TAGS_PATH = "/api/v1/MetaData/Tags"
CUSTOM_FIELDS_PATH = "/api/v1/MetaData/CustomFields/{name}"       # {id, name, fieldType}
JOB_STATUSES_PATH = "/api/v1/MetaData/OpportunityStatuses"

# Contacts: GET/PATCH /api/v1/Contact/{id} (AF saw only create and search).
RECORD_PATH = "/api/v1/{name}/{id}"

# Longlist: adding a resource already on the opportunity answers 409; the existing row is found by
# POST /api/v1/OpportunityResource/Search {opportunityId, resourceId} (the two id filters assumed).
ALREADY_ON_JOB_STATUS = 409
OPPORTUNITY_RESOURCE_SEARCH = "/api/v1/OpportunityResource/Search"

# Companies: GET /api/v1/Client?search=&pageSize=&pageNumber= (AF [inferred], one script).
CLIENT_SEARCH_PATH = "/api/v1/Client"

# Write keys AF doesn't show: the LinkedIn URL inside contactDetails, location as `city`, and
# custom fields written as [{id, value}] (read shape [{id, name, value}] is seen-3p).
LINKEDIN_KEY = "linkedIn"
LOCATION_KEY = "city"

# CVs: the document list GET /api/v1/Resource/{id}/Documents is seen-3p (its shape varies: a bare
# list or {items|documents|value|results}); the upload is NOT FOUND (one integrator says the REST API
# has none): assumed a multipart POST to the same path with `file` and `documentType`, 201 {id}.
# Resources only; a row is the CV when its type names one of CV_TYPES.
DOCUMENTS_PATH = "/api/v1/Resource/{id}/Documents"
CV_DOCUMENT_TYPE = "CV"
CV_TYPES = ("cv", "resume", "curriculum vitae")

# Links into the web app [not found]: the app host per data region is assumed from the legacy API
# hosts' naming (evoapi → evo, evoapius → evous, evoapica → evoca), and a record's page from the
# REST resource names. The admin can type another "Web address" on the connect form.
WEB_APPS = {"uk": "https://evo.tracker-rms.com", "us": "https://evous.tracker-rms.com",
            "ca": "https://evoca.tracker-rms.com"}
RECORD_PAGES = {"candidate": "/Resource/{id}", "contact": "/Contact/{id}", "company": "/Client/{id}"}

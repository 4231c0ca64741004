"""SmartRecruiters API details we had to ASSUME: API-FACTS §2 marks them [inferred], [seen-3p] or
[not found], and docs/assumptions.md "SmartRecruiters" records the pick. The one place to correct
them against the vendor reference (https://developers.smartrecruiters.com/)."""
from __future__ import annotations

CANDIDATE_STATUSES = ("LEAD", "NEW", "IN_REVIEW", "INTERVIEW", "OFFERED", "HIRED", "REJECTED",
                      "WITHDRAWN", "TRANSFERRED")                                  # [seen-3p] enum
JOB_STATUSES = ("CREATED", "SOURCING", "INTERVIEW", "OFFER", "HIRED", "CANCELLED")  # [inferred] AE enum
CONSENT_BLOCKED = {"DECLINED", "REVOKED", "WITHDRAWN", "EXPIRED", "REFUSED"}     # [not found] values
RESUME_ATTACHMENT_TYPE = "RESUME"                                               # [inferred] attachmentType
NOTE_LIST_PATH = "/messages/shares"                     # [not found] read back shares (?candidateId=)
APPLY_PATH = "/candidates/{id}/jobs/{job_id}"           # [not found] apply an existing candidate (POST),
                                                        # as docs/assumptions.md assumes; 409 = already on it
# Also assumed elsewhere: a select candidate property is written as its option id (properties.py);
# an error message "<field>: <text>" names the field (client.error_message); list rows carry `tags`
# (SRPY's Candidate model has them; list_tags reads them, so it finds nothing if they are absent).
SEARCH_PARAMS = {"email": "q", "location": "location", "status": "status", "tag": "tag", "job_id": "jobId"}
# PKCE on the authorization-code flow [not found]: API-FACTS §2 names only client_id, redirect_uri and
# scope. We send an S256 challenge and the verifier anyway (RFC 7636): a server that doesn't know PKCE
# ignores unknown parameters (RFC 6749 §3.1), and one that does binds the code to our sign-in.
PKCE_METHOD = "S256"

# Links into the web app: SmartRecruiters' app is on www.smartrecruiters.com for every customer
# [seen: the OAuth consent lives there]; a candidate's profile page is [not found], assumed below.
WEB_APP = "https://www.smartrecruiters.com"
RECORD_PAGES = {"candidate": "/app/people/candidates/{id}"}

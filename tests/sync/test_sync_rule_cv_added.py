"""Rule 6 for a CV given after the push (`cv_added`): it goes to the linked record unless the record
has a CV and "Don't overwrite original CV" is on; not linked yet, it waits for the push; a CRM
without CV uploads says so. Run for every CRM declaring `cv`."""
from __future__ import annotations

import pytest

from planner_cases import ada, ids, kinds, matched, not_found, providers_with, run, settings_for, without
from sync.types import OP_LOOKUP, OP_UPLOAD_CV, PUSH, SKIPPED

CV = providers_with("cv")


@pytest.mark.parametrize("spec", CV, ids=ids(CV))
@pytest.mark.parametrize("has_cv,keep,uploads", [(False, True, True), (False, False, True), (True, False, True),
                                                 (True, True, False)])
def test_a_new_cv_goes_to_the_linked_record_unless_it_has_one_and_keep_original_is_on(spec, has_cv, keep, uploads):
    settings = settings_for(spec, {"keep_original_cv": keep})
    person = ada(cv_available=True)
    first = run(spec, "cv_added", settings, person=person)
    assert first.outcome == PUSH and kinds(first) == [OP_LOOKUP]
    p = run(spec, "cv_added", settings, person=person, state=matched(spec, linked=True, has_cv=has_cv))
    if uploads:
        assert p.outcome == PUSH and kinds(p) == [OP_UPLOAD_CV] and p.operations[0].remote_id == "r42"
    else:
        assert p.outcome == SKIPPED and "Don't overwrite original CV" in p.reason


@pytest.mark.parametrize("spec", CV, ids=ids(CV))
def test_a_new_cv_for_someone_not_linked_waits_for_their_push(spec):
    settings = settings_for(spec)
    for state in (not_found(spec), matched(spec, linked=False)):
        p = run(spec, "cv_added", settings, person=ada(cv_available=True), state=state)
        assert p.outcome == SKIPPED and "goes with the push" in p.reason


@pytest.mark.parametrize("spec", CV, ids=ids(CV))
def test_a_crm_without_cv_uploads_keeps_it_in_shoal(spec):
    p = run(without(spec, "cv"), "cv_added", settings_for(spec), person=ada(cv_available=True))
    assert p.outcome == SKIPPED and "doesn't take CVs" in p.reason

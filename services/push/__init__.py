"""The push runtime: what happens when a person is pushed into the team's CRM.

One sync intent (an outbox row written by `services.enrolments` with its event) becomes CRM writes:

    dispatch.py   dispatch(): one queue job per intent, through the `services.background` seam;
                  sweep(): re-enqueue intents lost to a Redis restart or a dead worker
    (jobs/push.py, in a worker: ids in, calls runner.run_intent)
    runner.py     run_intent(): claim the intent, take the person lock, plan, apply, settle
    context.py    load everything the planner needs in one read (settings layers, person, target,
                  the CRM link) and build the provider adapter for the connection
    lookup.py     rule 2, match before create: the CRM state from the link or a live find
    (sync/planner.py, pure: settings + event + CRM state → operations)
    executor.py   apply each operation through the adapter (the only place a push calls a CRM),
                  one ledger row per operation so a rerun never writes twice; audit every write
    audit_words.py  the audit row's summary in words: jobs, tags and lists by their CRM names
    backfill.py   rule 5: notes that waited for the record, written before the push's own note
    failures.py   apply sync/retry's decision on a failed run: reschedule, park, needs attention

The pure rules (what to write, when, what a failure means) live in `sync/`; this package only
loads, calls and records.
"""

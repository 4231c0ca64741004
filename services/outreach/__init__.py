"""Outreach: sequences that really send (issue 13, parts 1 and 2).

    steps.py       the sequence editor: validate and save steps, start / pause / resume
    templating.py  subject and body templates ({{ first_name }} ...), checked when a step is saved
    schedule.py    when a step is due: days, then business hours in the team's time zone (pure)
    state.py       each enrolment's place in the sequence; the hook every outreach event passes
                   through (services.enrolments): a reply, opt-out or bounce stops the sequence
    scheduler.py   tick(now): due steps become step runs (an email to send, a task to tick off)
    sending.py     send_run(run_id, now): suppression list, off-limits asked of the CRM, render,
                   SMTP with a per-mailbox daily cap and spacing, retry with backoff, never twice
    mailer.py      SMTP itself (connect, STARTTLS/TLS, login, send) with typed failures
    mailboxes.py   per-user SMTP settings (password encrypted at rest) and their Test
    suppression.py the team's do-not-email list
    tasks.py       LinkedIn message and call steps on the recruiter's "My tasks" page
    unsubscribe.py the signed unsubscribe link and List-Unsubscribe one-click

The worker runs scheduler.tick every OUTREACH_TICK_SECONDS (jobs/schedule.py) and one send job per
email run (jobs/outreach.py); the web process never talks to an SMTP server or a CRM.
"""

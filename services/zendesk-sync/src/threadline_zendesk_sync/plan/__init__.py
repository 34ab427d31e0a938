"""zendesk-sync's decisions, as pure functions: what to ask Zendesk and Slack for, what counts as
done, and which failures are retried. The command performers (ticket_commands, thread_commands,
on_call) feed these with what they looked up and send what they return; the unit tests
(tests/zendesk_sync/test_plan.py) hold them to the contract's own examples.

- `zendesk_requests`: ticket objects for every create and update, the loop guard;
- `slack_posts`: texts, blocks and metadata of every post;
- `attachments`: files carried to Zendesk or left in Slack;
- `people`: Slack authors as Zendesk users;
- `failures`: transient, permanent, or the thread is gone;
- `outcomes`: what a command did, and the sync.results records it reports.
"""

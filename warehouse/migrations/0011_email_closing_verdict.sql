-- Whether a message's body opens as a pure closer ("Thanks, got it"), decided at ingest
-- from its first bytes (connectors.closing): 'closer', 'not_closer' or 'unknown', and
-- the rule that decided it. The body text itself is never stored.
ALTER TABLE raw.email_messages ADD COLUMN closing_verdict VARCHAR DEFAULT 'unknown';
ALTER TABLE raw.email_messages ADD COLUMN closing_rule VARCHAR DEFAULT 'body_not_read';

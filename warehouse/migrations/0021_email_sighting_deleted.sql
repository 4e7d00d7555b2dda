-- When a message was deleted from the mailbox that saw it (the Gmail API's history says
-- so): the sighting and the message stay, archived, so the figures keep what happened.
ALTER TABLE raw.email_sightings ADD COLUMN deleted_at TIMESTAMPTZ;

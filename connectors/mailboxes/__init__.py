"""Mailboxes → raw: `ingest` reads mbox files (from their `MboxCursor`) and IMAP folders
(from their `FolderCursor`) and writes each batch with the cursor that covers it."""

-- Microsoft Graph items: every message item seen in a mailbox folder through delta
-- queries (Graph gives a message a new item id when it moves), and when Graph reported
-- it removed (`@removed`: deleted or moved out) or found it gone after a resync. The
-- message's row in raw.email_messages stays: mail that was sent stays in the figures.
CREATE TABLE raw.email_graph_items (
    mailbox        VARCHAR NOT NULL,
    item_id        VARCHAR NOT NULL,
    folder         VARCHAR NOT NULL,
    message_key    VARCHAR,
    seen_at        TIMESTAMPTZ NOT NULL,
    removed_at     TIMESTAMPTZ,
    removed_reason VARCHAR,
    PRIMARY KEY (mailbox, item_id)
);

-- Raw layer: source records as received (JSON payloads), upserted by natural key.

CREATE TABLE raw.asana_projects (
    gid          VARCHAR PRIMARY KEY,
    payload      JSON NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE raw.asana_tasks (
    gid          VARCHAR PRIMARY KEY,
    project_gid  VARCHAR NOT NULL,
    modified_at  TIMESTAMPTZ NOT NULL,
    payload      JSON NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE raw.asana_stories (
    gid          VARCHAR PRIMARY KEY,
    task_gid     VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    payload      JSON NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL
);

-- One row per message, whichever mailboxes hold it (headers only, never bodies).
CREATE TABLE raw.email_messages (
    message_key      VARCHAR PRIMARY KEY,
    message_id       VARCHAR,
    from_addr        VARCHAR NOT NULL,
    from_name        VARCHAR,
    to_addrs         VARCHAR[],
    cc_addrs         VARCHAR[],
    reply_to         VARCHAR,
    subject          VARCHAR,
    sent_at          TIMESTAMPTZ,
    date_status      VARCHAR NOT NULL,
    in_reply_to      VARCHAR,
    "references"     VARCHAR[],
    auto_submitted   VARCHAR,
    precedence       VARCHAR,
    list_id          VARCHAR,
    x_autoreply      BOOLEAN NOT NULL,
    return_path_null BOOLEAN NOT NULL,
    is_bounce        BOOLEAN NOT NULL,
    gmail_labels     VARCHAR[],
    gmail_thread_id  VARCHAR,
    problems         VARCHAR[],
    extracted_at     TIMESTAMPTZ NOT NULL
);

-- Where each message was seen (a message may sit in several mailboxes).
CREATE TABLE raw.email_sightings (
    message_key  VARCHAR NOT NULL,
    mailbox      VARCHAR NOT NULL,
    source       VARCHAR NOT NULL,
    source_ref   VARCHAR NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (message_key, mailbox)
);

CREATE TABLE raw.crm_objects (
    object_type  VARCHAR NOT NULL,
    id           VARCHAR NOT NULL,
    updated_at   TIMESTAMPTZ,
    archived     BOOLEAN NOT NULL,
    payload      JSON NOT NULL,
    extracted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (object_type, id)
);

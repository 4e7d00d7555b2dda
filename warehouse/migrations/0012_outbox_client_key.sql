-- The outbox key names the client: two clients reporting to one address (two brands of
-- one holding) are two deliveries, not one. Keys are
-- kind|channel|client (or -)|recipient|period; the sent and resend logs follow their
-- outbox rows, so what was sent before this migration is still never sent again.
UPDATE ops.sent_log s
SET delivery_key = o.kind || '|' || o.channel || '|' || coalesce(o.client_id, '-') || '|'
                   || o.recipient || '|' || o.period
FROM ops.outbox o
WHERE o.delivery_key = s.delivery_key;

UPDATE ops.resend_log r
SET delivery_key = o.kind || '|' || o.channel || '|' || coalesce(o.client_id, '-') || '|'
                   || o.recipient || '|' || o.period
FROM ops.outbox o
WHERE o.delivery_key = r.delivery_key;

UPDATE ops.outbox
SET delivery_key = kind || '|' || channel || '|' || coalesce(client_id, '-') || '|'
                   || recipient || '|' || period;

-- When ops was told about a delivery whose fate is `unknown` (told once per delivery).
ALTER TABLE ops.outbox ADD COLUMN alerted_at TIMESTAMPTZ;

-- Two indexes of audit_objects that no query reads: by (pin, path) and by blob id. Each put every
-- appended event's object into a random page (a path or a blob id lands anywhere in its index), which
-- every group commit then wrote to the WAL. Coverage reads a pin's objects by (pin_id, event_idx) and
-- exports by event_idx, and both of those indexes stay. An index for a future query comes back with
-- that query.
DROP INDEX audit_objects_by_pin;
DROP INDEX audit_objects_by_blob;

-- Requirement lists staff import for a pin (e.g. a Common Criteria security target's SFRs), and the
-- requirement ids a thread's region is tagged with. A new import is a new list; the latest counts.
-- Append-only: the `requirements.import` event records each list's canonical SHA-256.
CREATE TABLE requirement_lists (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pin_id      BIGINT NOT NULL REFERENCES pins (id),
    sha256      TEXT NOT NULL,   -- of the list's canonical form (docs/bundle-format.md)
    count       BIGINT NOT NULL,
    imported_by TEXT,            -- the username, NULL from the command line
    created_at  BIGINT NOT NULL
);
CREATE INDEX requirement_lists_by_pin ON requirement_lists (pin_id, id);

CREATE TABLE requirements (
    list_id  BIGINT NOT NULL REFERENCES requirement_lists (id),
    position BIGINT NOT NULL,
    req_id   TEXT NOT NULL,
    title    TEXT NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (list_id, position)
);

-- A thread's requirement ids, as a JSON array of strings; NULL for none.
ALTER TABLE comments ADD COLUMN requirements TEXT;

CREATE TRIGGER requirement_lists_no_update BEFORE UPDATE ON requirement_lists BEGIN SELECT RAISE(ABORT, 'requirement lists are append-only'); END;
CREATE TRIGGER requirement_lists_no_delete BEFORE DELETE ON requirement_lists BEGIN SELECT RAISE(ABORT, 'requirement lists are append-only'); END;
CREATE TRIGGER requirements_no_update BEFORE UPDATE ON requirements BEGIN SELECT RAISE(ABORT, 'requirement lists are append-only'); END;
CREATE TRIGGER requirements_no_delete BEFORE DELETE ON requirements BEGIN SELECT RAISE(ABORT, 'requirement lists are append-only'); END;

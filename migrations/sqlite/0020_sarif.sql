-- Tool results a reviewer imported (SARIF 2.1.0 logs) and their triage. The log itself is kept
-- under its SHA-256 beside the artifacts; these rows are what was read from it. Append-only: a new
-- triage of a result is a new row, the latest counts.
CREATE TABLE sarif_logs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    pin_id      BIGINT NOT NULL REFERENCES pins (id),
    uploader_id BIGINT NOT NULL REFERENCES users (id),
    tools       TEXT NOT NULL,   -- the runs' tools, "name version", one a line
    sha256      TEXT NOT NULL,   -- of the log's bytes as uploaded
    bytes       BIGINT NOT NULL,
    results     BIGINT NOT NULL,
    placed      BIGINT NOT NULL, -- results at a line (or file) of the pin, in the uploader's paths
    created_at  BIGINT NOT NULL
);
CREATE INDEX sarif_logs_by_pin ON sarif_logs (pin_id, id);

-- One result of a log, numbered from 0 in the log's order (run by run). path is the pin's file it
-- was placed at, NULL when it was not (uri is then the location as the log gave it, and outside why).
CREATE TABLE sarif_results (
    log_id     BIGINT NOT NULL REFERENCES sarif_logs (id),
    seq        BIGINT NOT NULL,
    tool       TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    rule_name  TEXT,
    level      TEXT NOT NULL CHECK (level IN ('error', 'warning', 'note', 'none')),
    message    TEXT NOT NULL,
    uri        TEXT NOT NULL,
    path       TEXT,
    start_line BIGINT,
    end_line   BIGINT,
    cwe        TEXT,             -- the rule's CWE ids in the shipped list, as `120,787`
    outside    TEXT,             -- why an unplaced result was not placed
    PRIMARY KEY (log_id, seq)
);
CREATE INDEX sarif_results_by_path ON sarif_results (path, log_id);

-- Each triage of a result: confirmed (finding_id names the finding it became), false_positive or
-- not_useful, with the reason given.
CREATE TABLE sarif_triage (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    log_id     BIGINT NOT NULL REFERENCES sarif_logs (id),
    seq        BIGINT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('confirmed', 'false_positive', 'not_useful')),
    reason     TEXT NOT NULL,
    finding_id BIGINT REFERENCES comments (id),
    by_id      BIGINT NOT NULL REFERENCES users (id),
    at         BIGINT NOT NULL
);
CREATE INDEX sarif_triage_by_result ON sarif_triage (log_id, seq, id);

CREATE TRIGGER sarif_logs_no_update BEFORE UPDATE ON sarif_logs BEGIN SELECT RAISE(ABORT, 'tool results are append-only'); END;
CREATE TRIGGER sarif_logs_no_delete BEFORE DELETE ON sarif_logs BEGIN SELECT RAISE(ABORT, 'tool results are append-only'); END;
CREATE TRIGGER sarif_results_no_update BEFORE UPDATE ON sarif_results BEGIN SELECT RAISE(ABORT, 'tool results are append-only'); END;
CREATE TRIGGER sarif_results_no_delete BEFORE DELETE ON sarif_results BEGIN SELECT RAISE(ABORT, 'tool results are append-only'); END;
CREATE TRIGGER sarif_triage_no_update BEFORE UPDATE ON sarif_triage BEGIN SELECT RAISE(ABORT, 'tool results are append-only'); END;
CREATE TRIGGER sarif_triage_no_delete BEFORE DELETE ON sarif_triage BEGIN SELECT RAISE(ABORT, 'tool results are append-only'); END;

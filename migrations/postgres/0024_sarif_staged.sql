-- A SARIF log's results as they are written before the import is recorded: rows are written here a
-- batch at a time, outside the log's write lock, and copied to sarif_results by one statement in the
-- transaction that records the import, then removed. Not a record: a row here names no log and is
-- never read but to be copied; rows an interrupted import left are removed by the next import.
CREATE TABLE sarif_staged (
    stage      TEXT NOT NULL,    -- the import's own random id
    seq        BIGINT NOT NULL,
    tool       TEXT NOT NULL,
    rule_id    TEXT NOT NULL,
    rule_name  TEXT,
    level      TEXT NOT NULL,
    message    TEXT NOT NULL,
    uri        TEXT NOT NULL,
    path       TEXT,
    start_line BIGINT,
    end_line   BIGINT,
    cwe        TEXT,
    outside    TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (stage, seq)
);
CREATE INDEX sarif_staged_by_age ON sarif_staged (created_at);

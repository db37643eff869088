-- Definitions shared between pins (issue 32: two releases of the benchmark corpus stored 753,480
-- definitions, 31 MB, most of them twice). A file's definitions depend only on its path (whose name
-- picks the grammar) and its blob, so they are stored once per (path, blob), a *source*, and a pin
-- lists the sources it has; two releases that share most files share most definitions. A
-- definition is looked up by name first, then kept if its source is one of the pin's.
CREATE TABLE definition_sources (
    id      INTEGER PRIMARY KEY,
    path    TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    UNIQUE (path, blob_id)
);
CREATE TABLE definitions (
    name   TEXT NOT NULL,
    source BIGINT NOT NULL,
    line   BIGINT NOT NULL,
    kind   TEXT NOT NULL,
    PRIMARY KEY (name, source, line, kind)
) WITHOUT ROWID;
CREATE TABLE pin_definition_sources (
    source BIGINT NOT NULL,
    pin_id BIGINT NOT NULL REFERENCES pins (id),
    PRIMARY KEY (source, pin_id)
) WITHOUT ROWID;

-- A path whose pin has no file row (an index not finished) keeps its definitions under a source
-- of its own pin.
CREATE TEMPORARY TABLE old_sources (
    pin_id  BIGINT NOT NULL,
    file    BIGINT NOT NULL,
    path    TEXT NOT NULL,
    blob_id TEXT NOT NULL,
    PRIMARY KEY (pin_id, file)
);
INSERT INTO old_sources (pin_id, file, path, blob_id)
    SELECT f.pin_id, f.file, f.path, COALESCE(p.blob_id, 'pin ' || f.pin_id)
    FROM pin_definition_files f LEFT JOIN pin_files p ON p.pin_id = f.pin_id AND p.path = f.path;
INSERT INTO definition_sources (path, blob_id)
    SELECT DISTINCT path, blob_id FROM old_sources WHERE true ON CONFLICT DO NOTHING;
INSERT INTO definitions (name, source, line, kind)
    SELECT d.name, s.id, d.line, d.kind
    FROM pin_definitions d
    JOIN old_sources o ON o.pin_id = d.pin_id AND o.file = d.file
    JOIN definition_sources s ON s.path = o.path AND s.blob_id = o.blob_id
    WHERE true ON CONFLICT DO NOTHING;
INSERT INTO pin_definition_sources (source, pin_id)
    SELECT DISTINCT s.id, o.pin_id
    FROM old_sources o JOIN definition_sources s ON s.path = o.path AND s.blob_id = o.blob_id
    WHERE true ON CONFLICT DO NOTHING;
DROP TABLE old_sources;
DROP TABLE pin_definitions;
DROP TABLE pin_definition_files;

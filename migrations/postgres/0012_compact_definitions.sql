-- A pin's definitions, compactly (issue 32: pin_symbols with its index was 96 MB for two releases
-- of the benchmark corpus, most of it each row's path): each path once per pin, numbered in path
-- order, and the definitions keyed by (pin, name, file, line, kind), which is also how they are
-- looked up, so the key is the only index.
CREATE TABLE pin_definition_files (
    pin_id BIGINT NOT NULL REFERENCES pins (id),
    file   BIGINT NOT NULL,
    path   TEXT NOT NULL,
    PRIMARY KEY (pin_id, file)
);
CREATE TABLE pin_definitions (
    pin_id BIGINT NOT NULL,
    name   TEXT NOT NULL,
    file   BIGINT NOT NULL,
    line   BIGINT NOT NULL,
    kind   TEXT NOT NULL,
    PRIMARY KEY (pin_id, name, file, line, kind)
);

INSERT INTO pin_definition_files (pin_id, file, path)
    SELECT pin_id, ROW_NUMBER() OVER (PARTITION BY pin_id ORDER BY path) - 1, path
    FROM (SELECT DISTINCT pin_id, path FROM pin_symbols) AS paths;
INSERT INTO pin_definitions (pin_id, name, file, line, kind)
    SELECT s.pin_id, s.name, f.file, s.line, s.kind
    FROM pin_symbols s JOIN pin_definition_files f ON f.pin_id = s.pin_id AND f.path = s.path
    WHERE true -- (SQLite reads the ON CONFLICT below as the join's otherwise)
    ON CONFLICT DO NOTHING;
DROP TABLE pin_symbols;

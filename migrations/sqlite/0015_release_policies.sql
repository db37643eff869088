-- Release policies (issue 36): the rules a repository's releases are held to before supervisors
-- sign. Append-only: the newest row of a repository is its policy; older ones stay, because
-- dossiers name them by digest.
CREATE TABLE release_policies (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    policy        TEXT NOT NULL, -- canonical JSON (docs/releases.md)
    digest        TEXT NOT NULL, -- SHA-256 of `policy`, hex
    written       TEXT NOT NULL, -- the document as staff wrote it (TOML or JSON)
    set_by        BIGINT REFERENCES users (id), -- null: the operator
    set_at        BIGINT NOT NULL
);
CREATE INDEX release_policies_by_repository ON release_policies (repository_id, id);
CREATE TRIGGER release_policies_no_update BEFORE UPDATE ON release_policies
BEGIN SELECT RAISE(ABORT, 'release policies are append-only'); END;
CREATE TRIGGER release_policies_no_delete BEFORE DELETE ON release_policies
BEGIN SELECT RAISE(ABORT, 'release policies are append-only'); END;

-- Clearroom schema for PostgreSQL. Times are BIGINT milliseconds since the Unix epoch, UTC.

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('staff', 'reviewer', 'regulator')),
    password_hash TEXT NOT NULL, -- argon2id PHC string; never leaves the store
    created_at    BIGINT NOT NULL
);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id),
    token_sha256 TEXT NOT NULL UNIQUE, -- hex SHA-256 of the token; the token itself is shown once
    created_at   BIGINT NOT NULL
);

CREATE TABLE repositories (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE, -- also the directory name under <data-dir>/repos/
    source      TEXT NOT NULL,        -- where it was imported from, for the record
    imported_by BIGINT REFERENCES users (id),
    imported_at BIGINT NOT NULL
);

CREATE TABLE pins (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id BIGINT NOT NULL REFERENCES repositories (id),
    commit_id     TEXT NOT NULL,
    tree_id       TEXT NOT NULL, -- the commit's root tree, stored so browsing never resolves a ref
    label         TEXT NOT NULL,
    pinned_by     BIGINT REFERENCES users (id),
    pinned_at     BIGINT NOT NULL,
    withdrawn_at  BIGINT
);

-- One row per reviewer and pin; granting several pins at once writes several rows in one transaction.
CREATE TABLE grants (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    reviewer_id BIGINT NOT NULL REFERENCES users (id),
    pin_id      BIGINT NOT NULL REFERENCES pins (id),
    starts_at   BIGINT NOT NULL,
    ends_at     BIGINT NOT NULL,
    granted_by  BIGINT REFERENCES users (id),
    granted_at  BIGINT NOT NULL,
    revoked_at  BIGINT,
    revoked_by  BIGINT REFERENCES users (id)
);
CREATE INDEX grants_by_reviewer ON grants (reviewer_id, pin_id);

-- The audit log. `idx` is the leaf's position in the RFC 6962 Merkle tree (0-based, no gaps);
-- `leaf` holds the exact bytes that were hashed. The other columns are copies for filtering.
CREATE TABLE audit_events (
    idx         BIGINT PRIMARY KEY,
    leaf        BYTEA NOT NULL,
    leaf_hash   BYTEA NOT NULL,
    recorded_at BIGINT NOT NULL,
    actor       TEXT,
    action      TEXT NOT NULL,
    pin_id      BIGINT,
    path        TEXT,
    outcome     TEXT NOT NULL
);
CREATE INDEX audit_events_by_actor ON audit_events (actor, idx);
CREATE INDEX audit_events_by_pin ON audit_events (pin_id, idx);
CREATE INDEX audit_events_by_action ON audit_events (action, idx);

-- The log's head: size, root and the compact range (frontier) that makes each append O(log n).
-- Exactly one row. Appends first run a no-op UPDATE on it, which takes the row lock that
-- serialises appenders across server instances.
CREATE TABLE log_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    size     BIGINT NOT NULL,
    root     BYTEA NOT NULL,
    frontier BYTEA NOT NULL -- concatenated 32-byte subtree roots, largest subtree first
);
INSERT INTO log_state (id, size, root, frontier)
VALUES (1, 0, '\xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'::bytea, ''::bytea);

CREATE FUNCTION clearroom_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER log_state_no_delete BEFORE DELETE OR TRUNCATE ON log_state
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();

-- The log may only grow, and a new size must come with a new entry at every index below it.
CREATE FUNCTION clearroom_log_only_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.size < OLD.size
       OR (NEW.size = OLD.size AND (NEW.root <> OLD.root OR NEW.frontier <> OLD.frontier))
       OR (NEW.size > OLD.size AND (SELECT COUNT(*) FROM audit_events
                                    WHERE idx >= OLD.size AND idx < NEW.size) <> NEW.size - OLD.size)
    THEN
        RAISE EXCEPTION 'the audit log only grows by appending';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER log_state_only_grows BEFORE UPDATE ON log_state
FOR EACH ROW EXECUTE FUNCTION clearroom_log_only_grows();

-- Hashes of the perfect subtrees completed by appends: node (level, idx) covers leaves
-- [idx * 2^level, (idx + 1) * 2^level). Level 0 is audit_events.leaf_hash and is not repeated here.
-- Proofs read O(log n) of these rows instead of rehashing the log.
CREATE TABLE merkle_nodes (
    level INTEGER NOT NULL,
    idx   BIGINT NOT NULL,
    hash  BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);

-- Every checkpoint the server signed (signed-note text), so that it never signs one inconsistent
-- with an earlier one, and so that regulators can fetch old ones.
CREATE TABLE checkpoints (
    size      BIGINT PRIMARY KEY,
    root      BYTEA NOT NULL,
    note      TEXT NOT NULL,
    signed_at BIGINT NOT NULL
);

CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON merkle_nodes
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON checkpoints
FOR EACH STATEMENT EXECUTE FUNCTION clearroom_append_only();

CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    data        BYTEA NOT NULL,
    expiry_date BIGINT NOT NULL -- seconds since the Unix epoch
);
CREATE INDEX sessions_by_expiry ON sessions (expiry_date);
